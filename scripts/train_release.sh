#!/usr/bin/env bash
# Reproduce (or continue) the release training of weights/db_resnet18.safetensors.
#
#   bash scripts/train_release.sh [RUN] [MAX_STEPS]      (defaults: release_v1, 2200)
#
# 1. Renders the training and validation sets when they are missing (deterministic for the
#    seeds below on a machine with the same fonts, Chromium, PDFs and wallpapers; see
#    weights/MODEL_CARD.md for the packages).
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

train_mix=document=0.12,receipt=0.13,invoice=0.08,id_card=0.06,screenshot=0.07,packaging=0.08,scene=0.14,negative=0.09,html=0.14,pdf=0.09
test_mix=document=0.15,receipt=0.15,invoice=0.12,id_card=0.1,screenshot=0.1,packaging=0.1,scene=0.13,negative=0.05,html=0.06,pdf=0.04
# Rendering keeps images already present, so these only fill in what is missing.
$py -m app synth --count 6200 --output "$data" --workers 2 --seed 0 --mix "$train_mix"
$py -m app synth --count 200 --split test --output "$data" --workers 2 --seed 1000 --mix "$test_mix"

common=(--data "$data" --optimizer adam --warmup-steps 100 --max-steps "$max_steps" --input-size 384
        --batch-size 8 --workers 1 --checkpoint-every 100 --eval-limit 100 --workdir "workdirs/$run")
if [ -f "workdirs/$run/checkpoint.pt" ]; then
    exec $py -m app train "${common[@]}" --lr 1e-3 --resume
elif [ -f weights/db_resnet18.safetensors ]; then
    exec $py -m app train "${common[@]}" --lr 3e-4 --init weights/db_resnet18.safetensors
else
    exec $py -m app train "${common[@]}" --lr 1e-3
fi
