"""Where a detector loses hmean on a labelled set: recall by text height, and what the
unmatched detections are. It tells the next training run what to work on (small words:
larger crops or scales; merged words: granularity; background: hard negatives).

    .venv/bin/python -m bench.error_analysis --data data_cache/val_release2 --category icdar2015 \\
        --predictions outputs/val_icdar_release

``--data`` and ``--predictions`` are what ``python -m app evaluate --data ... --predictions ...``
takes (a ``python -m app detect DIR --output OUT`` folder, or any folder of ``res_<stem>.txt``
files), read by the same code; ``--category`` keeps one subfolder of the images. Matching is
the protocol's own (``models.metrics.match_polygons``: IoU > 0.5, one-to-one, highest IoU first,
``###`` regions don't care), so the totals equal ``app evaluate``'s. Text height is the short
side of a region's minimum-area rectangle, in pixels of the original image.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from app.measure.evaluation import PredictionFolder
from app.measure.tables import markdown_table
from models.evaluation import find_labelled
from models.metrics import match_polygons, polygon_iou
from models.postprocess import mini_box

HEIGHT_BINS = (0, 8, 12, 16, 24, 32, 48, 10_000)


@dataclass
class Outcome:
    """One image's ground truth heights with their fate, and its unmatched detections by kind."""

    gt_heights: List[float]
    gt_matched: List[bool]
    gt_partial: List[bool]          # unmatched, but some detection overlaps it with IoU 0.1-0.5
    fp_kinds: Dict[str, int]


def analyse_image(preds: Sequence[np.ndarray], gt_points: Sequence[np.ndarray], ignore: Sequence[bool],
                  iou_thresh: float = 0.5) -> Outcome:
    m = match_polygons(preds, gt_points, ignore, iou_thresh)
    matched_p = {pi for pi, _ in m.pairs}
    matched_g = {gi for _, gi in m.pairs}
    fp = {"inside don't-care": m.in_dont_care, "background": 0, "on text, IoU <= 0.5": 0}
    for i, p in enumerate(m.preds):
        if i not in matched_p:
            on_text = any(polygon_iou(p, g) > 0.0 for g in m.care + m.dont_care)
            fp["on text, IoU <= 0.5" if on_text else "background"] += 1
    heights = [mini_box(np.asarray(g.exterior.coords, np.float32))[1] for g in m.care]
    matched = [j in matched_g for j in range(len(m.care))]
    partial = [not hit and any(polygon_iou(p, m.care[j]) > 0.1 for p in m.preds) for j, hit in enumerate(matched)]
    return Outcome(heights, matched, partial, fp)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="labelled folder, as for `app evaluate --data`")
    ap.add_argument("--category", default="", help="only the images of this subfolder (one source of an exported mix)")
    ap.add_argument("--predictions", type=Path, required=True,
                    help="`app detect --output` folder or folder of res_<stem>.txt files")
    args = ap.parse_args(argv)
    try:
        labelled, _ = find_labelled(args.data)
        folder = PredictionFolder(args.predictions)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(str(exc)) from None
    if args.category:
        labelled = [item for item in labelled if item.category == args.category]
    if not labelled:
        raise SystemExit(f"no labelled images in {args.data}" + (f" under {args.category}/" if args.category else ""))
    outcomes = [analyse_image(folder.boxes(item.sample, item.name) or [], item.sample.polygons, item.sample.ignore)
                for item in labelled]
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
    print(f"{len(outcomes)} images, {len(heights)} text regions that count, from {args.data}"
          + (f" ({args.category})" if args.category else ""))
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
