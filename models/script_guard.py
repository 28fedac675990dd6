"""Is this text line Chinese (or Japanese, Korean)? A tiny CNN on the line's grey strip.

Why: ``granularity='auto'`` cuts the lines of scene photos into words at the gaps of the
probability map, the ICDAR convention for Latin scene text. Chinese is labelled, read and
expected by line: a space inside "可乐净含量 250g" separates phrases, not words, and the
map dips there just as it does between two English words (the map carries no script: a
measured dead end, weights/MODEL_CARD.md). So before a line is cut, this classifier looks
at its pixels, and a CJK line stays whole.

The network (``STRIP_HEIGHT`` x width grey strip -> probability of CJK) is four 3x3
convolutions with ReLU and 2x2 max-pooling, global average pooling and one logit; its
weights (``weights/script_guard.npz``, about 100 kB) come from
``scripts/train_script_guard.py`` (renders, whose text is known, and real Latin photos),
and it runs here in numpy: a few strips per image, well under a millisecond each.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

STRIP_HEIGHT = 32
#: Strips longer than this (in pixels at ``STRIP_HEIGHT``) are cut to their centre.
MAX_STRIP_WIDTH = 256
#: Shorter strips are padded with the mean (zero) to this width, as in training.
MIN_STRIP_WIDTH = 128
#: Convolution widths of the four stages.
CHANNELS = (8, 16, 32, 48)
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "script_guard.npz"


def line_strip(gray: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The line ``quad`` (4x2, ``gray``'s pixels) straightened to a ``STRIP_HEIGHT``-high
    strip along its long side, standardised (zero mean, unit spread); None when degenerate."""
    p = np.asarray(quad, np.float32).reshape(4, 2)
    if np.linalg.norm(p[2] - p[1]) > np.linalg.norm(p[1] - p[0]):
        p = np.roll(p, -1, axis=0)
    length = float(np.linalg.norm(p[1] - p[0]))
    height = float(np.linalg.norm(p[2] - p[1]))
    if height < 2 or length < 2:
        return None
    width = max(STRIP_HEIGHT, int(round(STRIP_HEIGHT * length / height)))
    target = np.float32([[0, 0], [width, 0], [width, STRIP_HEIGHT], [0, STRIP_HEIGHT]])
    matrix = cv2.getPerspectiveTransform(p, target)
    flags = cv2.INTER_AREA if height > STRIP_HEIGHT else cv2.INTER_LINEAR
    strip = cv2.warpPerspective(gray, matrix, (width, STRIP_HEIGHT), flags=flags,
                                borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    if width > MAX_STRIP_WIDTH:
        start = (width - MAX_STRIP_WIDTH) // 2
        strip = strip[:, start:start + MAX_STRIP_WIDTH]
    strip = (strip - strip.mean()) / (strip.std() + 8.0)
    if strip.shape[1] < MIN_STRIP_WIDTH:
        strip = np.pad(strip, ((0, 0), (0, MIN_STRIP_WIDTH - strip.shape[1])))
    return strip


def _conv3x3_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x`` (C, H, W), ``w`` (O, C, 3, 3): same-padded convolution plus bias, then ReLU,
    as one matrix product over the nine shifted copies of ``x`` (im2col)."""
    c, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.stack([padded[:, dy:dy + h, dx:dx + wd] for dy in range(3) for dx in range(3)], axis=1)
    out = w.reshape(w.shape[0], c * 9) @ cols.reshape(c * 9, h * wd)
    out += b[:, None]
    return np.maximum(out, 0.0, out=out).reshape(w.shape[0], h, wd)


def _pool2(x: np.ndarray) -> np.ndarray:
    """2x2 max-pooling (odd edges dropped), as four strided views: numpy's multi-axis max is slow."""
    c, h, w = x.shape
    x = x[:, :h - h % 2, :w - w % 2]
    return np.maximum(np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2]), np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]))


class ScriptGuard:
    """Probability that a line is CJK text, from its pixels (numpy forward pass)."""

    def __init__(self, weights: Dict[str, np.ndarray]) -> None:
        self.convs = [(weights[f"conv{i}.weight"].astype(np.float32), weights[f"conv{i}.bias"].astype(np.float32))
                      for i in range(len(CHANNELS))]
        self.fc_w = weights["fc.weight"].astype(np.float32).reshape(-1)
        self.fc_b = float(weights["fc.bias"].reshape(-1)[0])

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> "ScriptGuard":
        with np.load(path) as data:
            return cls({k: data[k] for k in data.files})

    def strip_probability(self, strip: np.ndarray) -> float:
        x = strip[None].astype(np.float32)
        for i, (w, b) in enumerate(self.convs):
            x = _conv3x3_relu(x, w, b)
            if i < len(self.convs) - 1:
                x = _pool2(x)
        logit = float(x.mean(axis=(1, 2)) @ self.fc_w + self.fc_b)
        return 1.0 / (1.0 + np.exp(-logit))

    def cjk_probability(self, gray: np.ndarray, quads: Sequence[np.ndarray]) -> List[float]:
        """One probability per quad (0 for a degenerate one, which is then cut as Latin)."""
        out = []
        for quad in quads:
            strip = line_strip(gray, quad)
            out.append(0.0 if strip is None else self.strip_probability(strip))
        return out


def torch_network():
    """The same network in ``torch.nn`` (for training; ``scripts/train_script_guard.py``)."""
    import torch.nn as nn
    layers, c_in = [], 1
    for i, c in enumerate(CHANNELS):
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
        if i < len(CHANNELS) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 1))


@functools.lru_cache(maxsize=2)
def load_guard(path: str = str(DEFAULT_WEIGHTS)) -> ScriptGuard:
    """The shipped guard, loaded once per process."""
    return ScriptGuard.load(path)
