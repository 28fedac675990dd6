"""Shared pieces of the tests of the looks at scene photos (models.mirror, models.zoom): a made-up
script guard, a probability map of one two-word sign, a busy background, a ResizeInfo and a
detector whose backend records what it runs."""
from __future__ import annotations

import cv2
import numpy as np

from models.preprocess import ResizeInfo


class FakeGuard:
    """The script guard, saying every line it is asked about is CJK with probability ``p``."""

    def __init__(self, p: float = 0.0) -> None:
        self.p = p

    def cjk_probability(self, gray, quads):
        return [self.p] * len(quads)


def info(h: int, w: int) -> ResizeInfo:
    """An input of ``h`` x ``w`` that was neither scaled nor padded."""
    return ResizeInfo(h, w, h, w, h, w)


def sign(bridge: float, h: int = 300, w: int = 500) -> np.ndarray:
    """One line of two words, joined between them at ``bridge`` probability."""
    prob = np.zeros((h, w), np.float32)
    prob[130:160, 60:300] = bridge
    prob[130:160, 60:160] = 0.9
    prob[130:160, 200:300] = 0.9
    return prob


def busy(h: int = 300, w: int = 500) -> np.ndarray:
    """A grey background full of edges, so that ``auto`` reads the image by word."""
    small = np.random.default_rng(0).integers(0, 256, (h // 10, w // 10), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def recording_detector(weights, monkeypatch):
    """A PyTorch detector on (random) ``weights`` whose backend records a copy of every input it
    runs, with the second looks' window cue lowered so that a random network's faint map counts
    everywhere. Returns the detector, the list of inputs and the backend's own ``run``."""
    import models.window as window_module
    from models import TextDetector

    det = TextDetector(weights=weights, backend="torch", device="cpu")
    monkeypatch.setattr(window_module, "WINDOW_CUE", -1.0)
    inputs, real = [], det.backend.run
    monkeypatch.setattr(det.backend, "run", lambda b: inputs.append(b.copy()) or real(b))
    return det, inputs, real
