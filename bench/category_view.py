"""Group a rendered split by category (symlinks) so `python -m app evaluate --by-category`
prints the seed-style per-category table:

    .venv/bin/python -m bench.category_view data_cache/synth_v1 test data_cache/synth_v1_by_category
    .venv/bin/python -m app evaluate --data data_cache/synth_v1_by_category --by-category
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(root: str, split: str, out: str) -> None:
    root_p, out_p = Path(root).resolve(), Path(out)
    cats = json.loads((root_p / f"{split}_categories.json").read_text(encoding="utf-8"))
    images, gts = out_p / "images", out_p / "gts"
    gts.mkdir(parents=True, exist_ok=True)
    for name, cat in sorted(cats.items()):
        src = root_p / f"{split}_images" / f"{name}.jpg"
        dst = images / cat / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            dst.symlink_to(src)
        gt_dst = gts / f"gt_{name}.txt"
        if not gt_dst.exists():
            gt_dst.symlink_to(root_p / f"{split}_gts" / f"gt_{name}.txt")
    print(f"{len(cats)} images in {len(set(cats.values()))} categories under {out_p}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
