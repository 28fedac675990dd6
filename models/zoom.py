"""The zoom look at scene photos: the window around the text read again enlarged
(``DetectorConfig.zoom_words``, 1.75x by default; the window: :mod:`models.window`,
``zoom_margin``), its maps shrunk back and averaged with the first look's there.

Why: on street photos the map is under-confident and uneven, and a network that sees the same
words larger errs differently, above all on the small, tightly spaced words one look joins.
Measured on 499 street photos (the 100 validation photos and 399 training photos the network
scores like new ones; weights/TRAINING_LOG.md, "The zoom look in a window"), default int8 path:
one look 0.532, the whole photo also read 1.25x (the default of 2026-11-28) 0.552, the window
around the text read 1.75x (the default since; an image with a CJK line as before) 0.579. The
window is about 55 % of a street photo, so the larger factor costs about what 1.25x of the
whole photo did.
Only the images read by word pay for it; the pages, receipts and forms read by line run once.

Framework-free, like :mod:`models.mirror`: every backend and the tuning bench share it.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .preprocess import STRIDE
from .window import Window


def zoomed_size(height: int, width: int, factor: float, max_side: int) -> tuple[int, int] | None:
    """The input size of the zoom look: ``factor`` times the first look's, on the network's
    stride, the long side at most ``max_side``. None where that is no larger than the first look
    (``factor`` 1 or less, or the first look already at the cap)."""
    if factor <= 1.0:
        return None
    factor = min(factor, max_side / max(height, width))
    size = (max(STRIDE, int(height * factor / STRIDE + 0.5) * STRIDE),    # half up, not to even
            max(STRIDE, int(width * factor / STRIDE + 0.5) * STRIDE))
    if max(size) > max_side:                  # rounding up past the cap: one stride less
        size = tuple(s - STRIDE if s == max(size) else s for s in size)
    return size if size[0] > height or size[1] > width else None


def zoom_input(tensor: np.ndarray, size: tuple[int, int], channels_last: bool = False) -> np.ndarray:
    """One prepared image, (3, H, W) normalised or (H, W, 3) uint8 (``channels_last``),
    resized to ``size`` (rows, columns) bilinearly. Normalising is per channel and affine, so
    resizing the normalised input is resizing the image (up to uint8 rounding)."""
    if tensor.ndim != 3:
        raise ValueError(f"zoom_input expects one image, (3, H, W) or (H, W, 3); got shape {tensor.shape}")
    rows, cols = size
    if channels_last:
        return cv2.resize(np.ascontiguousarray(tensor), (cols, rows), interpolation=cv2.INTER_LINEAR)
    hwc = np.ascontiguousarray(tensor.transpose(1, 2, 0))
    return np.ascontiguousarray(cv2.resize(hwc, (cols, rows), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1))


def zoomed_look(tensor: np.ndarray, factor: float, max_side: int, run: Callable[[np.ndarray], np.ndarray],
                channels_last: bool = False, window: Window | None = None) -> np.ndarray | None:
    """The zoom look's maps of ``window`` (default: all) of one prepared image (as
    :func:`zoom_input` takes it), shrunk back to the window's shape: ``run`` gives the maps of
    one enlarged input. None where :func:`zoomed_size` finds nothing larger to read (the
    detector and the tuning bench share this)."""
    seen = window.crop(tensor, channels_last) if window is not None else tensor
    first = seen.shape[:2] if channels_last else seen.shape[1:]
    size = zoomed_size(*first, factor, max_side)
    if size is None:
        return None
    return zoom_back(run(zoom_input(seen, size, channels_last)), first)


def zoom_back(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The zoom look's maps, (H', W') or (C, H', W'), shrunk to the first look's ``size``."""
    maps = np.asarray(maps, dtype=np.float32)
    rows, cols = size
    planes = maps.reshape(-1, *maps.shape[-2:])
    back = np.stack([cv2.resize(p, (cols, rows), interpolation=cv2.INTER_LINEAR) for p in planes])
    return back.reshape(maps.shape[:-2] + (rows, cols))
