#!/usr/bin/env bash
# Issue #12.6, what a user's folder run gets on a lent GPU: `python -m app detect FOLDER --engine gpu`
# (files to JSON, pictures and ICDAR files on disk, every file fsynced) against the local engine on CUDA.
# Staged as for bench_gpu_stream.sh (carry .dev_stage_bench and .whl); the 200 street photos are
# copied 15 times (3,000 files) on the machine.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi -L; nproc; df -h /tmp | tail -1
mkdir -p /tmp/big /tmp/small
for i in $(seq -w 1 15); do mkdir -p /tmp/big/c$i && cp .dev_stage_bench/street/*.jpg /tmp/big/c$i/; done
for i in 1 2 3; do mkdir -p /tmp/small/c$i && cp .dev_stage_bench/street/*.jpg /tmp/small/c$i/; done
python3 -m app detect .dev_stage_bench/val/test_images -o /tmp/warm --engine gpu --no-progress > /dev/null 2>&1   # cuDNN, page cache
wall() { local t0=$(date +%s.%N); "$@" 2>&1 | grep -v "^backend" | tee -a "$OUT/cli_gpu.md"
          echo "wall $(python3 -c 'import sys; print(round(float(sys.argv[1]) - float(sys.argv[2]), 1))' "$(date +%s.%N)" "$t0") s: $*" | tee -a "$OUT/cli_gpu.md"; }
for run in 1 2; do
  rm -rf /tmp/out_gpu
  wall python3 -m app detect /tmp/big -o /tmp/out_gpu --engine gpu --no-progress
done
echo "json $(ls /tmp/out_gpu/json | wc -l) icdar $(ls /tmp/out_gpu/icdar | wc -l)"
wall python3 -m app detect /tmp/small -o /tmp/out_local --no-progress
