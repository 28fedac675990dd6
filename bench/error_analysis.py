"""Where a detector loses hmean on a labelled set: recall by text height, and what the
unmatched detections are. It tells the next training run what to work on (small words:
larger crops or scales; merged words: granularity; background: hard negatives).

    .venv/bin/python -m bench.error_analysis --data data_cache/val_release2 --split icdar2015 \\
        --predictions outputs/val_icdar_release/icdar

``--predictions`` is a folder of ``res_<stem>.txt`` files (what ``python -m app detect DIR
--output OUT`` writes under ``OUT/icdar``). Matching is the ICDAR-2015 protocol's (IoU > 0.5,
one-to-one, highest IoU first, ``###`` regions don't care), so the totals equal
``python -m app evaluate --predictions``. Text height is the short side of a region's
minimum-area rectangle, in pixels of the original image.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

from app.measure.tables import markdown_table
from models.data.icdar import read_gt
from models.metrics import _poly

HEIGHT_BINS = (0, 8, 12, 16, 24, 32, 48, 10_000)


@dataclass
class Outcome:
    """One image's ground truth heights with their fate, and its unmatched detections by kind."""

    gt_heights: List[float]
    gt_matched: List[bool]
    gt_partial: List[bool]          # unmatched, but some detection overlaps it with IoU 0.1-0.5
    fp_kinds: Dict[str, int]


def text_height(points: np.ndarray) -> float:
    (_, _), (w, h), _ = cv2.minAreaRect(points.astype(np.float32).reshape(-1, 2))
    return float(min(w, h))


def read_predictions(path: Path) -> List[np.ndarray]:
    """``x1,y1,...,x4,y4[,score]`` per line (the score, if any, is dropped)."""
    if not path.is_file():
        return []
    boxes = []
    for line in path.read_text().splitlines():
        values = [float(v) for v in line.strip().split(",")[:8] if v.strip()]
        if len(values) == 8:
            boxes.append(np.array(values).reshape(4, 2))
    return boxes


def _iou(a, b) -> float:
    if a is None or b is None or not a.intersects(b):
        return 0.0
    inter = a.intersection(b).area
    return inter / (a.area + b.area - inter)


def analyse_image(preds: Sequence[np.ndarray], gt_points: Sequence[np.ndarray], ignore: Sequence[bool],
                  iou_thresh: float = 0.5) -> Outcome:
    gt_polys = [_poly(g) for g in gt_points]
    care = [i for i, (p, ig) in enumerate(zip(gt_polys, ignore)) if not ig and p is not None]
    dont_care = [p for p, ig in zip(gt_polys, ignore) if ig and p is not None]
    pred_polys = []
    fp = {"inside don't-care": 0, "background": 0, "on text, IoU <= 0.5": 0}
    for pr in preds:
        p = _poly(pr)
        if p is None:
            continue
        if dont_care and any(p.intersection(d).area / p.area > 0.5 for d in dont_care):
            fp["inside don't-care"] += 1       # not counted by the protocol either
            continue
        pred_polys.append(p)
    ious = np.array([[_iou(p, gt_polys[g]) for g in care] for p in pred_polys]).reshape(len(pred_polys), len(care))
    pairs = sorted(((ious[i, j], i, j) for i in range(len(pred_polys)) for j in range(len(care))
                    if ious[i, j] > iou_thresh), reverse=True)
    used_p, used_g = set(), set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
    for i, p in enumerate(pred_polys):
        if i in used_p:
            continue
        on_text = any(_iou(p, g) > 0.0 for g in gt_polys if g is not None)
        fp["on text, IoU <= 0.5" if on_text else "background"] += 1
    heights = [text_height(gt_points[g]) for g in care]
    matched = [j in used_g for j in range(len(care))]
    partial = [not m and bool(len(pred_polys)) and float(ious[:, j].max()) > 0.1 for j, m in enumerate(matched)]
    return Outcome(heights, matched, partial, fp)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with test_images/ and test_gts/")
    ap.add_argument("--split", default="", help="subfolder of test_gts/ (one source of an exported mix)")
    ap.add_argument("--predictions", type=Path, required=True, help="folder of res_<stem>.txt files")
    args = ap.parse_args(argv)
    gt_dir = args.data / "test_gts" / args.split
    gt_files = sorted(gt_dir.glob("gt_*.txt"))
    if not gt_files:
        raise SystemExit(f"no gt_*.txt files in {gt_dir}")
    outcomes = []
    for gt_file in gt_files:
        regions = read_gt(gt_file)
        stem = gt_file.stem[len("gt_"):]
        preds = read_predictions(args.predictions / f"res_{stem}.txt")
        outcomes.append(analyse_image(preds, [np.asarray(r.points) for r in regions],
                                      [r.ignore for r in regions]))
    heights = np.array([h for o in outcomes for h in o.gt_heights])
    matched = np.array([m for o in outcomes for m in o.gt_matched])
    partial = np.array([p for o in outcomes for p in o.gt_partial])
    rows = []
    for lo, hi in zip(HEIGHT_BINS[:-1], HEIGHT_BINS[1:]):
        sel = (heights >= lo) & (heights < hi)
        n = int(sel.sum())
        label = f"{lo}-{hi} px" if hi < 10_000 else f">= {lo} px"
        rows.append([label, n, f"{n / max(1, len(heights)):.0%}",
                     f"{matched[sel].mean():.2f}" if n else "-", f"{partial[sel].mean():.2f}" if n else "-"])
    rows.append(["all", len(heights), "100%", f"{matched.mean():.2f}", f"{partial.mean():.2f}"])
    print(f"{len(outcomes)} images, {len(heights)} text regions that count, from {gt_dir}")
    print(markdown_table(("text height", "regions", "share", "recall", "found, IoU 0.1-0.5"), rows))
    kinds: Dict[str, int] = {}
    for o in outcomes:
        for k, v in o.fp_kinds.items():
            kinds[k] = kinds.get(k, 0) + v
    in_dont_care = kinds["inside don't-care"]
    counted = int(matched.sum()) + kinds["background"] + kinds["on text, IoU <= 0.5"]
    print(f"\ndetections: {counted} counted ({int(matched.sum())} matched, precision "
          f"{matched.sum() / max(1, counted):.3f}), plus {in_dont_care} "
          f"inside don't-care regions")
    print(markdown_table(("unmatched detection", "count"), [[k, v] for k, v in kinds.items()]))


if __name__ == "__main__":
    main()
