"""Write the held-out validation images of a training mix as one folder that `evaluate` reads.

Each source becomes a category, so `python -m app evaluate --by-category` prints the
per-source table of the model card, and any other detector (the PP-OCRv4 peer in
bench/peer_detect.py) is scored on exactly the same images:

    .venv/bin/python -m bench.export_validation scripts/mixes/release2.toml --output data_cache/val_release2
    .venv/bin/python -m app evaluate --data data_cache/val_release2 --by-category

Layout: ``OUTPUT/test_images/<source>/<name>`` (links to the originals, copies where links
fail) and ``OUTPUT/test_gts/<source>/gt_<stem>.txt`` in ICDAR-2015 form (ICDAR 2013 boxes
and PaddleOCR labels converted), plus ``OUTPUT/split.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from models.data.icdar import IGNORE_TEXT, format_gt
from models.data.mix import load_sources, resolve_sources, split_record


def _place(src: Path, dst: Path) -> None:
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    try:
        os.symlink(src.resolve(), dst)
    except OSError:
        shutil.copy2(src, dst)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", help="mix file(s) or DIR[:WEIGHT] as for `train --data`")
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    sources, seed = resolve_sources(args.data)
    loaded = load_sources(sources, seed)
    out = Path(args.output)
    for ls in loaded:
        if not ls.val:
            continue
        img_dir = out / "test_images" / ls.source.label
        gt_dir = out / "test_gts" / ls.source.label
        img_dir.mkdir(parents=True, exist_ok=True)
        gt_dir.mkdir(parents=True, exist_ok=True)
        for s in ls.val:
            _place(s.image_path, img_dir / s.image_path.name)
            regions = [(r.points, IGNORE_TEXT if r.ignore else (r.text or "text")) for r in s.regions]
            (gt_dir / f"gt_{s.image_path.stem}.txt").write_text(format_gt(regions), encoding="utf-8")
        print(f"{ls.source.label}: {len(ls.val)} validation images")
    (out / "split.json").write_text(json.dumps(split_record(loaded, seed), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
