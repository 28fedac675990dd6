"""Phone-photo-sized JPEGs: decoding at reduced scale (PIL ``draft``) against the full decode.

Users send 12-megapixel phone photos and 300-dpi scans, while the network sees 1280 pixels on
the long side; :func:`models.preprocess.load_image_for_detection` lets libjpeg decode such a
JPEG at 1/2, 1/4 or 1/8 scale, never below that size. The validation splits hold no image that
large, so this bench enlarges validation images (bicubic, to a short side of ``--short-side``,
saved as JPEG quality 92 under ``data_cache/large_jpeg``, ground truth scaled with them) and
runs each one both ways with the same detector:

* ``full``: ``load_image`` (the whole JPEG) handed to ``detect`` as an array;
* ``reduced``: ``detect(path)``, the default path.

It prints decode milliseconds, seconds per image from file to boxes, and hmean per split
(ICDAR-2015 matching at IoU 0.5). Never a test; pause background jobs while measuring.

    .venv/bin/python -m bench.large_jpeg_decode [--data data_cache/val_release2] [--categories icdar2015,wildreceipt]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from app.measure.tables import markdown_table
from models import TextDetector
from models.evaluation import find_labelled
from models.metrics import match_image, summarize_counts
from models.preprocess import load_image, load_image_for_detection

ROOT = Path(__file__).resolve().parent.parent


def enlarge(src: Path, dst: Path, short_side: int) -> float:
    """Write ``src`` enlarged to ``short_side`` as a JPEG at ``dst`` (once); returns the factor."""
    with Image.open(src) as im:
        im = im.convert("RGB")
        factor = short_side / min(im.size)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            size = (round(im.width * factor), round(im.height * factor))
            im.resize(size, Image.BICUBIC).save(dst, "JPEG", quality=92)
    return factor


def run(data: Path, categories: Sequence[str], short_side: int, limit: int, out: Path) -> List[List[str]]:
    labelled, _ = find_labelled(data)
    det = TextDetector()
    cfg = det.config
    rows = []
    for category in categories:
        items = [item for item in labelled if item.category == category][:limit]
        if not items:
            raise SystemExit(f"no labelled images of category {category!r} under {data}")
        stats: Dict[str, Dict[str, list]] = {k: {"decode": [], "seconds": [], "counts": []} for k in ("full", "reduced")}
        sizes = []
        for item in items:
            path = out / category / f"{item.sample.image_path.stem}.jpg"
            factor = enlarge(item.sample.image_path, path, short_side)
            gts = [np.asarray(p, np.float64) * factor for p in item.sample.polygons]
            t0 = time.perf_counter()
            full = load_image(path)
            t1 = time.perf_counter()
            reduced, _ = load_image_for_detection(path, cfg)
            t2 = time.perf_counter()
            sizes.append((full.shape[1], full.shape[0], reduced.shape[1], reduced.shape[0]))
            stats["full"]["decode"].append(t1 - t0)
            stats["reduced"]["decode"].append(t2 - t1)
            t3 = time.perf_counter()
            by_full = det.detect(load_image(path))
            t4 = time.perf_counter()
            by_path = det.detect(str(path))
            t5 = time.perf_counter()
            for key, result, seconds in (("full", by_full, t4 - t3), ("reduced", by_path, t5 - t4)):
                stats[key]["seconds"].append(seconds)
                stats[key]["counts"].append(match_image([b.astype(np.float64) for b in result.boxes], gts,
                                                        item.sample.ignore))
        fw, fh, rw, rh = sizes[len(sizes) // 2]
        for key in ("full", "reduced"):
            summary = summarize_counts(stats[key]["counts"])
            rows.append([category, key, str(len(items)), f"{fw}x{fh}" if key == "full" else f"{rw}x{rh}",
                         f"{1000 * statistics.median(stats[key]['decode']):.0f}",
                         f"{statistics.median(stats[key]['seconds']):.3f}",
                         f"{summary['precision']:.3f} / {summary['recall']:.3f}", f"{summary['hmean']:.3f}"])
            print(rows[-1], flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data_cache" / "val_release2")
    ap.add_argument("--categories", default="icdar2015,wildreceipt")
    ap.add_argument("--short-side", type=int, default=3024, help="short side of the enlarged JPEGs (3024: 12 MP at 4:3)")
    ap.add_argument("--limit", type=int, default=50, help="images per split")
    ap.add_argument("--out", type=Path, default=ROOT / "data_cache" / "large_jpeg")
    args = ap.parse_args(argv)
    rows = run(args.data, [c for c in args.categories.split(",") if c], args.short_side, args.limit, args.out)
    print(markdown_table(("split", "decode", "images", "decoded size (median image)", "decode ms (median)",
                          "file to boxes s (median)", "P / R", "hmean"), rows))


if __name__ == "__main__":
    main()
