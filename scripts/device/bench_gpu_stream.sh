#!/usr/bin/env bash
# Issue #12.6 on a lent GPU (the device tool): the network alone, the GpuStream end to end
# (nvJPEG and CPU decode), the old detect_many path, and the hmean of both paths. Staged
# here first (git-ignored, ~28 MB; the pyclipper and shapely wheels in .whl, see
# /work/.library/device/README.md):
#   .dev_stage_bench/val      the 100 ICDAR 2015 validation holdouts (scripts/mixes/release2.toml), gts too
#   .dev_stage_bench/street   200 other ICDAR 2015 training photos (1280x720 JPEG), cycled to LIMIT files
# made by (after `.venv/bin/python -m bench.export_validation scripts/mixes/release2.toml --output data_cache/val_release2`):
#   v=.dev_stage_bench/val; mkdir -p $v/test_images $v/test_gts .dev_stage_bench/street
#   cp -L data_cache/val_release2/test_images/icdar2015/* $v/test_images/; cp -L data_cache/val_release2/test_gts/icdar2015/* $v/test_gts/
#   ls ../shared/datasets/icdar2015_train/train_images | sort | while read f; do [ -e $v/test_images/$f ] || echo $f; done \
#     | head -200 | while read f; do cp ../shared/datasets/icdar2015_train/train_images/$f .dev_stage_bench/street/; done
# then, with carry [".dev_stage_bench", ".whl"]:
#   bash scripts/device/bench_gpu_stream.sh
# BATCHES='' skips the forward table, E2E='' the detect_many rows, EXTRA='' the CPU-decode stream rows.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi -L; nproc; df -h /dev/shm | tail -1; free -g | head -2
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
timeout -s TERM "${BENCH_S:-300}" python3 -m bench.gpu_throughput --batches "${BATCHES-1,16,64}" --runs 10 --warmup 3 \
  --labelled .dev_stage_bench/val --images .dev_stage_bench/street --limit "${LIMIT:-3000}" --repeat \
  --stream-batches "${STREAM_BATCHES:-32,64}" --e2e-batches "${E2E-32}" --e2e-limit 512 ${EXTRA---stream-cpu-decode} \
  2>&1 | tee "$OUT/gpu_stream.md"
echo "bench exit ${PIPESTATUS[0]}"
