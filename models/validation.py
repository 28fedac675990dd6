"""Validation during training: the inference pipeline on each source's held-out images.

Scoring goes through ``TextDetector`` (same preprocessing, size policy and
post-processing as users get) and the ICDAR-2015 matcher of :mod:`models.metrics`, so the
numbers in a training log are the numbers `python -m app evaluate` prints for the same
weights and images.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Sequence

import numpy as np
import torch

from .config import DetectorConfig
from .data.mix import LoadedSource
from .detector import TextDetector
from .metrics import DetectionMetric


@torch.no_grad()
def evaluate_sources(model: torch.nn.Module, sources: Sequence[LoadedSource],
                     det_cfg: DetectorConfig | None = None, device: str = "cpu") -> Dict[str, Any]:
    """P/R/hmean over all validation images, and per source under ``per_source`` when
    there are several; then ``hmean`` is the mean over sources, so a large source cannot
    hide a regression on a small one. The model is copied: training state is untouched."""
    net = copy.deepcopy(model).float().eval()
    detector = TextDetector.from_model(net, det_cfg or DetectorConfig(), device)
    per_source: Dict[str, Dict[str, float]] = {}
    total = DetectionMetric()
    for ls in sources:
        if not ls.val:
            continue
        metric = DetectionMetric()
        paths = [str(s.image_path) for s in ls.val]
        for s, res in zip(ls.val, detector.detect_many(paths)):
            boxes = res.boxes if res.success else []
            metric.update(boxes, s.polygons, s.ignore)
            total.update(boxes, s.polygons, s.ignore)
        per_source[ls.source.label] = {k: round(v, 4) for k, v in metric.result().items()}
    result: Dict[str, Any] = dict(total.result())
    if len(per_source) > 1:
        result["hmean"] = float(np.mean([m["hmean"] for m in per_source.values()]))
        result["per_source"] = per_source
    return result
