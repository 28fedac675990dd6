#!/usr/bin/env bash
# Reproduce (or continue) the release training of weights/db_resnet18.safetensors.
#
#   bash scripts/train_release.sh [RUN] [MAX_STEPS]      (defaults: release_v1, 2200)
#
# 1. Renders the training and validation sets when they are missing (deterministic for the
#    seeds below on a machine with the same fonts, Chromium, PDFs and wallpapers; see
#    weights/TRAINING_LOG.md, "Release 1", for the packages).
# 2. Resumes workdirs/RUN/checkpoint.pt when it exists; otherwise starts RUN from the released
#    weights (a new run, fine-tuning what shipped), or from scratch when there are none.
# Runs in the foreground; put it in the background with nohup. SIGTERM or Ctrl-C saves a
# checkpoint after the current step, so the same command continues later.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure_venv.sh requirements.txt
run="${1:-release_v1}"
max_steps="${2:-2200}"
data=data_cache/synth_v2
py=.venv/bin/python

bash scripts/render_release_data.sh 6200 200   # keeps images already present

common=(--data "$data" --optimizer adam --warmup-steps 100 --max-steps "$max_steps" --input-size 384
        --batch-size 8 --workers 1 --checkpoint-every 100 --eval-limit 100 --workdir "workdirs/$run")
if [ -f "workdirs/$run/checkpoint.pt" ]; then
    exec $py -m app train "${common[@]}" --lr 1e-3 --resume
elif [ -f weights/db_resnet18.safetensors ]; then
    exec $py -m app train "${common[@]}" --lr 3e-4 --init weights/db_resnet18.safetensors
else
    exec $py -m app train "${common[@]}" --lr 1e-3
fi
