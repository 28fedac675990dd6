"""Validation during training: the evaluation engine (:mod:`models.evaluation`) on each
source's held-out images.

Scoring goes through ``TextDetector`` (same preprocessing, size policy and
post-processing as users get) and the same loop and matcher as `python -m app evaluate`,
so the numbers in a training log are the numbers evaluate prints for the same weights
and images.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Sequence

import numpy as np
import torch

from .config import DetectorConfig
from .data.mix import LoadedSource
from .detector import TextDetector
from .evaluation import Labelled, evaluate_detector, labelled_samples
from .metrics import summarize_counts
from .progress import ProgressFn


@torch.no_grad()
def evaluate_sources(model: torch.nn.Module, sources: Sequence[LoadedSource],
                     det_cfg: DetectorConfig | None = None, device: str = "cpu",
                     progress: ProgressFn | None = None) -> Dict[str, Any]:
    """P/R/hmean over all validation images, and per source under ``per_source`` when
    there are several; then ``hmean`` is the mean over sources, so a large source cannot
    hide a regression on a small one. The model is copied: training state is untouched.
    ``progress`` is called after each image (the trainer raises from it to cancel)."""
    net = copy.deepcopy(model).float().eval()
    return evaluate_detector_on_sources(TextDetector.from_model(net, det_cfg or DetectorConfig(), device), sources,
                                        progress)


def evaluate_detector_on_sources(detector: Any, sources: Sequence[LoadedSource],
                                 progress: ProgressFn | None = None) -> Dict[str, Any]:
    """The same numbers as :func:`evaluate_sources` for any detector (the WebUI scores the
    served model on a training run's validation split with it)."""
    with_val = [ls for ls in sources if ls.val]
    labelled: List[Labelled] = [item for ls in with_val for item in labelled_samples(ls.val, ls.source.label)]
    scores = evaluate_detector(detector, labelled, progress=progress)
    per_source: Dict[str, Dict[str, float]] = {}
    for ls in with_val:
        counts = [s.counts for s in scores if s.category == ls.source.label]
        per_source[ls.source.label] = {k: round(v, 4) for k, v in summarize_counts(counts).items()}
    result: Dict[str, Any] = dict(summarize_counts([s.counts for s in scores]))
    if len(per_source) > 1:
        result["hmean"] = float(np.mean([m["hmean"] for m in per_source.values()]))
        result["per_source"] = per_source
    return result
