"""DB training targets (Liao et al. 2020, Sec. 3.3), as separate, testable steps.

* :func:`make_shrink_map`: polygons shrunk by D = A (1 - r^2) / L (r = 0.4) filled with 1;
  a mask that zeroes ``###`` regions and regions too small to learn from.
* :func:`make_border_map`: between the shrunk and the dilated polygon, 1 - normalised
  distance to the polygon edge, rescaled to [thresh_min, thresh_max] (0.3 .. 0.7); its
  mask covers the dilated polygons.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import cv2
import numpy as np
import pyclipper


def _area_perimeter(poly: np.ndarray) -> Tuple[float, float]:
    p = poly.astype(np.float32)
    return abs(cv2.contourArea(p)), cv2.arcLength(p, True)


def _offset(poly: np.ndarray, distance: float) -> List[np.ndarray]:
    pc = pyclipper.PyclipperOffset()
    pc.AddPath([tuple(map(int, pt)) for pt in np.round(poly).astype(np.int64)],
               pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return [np.asarray(p, np.float32) for p in pc.Execute(distance)]


def make_shrink_map(shape: Tuple[int, int], polygons: Sequence[np.ndarray], ignore: Sequence[bool],
                    shrink_ratio: float = 0.4, min_text_size: int = 8) -> Tuple[np.ndarray, np.ndarray]:
    """Probability target (1 inside shrunk text) and its training mask (0 = don't care)."""
    h, w = shape
    gt = np.zeros((h, w), np.float32)
    mask = np.ones((h, w), np.float32)
    for poly, ign in zip(polygons, ignore):
        poly = np.asarray(poly, np.float32).reshape(-1, 2)
        ph = poly[:, 1].max() - poly[:, 1].min()
        pw = poly[:, 0].max() - poly[:, 0].min()
        area, length = _area_perimeter(poly)
        if ign or min(ph, pw) < min_text_size or area < 1 or length < 1:
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 0)
            continue
        distance = area * (1 - shrink_ratio ** 2) / length
        shrunk = _offset(poly, -distance)
        if not shrunk:
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 0)
            continue
        for s in shrunk:
            cv2.fillPoly(gt, [np.round(s).astype(np.int32)], 1)
    return gt, mask


def _polygon_edge_distance(xs: np.ndarray, ys: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance from each grid point to the nearest edge of ``poly`` (closed), all edges at once.

    ``xs`` is a (1, W) row and ``ys`` an (H, 1) column of pixel coordinates: one broadcast over
    (edges, H, W) instead of a Python loop over edges, the slowest step of loading a sample.
    """
    a = poly.astype(np.float32)
    ab = np.roll(a, -1, axis=0) - a                                   # edge i: a[i] -> a[i + 1]
    denom = np.maximum((ab * ab).sum(axis=1), 1e-6)[:, None, None]
    dx = xs[None] - a[:, 0, None, None]                               # (n, 1, W)
    dy = ys[None] - a[:, 1, None, None]                               # (n, H, 1)
    t = np.clip((dx * ab[:, 0, None, None] + dy * ab[:, 1, None, None]) / denom, 0, 1)
    d2 = (dx - t * ab[:, 0, None, None]) ** 2 + (dy - t * ab[:, 1, None, None]) ** 2
    return np.sqrt(d2.min(axis=0))


def make_border_map(shape: Tuple[int, int], polygons: Sequence[np.ndarray], ignore: Sequence[bool],
                    shrink_ratio: float = 0.4, thresh_min: float = 0.3,
                    thresh_max: float = 0.7) -> Tuple[np.ndarray, np.ndarray]:
    """Threshold target and mask. Ignored regions still shape the border (as in DB)."""
    h, w = shape
    canvas = np.zeros((h, w), np.float32)
    mask = np.zeros((h, w), np.float32)
    for poly in polygons:
        poly = np.asarray(poly, np.float32).reshape(-1, 2)
        area, length = _area_perimeter(poly)
        if area < 1 or length < 1:
            continue
        distance = area * (1 - shrink_ratio ** 2) / length
        padded = _offset(poly, distance)
        if not padded:
            continue
        pad = padded[0]
        cv2.fillPoly(mask, [np.round(pad).astype(np.int32)], 1)
        x0, y0 = np.floor(pad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pad.max(axis=0)).astype(int)
        bw, bh = x1 - x0 + 1, y1 - y0 + 1
        xs = (np.arange(bw, dtype=np.float32) + x0)[None, :]
        ys = (np.arange(bh, dtype=np.float32) + y0)[:, None]
        dist = np.clip(_polygon_edge_distance(xs, ys, poly) / distance, 0, 1)
        # Write into the visible part of the canvas only.
        vx0, vy0, vx1, vy1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
        if vx1 < vx0 or vy1 < vy0:
            continue
        sub = 1 - dist[vy0 - y0:vy1 - y0 + 1, vx0 - x0:vx1 - x0 + 1]
        canvas[vy0:vy1 + 1, vx0:vx1 + 1] = np.maximum(canvas[vy0:vy1 + 1, vx0:vx1 + 1], sub)
    return canvas * (thresh_max - thresh_min) + thresh_min, mask
