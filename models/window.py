"""Where a second look reads: the window around the text the first look found.

Why: the zoom look and the mirror look (:mod:`models.zoom`, :mod:`models.mirror`) only change
boxes where the first look's maps are already near the threshold, so outside the rectangle
around them the first look's maps stand alone and the network need not run. On street photos
the window is about 55 % of the input, and the zoom look's boxes in it score as those of the
whole enlarged image (weights/TRAINING_LOG.md, "The zoom look in a window").

The window holds every pixel of the image (not its padding) where the first look's line or
word map passes :data:`WINDOW_CUE`, a margin wider, grown to a quarter, half, three quarters or
all of each side (:func:`_span`). Framework-free: every backend and the tuning bench share it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .preprocess import STRIDE, ResizeInfo

#: The window holds every pixel where the first look's line or word map passes this: below the
#: detection threshold (0.3), so what the mean of two looks could lift into a box is in.
WINDOW_CUE = 0.2


@dataclass(frozen=True)
class Window:
    """Rows ``y0:y1`` and columns ``x0:x1`` of the padded input (multiples of the stride, or
    the input's own edges)."""

    y0: int
    y1: int
    x0: int
    x1: int

    @classmethod
    def whole(cls, shape: tuple) -> "Window":
        return cls(0, int(shape[-2]), 0, int(shape[-1]))

    def crop(self, tensor: np.ndarray, channels_last: bool = False) -> np.ndarray:
        """This window of one prepared image, (3, H, W) or (H, W, 3) (``channels_last``), or of maps."""
        if channels_last:
            return tensor[self.y0:self.y1, self.x0:self.x1]
        return tensor[..., self.y0:self.y1, self.x0:self.x1]


def text_window(maps: np.ndarray, info: ResizeInfo, margin: int) -> Window | None:
    """Where a second look reads: around every pixel of the image (not its padding) where
    ``maps`` ((H, W) or (C, H, W), the first look's) pass :data:`WINDOW_CUE`, ``margin`` pixels
    wider, in each direction a quarter, half, three quarters or all of the padded input
    (:func:`_span`). None: nothing passes, no second look."""
    maps = np.asarray(maps)
    h, w = maps.shape[-2:]
    content = maps[..., :info.resized_h, :info.resized_w]
    hot = (content > WINDOW_CUE).any(axis=0) if content.ndim == 3 else content > WINDOW_CUE
    rows, cols = np.flatnonzero(hot.any(axis=1)), np.flatnonzero(hot.any(axis=0))
    if not len(rows):
        return None
    (y0, y1), (x0, x1) = _span(int(rows[0]), int(rows[-1]), h, margin), _span(int(cols[0]), int(cols[-1]), w, margin)
    return Window(y0, y1, x0, x1)


def _span(first: int, last: int, size: int, margin: int) -> tuple:
    """``first``..``last`` widened by ``margin``, then grown to the smallest of a quarter, a half,
    three quarters or all of ``size`` that holds it (centred, kept inside, edges on the stride).
    Why so few sizes: OpenVINO compiles its kernels for every new input shape (60 ms for a
    320 x 640 input here, which then runs in 15 ms), and a folder of photos of one size gives
    at most 16 window shapes; ONNX Runtime has no such cost, and reads a few more pixels."""
    s = STRIDE     # window edges on the network's stride, as every input's size is
    lo, hi = max(0, first - margin), min(size, last + 1 + margin)
    for quarters in (1, 2, 3):
        length = -(-size * quarters // (4 * s)) * s
        earliest, latest = -(-max(0, hi - length) // s) * s, min(lo // s * s, size - length)
        if length < size and earliest <= latest:       # an aligned start that holds lo..hi
            centred = (lo - (length - (hi - lo)) // 2) // s * s
            start = min(max(centred, earliest), latest)
            return start, start + length
    return 0, size


def average_in_window(first: np.ndarray, other: np.ndarray, window: Window | None = None) -> np.ndarray:
    """The first look's maps, averaged inside ``window`` (default: everywhere) with another
    look's maps of that window (already on the first look's pixels: shrunk back, flipped back)."""
    first = np.asarray(first, dtype=np.float32)
    other = np.asarray(other, dtype=np.float32)
    window = window or Window.whole(first.shape)
    inside = window.crop(first)
    if inside.shape != other.shape:
        raise ValueError(f"the other look's maps {other.shape} do not match the first look's {inside.shape}")
    out = first.copy()
    window.crop(out)[...] = (inside + other) * np.float32(0.5)
    return out
