"""Cutting a box out of the image as an upright, rectangular line of text.

Framework-free geometry (like the detector's post-processing), tested on its own: the
quad is mapped onto a rectangle of its own side lengths with a perspective warp, so a
tilted or slightly skewed box becomes a straight strip, the input the recogniser expects.
"""
from __future__ import annotations

import cv2
import numpy as np


def crop_size(quad: np.ndarray) -> tuple[int, int]:
    """(width, height) of the rectified crop: the longer of each pair of opposite sides."""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    width = max(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[3] - q[2]))
    height = max(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2]))
    return int(round(width)), int(round(height))


def rectify_crop(image: np.ndarray, quad: np.ndarray, rotate_ratio: float = 1.5) -> np.ndarray | None:
    """The quad's content as an upright ``h x w x C`` crop, or None for a degenerate quad (no
    area, not finite, or sides over twice the image's diagonal: garbage, and a huge warp).

    Args:
        image: ``H x W x C`` uint8.
        quad: 4 points clockwise from top-left (the detector's box order), in pixels.
        rotate_ratio: a crop at least this many times taller than wide is turned 90 degrees
            counter-clockwise (a vertical box holds a rotated line; PaddleOCR's rule).
    """
    q = np.asarray(quad, np.float32).reshape(4, 2)
    if not np.all(np.isfinite(q)):
        return None
    w, h = crop_size(q)
    limit = 2 * int(np.hypot(*image.shape[:2])) + 2   # a quad far bigger than the image is garbage, not text
    if w < 1 or h < 1 or w > limit or h > limit:
        return None
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    try:
        matrix = cv2.getPerspectiveTransform(q, target)
        crop = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    except cv2.error:   # a singular quad: nothing to read
        return None
    if crop.ndim == 2:
        crop = crop[:, :, None]
    if h / w >= rotate_ratio:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop
