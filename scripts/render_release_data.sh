#!/usr/bin/env bash
# Render the release training renders into data_cache/synth_v2 (only what is missing).
#
#   bash scripts/render_release_data.sh TRAIN_COUNT TEST_COUNT
#
# One place for the release mixes and seeds: image i is the same for a seed and mix on a
# machine with the same fonts, Chromium and PDFs, so a smaller count is the first images of
# a larger one (release 2 uses the first 2,000 of release 1's 6,200).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
train_count="${1:?train count}"
test_count="${2:?test count}"
py=.venv/bin/python
data=data_cache/synth_v2
train_mix=document=0.12,receipt=0.13,invoice=0.08,id_card=0.06,screenshot=0.07,packaging=0.08,scene=0.14,negative=0.09,html=0.14,pdf=0.09
test_mix=document=0.15,receipt=0.15,invoice=0.12,id_card=0.1,screenshot=0.1,packaging=0.1,scene=0.13,negative=0.05,html=0.06,pdf=0.04
$py -m app synth --count "$train_count" --output "$data" --workers 2 --seed 0 --mix "$train_mix"
$py -m app synth --count "$test_count" --split test --output "$data" --workers 2 --seed 1000 --mix "$test_mix"
