"""Rebuild the street-photo samples of ``scripts/mixes/street_train_samples.txt`` as evaluate
folders (``data_cache/<set>/test_images`` linked, ``test_gts`` copied), for
``bench.tune_postprocess --data data_cache/<set> --split test``.

Why: the 100 validation photos alone could not tell inference choices apart (the mirror look
gained 2.2 points there and lost on 399 other photos), so such choices are also measured on
these training photos, which the network scores like new ones (weights/TRAINING_LOG.md).

    .venv/bin/python scripts/build_street_samples.py [--source ../shared/datasets/icdar2015_train]
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "scripts" / "mixes" / "street_train_samples.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "icdar2015_train",
                    help="the ICDAR 2015 training folder (train_images, train_gts)")
    ap.add_argument("--output", type=Path, default=ROOT / "data_cache")
    args = ap.parse_args()
    rows = [line.split() for line in LIST.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for name, image in rows:
        src = args.source / "train_images" / image
        gt = args.source / "train_gts" / f"gt_{Path(image).stem}.txt"
        if not src.is_file() or not gt.is_file():
            raise SystemExit(f"{src} or {gt} is missing: is --source the ICDAR 2015 training folder?")
        images, gts = args.output / name / "test_images", args.output / name / "test_gts"
        images.mkdir(parents=True, exist_ok=True)
        gts.mkdir(parents=True, exist_ok=True)
        if not (images / image).exists():
            (images / image).symlink_to(src.resolve())
        shutil.copyfile(gt, gts / gt.name)
    for name in sorted({n for n, _ in rows}):
        print(f"{args.output / name}: {sum(1 for n, _ in rows if n == name)} photos")


if __name__ == "__main__":
    main()
