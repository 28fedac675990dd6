"""ICDAR-2015 detection metric: precision, recall, hmean at IoU 0.5.

One-to-one matching of detections to ground truth by IoU (greedy, largest IoU first);
ground truth marked ``###`` is "don't care": it is not counted as a miss, and detections
lying mostly (> 50 % of their area) inside such a region are dropped before matching.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
from shapely.geometry import Polygon
from shapely.validation import make_valid

IOU_THRESH = 0.5   # the ICDAR-2015 protocol: a match needs IoU above this


def _poly(points: Sequence) -> Polygon | None:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        return None
    p = Polygon(pts)
    if not p.is_valid:
        p = make_valid(p)
        if p.geom_type != "Polygon":
            p = p.convex_hull if p.area == 0 else max(getattr(p, "geoms", [p]), key=lambda g: g.area)
    return p if p.area > 0 else None


@dataclass
class ImageCounts:
    matched: int
    num_pred: int   # detections that count (not inside don't-care regions)
    num_gt: int     # ground truth that counts (not ###)


def polygon_iou(a: Polygon | None, b: Polygon | None) -> float:
    """Intersection over union of two polygons (0 when either is missing or they are apart)."""
    if a is None or b is None or not a.intersects(b):
        return 0.0
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


@dataclass
class ImageMatch:
    """The protocol's matching of one image, for callers that need more than the counts
    (``bench.error_analysis``): which detections counted, which ground truth, which pairs."""

    preds: List[Polygon]                    # detections that count (not inside don't-care regions)
    care: List[Polygon]                     # ground truth that counts (valid, not ###)
    dont_care: List[Polygon]
    pairs: List[Tuple[int, int]]            # (index in preds, index in care), one-to-one
    num_gt: int                             # ground truth that counts, invalid polygons included
    in_dont_care: int                       # detections dropped inside don't-care regions


def match_polygons(preds: Sequence[Sequence], gts: Sequence[Sequence], ignore: Sequence[bool] | None = None,
                   iou_thresh: float = IOU_THRESH, ignore_overlap: float = 0.5) -> ImageMatch:
    """Match one image's detections to its ground truth: greedy, largest IoU first, one-to-one."""
    ignore = list(ignore) if ignore is not None else [False] * len(gts)
    gt_polys = [_poly(g) for g in gts]
    care = [p for p, ig in zip(gt_polys, ignore) if not ig and p is not None]
    dont_care = [p for p, ig in zip(gt_polys, ignore) if ig and p is not None]
    num_gt = sum(1 for ig in ignore if not ig)
    pred_polys, dropped = [], 0
    for pr in preds:
        p = _poly(pr)
        if p is None:
            continue
        if dont_care and any(p.intersection(d).area / p.area > ignore_overlap for d in dont_care):
            dropped += 1
            continue
        pred_polys.append(p)
    candidates = []
    for pi, p in enumerate(pred_polys):
        for gi, g in enumerate(care):
            iou = polygon_iou(p, g)
            if iou > iou_thresh:
                candidates.append((iou, pi, gi))
    candidates.sort(reverse=True)
    used_p, used_g, pairs = set(), set(), []
    for _, pi, gi in candidates:
        if pi in used_p or gi in used_g:
            continue
        used_p.add(pi)
        used_g.add(gi)
        pairs.append((pi, gi))
    return ImageMatch(pred_polys, care, dont_care, pairs, num_gt, dropped)


def match_image(preds: Sequence[Sequence], gts: Sequence[Sequence], ignore: Sequence[bool] | None = None,
                iou_thresh: float = IOU_THRESH, ignore_overlap: float = 0.5) -> ImageCounts:
    """Count matches for one image. ``preds`` and ``gts`` are point lists (quads or polygons)."""
    m = match_polygons(preds, gts, ignore, iou_thresh, ignore_overlap)
    return ImageCounts(len(m.pairs), len(m.preds), m.num_gt)


class DetectionMetric:
    """Accumulates :class:`ImageCounts` over a dataset."""

    def __init__(self, iou_thresh: float = IOU_THRESH) -> None:
        self.iou_thresh = iou_thresh
        self.per_image: List[ImageCounts] = []

    def update(self, preds: Sequence[Sequence], gts: Sequence[Sequence],
               ignore: Sequence[bool] | None = None) -> ImageCounts:
        counts = match_image(preds, gts, ignore, self.iou_thresh)
        self.per_image.append(counts)
        return counts

    def result(self) -> Dict[str, float]:
        return summarize_counts(self.per_image)


def summarize_counts(counts: Sequence[ImageCounts]) -> Dict[str, float]:
    matched = sum(c.matched for c in counts)
    n_pred = sum(c.num_pred for c in counts)
    n_gt = sum(c.num_gt for c in counts)
    # Conventions of the ICDAR scripts: nothing to find and nothing found is perfect.
    recall = matched / n_gt if n_gt else (1.0 if n_pred == 0 else 0.0)
    precision = matched / n_pred if n_pred else (1.0 if n_gt == 0 else 0.0)
    hmean = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "hmean": hmean,
            "matched": matched, "detections": n_pred, "ground_truth": n_gt, "images": len(counts)}


def summarize_groups(items: Iterable[Tuple[str, ImageCounts]]) -> Dict[str, Dict[str, float]]:
    """Per-group totals (e.g. image categories), in first-seen order, plus ``all``.

    Each group also gets the seed article's names for the rates: detection rate
    (= recall) and false detection rate (= 1 - precision).
    """
    groups: Dict[str, List[ImageCounts]] = {}
    everything: List[ImageCounts] = []
    for name, counts in items:
        groups.setdefault(name, []).append(counts)
        everything.append(counts)
    out = {name: _with_rates(summarize_counts(c)) for name, c in groups.items()}
    out["all"] = _with_rates(summarize_counts(everything))
    return out


def _with_rates(summary: Dict[str, float]) -> Dict[str, float]:
    summary["detection_rate"] = summary["recall"]
    summary["false_detection_rate"] = 1.0 - summary["precision"]
    return summary

