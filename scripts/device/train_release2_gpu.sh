#!/usr/bin/env bash
# Release-2 GPU stage on a lent machine (the device tool), data staged in /tmp/d by
# scripts/device/stage_release2.py 1 and 2 in the two calls before; this is the third call
# (carry .dev_stage3). Run there as: TRAIN_S=510 STEPS=5000 bash scripts/device/train_release2_gpu.sh
set -u
mkdir -p /tmp/d && rm -rf /tmp/d/renders && mv .dev_stage3/renders /tmp/d/
for s in $(sed -n 's|^path = "/tmp/d/\(.*\)"|\1|p' .dev_stage3/mix.toml); do [ -d /tmp/d/$s ] || { echo "missing /tmp/d/$s"; exit 3; }; done
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi -L; nproc
timeout -s TERM "${TRAIN_S:-400}" python3 -m app train --data .dev_stage3/mix.toml --init weights/db_resnet18.safetensors \
  --optimizer adam --lr 2e-4 --warmup-steps 100 --max-steps "${STEPS:-4000}" --input-size 640 --batch-size 16 \
  --workers 14 --checkpoint-every 500 --eval-every 0 --log-every 50 --workdir /tmp/run > "$OUT/train.log" 2>&1
echo "train exit $?"; tail -5 "$OUT/train.log"
ls -la /tmp/run
cp /tmp/run/log.jsonl "$OUT/" 2>/dev/null
cd /tmp/run && split -b 15M last.safetensors "$OUT/last.safetensors.part_" && ls -la "$OUT"
