#!/usr/bin/env bash
# Release-2 training: real photos and scans (../shared/datasets) mixed with renders.
#
#   bash scripts/train_release2.sh [RUN] [MAX_STEPS] [LR]     (defaults: release2_a, 1000, 5e-4)
#
# 1. Renders the 2,000 training renders and 60 validation renders when missing (the first
#    2,000 of release 1's set: same seed and mix, see weights/TRAINING_LOG.md).
# 2. Resumes workdirs/RUN/checkpoint.pt when it exists; otherwise fine-tunes the released
#    weights. The mix, sampling weights and held-out validation images are in
#    scripts/mixes/release2.toml (split written to workdirs/RUN/split.json).
# SIGTERM or Ctrl-C saves a checkpoint after the current step; the same command continues.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure_venv.sh requirements.txt
run="${1:-release2_a}"
max_steps="${2:-1000}"
lr="${3:-5e-4}"
py=.venv/bin/python
bash scripts/render_release_data.sh 2000 60

common=(--data scripts/mixes/release2.toml --optimizer adam --lr "$lr" --warmup-steps 50 --max-steps "$max_steps"
        --input-size 384 --batch-size 8 --workers 1 --checkpoint-every 100 --eval-every 250 --eval-limit 100
        --workdir "workdirs/$run")
if [ -f "workdirs/$run/checkpoint.pt" ]; then
    exec $py -m app train "${common[@]}" --resume
else
    exec $py -m app train "${common[@]}" --init weights/db_resnet18.safetensors
fi
