"""Inference backends: each runs a batch of normalised images and returns probability maps.

Every backend takes and returns numpy arrays, so the detector's pre- and post-processing
are shared byte for byte between them: ``torch`` (eager PyTorch, :mod:`.torch`) and
``onnx`` (ONNX Runtime on an exported file, :mod:`.onnx`); :mod:`.device` picks the device
and the thread count.
"""
from __future__ import annotations

from typing import Protocol, Tuple

import numpy as np


class Backend(Protocol):
    name: str
    device: str
    fixed_shape: Tuple[int, int] | None   # (H, W) for fixed-shape ONNX models
    max_batch: int

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 -> (N, H, W) float32 probabilities."""
        ...
