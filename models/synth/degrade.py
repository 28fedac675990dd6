"""Camera and scanner degradation of a flat render: perspective, lighting, folds, blur,
noise, JPEG. The text quads follow the geometry."""
from __future__ import annotations

import math
from typing import List, Tuple

import cv2
import numpy as np

from .types import TextItem


def photographic(rng: np.random.Generator, img: np.ndarray, items: List[TextItem], scene: bool) -> np.ndarray:
    """Make a flat render look photographed or scanned; quads follow the geometry."""
    h, w = img.shape[:2]
    if rng.random() < 0.6:   # camera perspective / page placed on a background
        j = rng.uniform(0.0, 0.12 if not scene else 0.06)
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        dst = src + rng.uniform(-j, j, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
        dst -= dst.min(axis=0)
        out_w, out_h = int(dst[:, 0].max()) + 1, int(dst[:, 1].max()) + 1
        scale = min(1.0, 1.25 * max(w, h) / max(out_w, out_h))
        dst *= scale
        out_w, out_h = max(32, int(out_w * scale)), max(32, int(out_h * scale))
        if not scene and rng.random() < 0.6:   # margin of "desk" around the page
            pad = int(rng.uniform(0.02, 0.12) * max(out_w, out_h))
            dst += pad
            out_w, out_h = out_w + 2 * pad, out_h + 2 * pad
        M = cv2.getPerspectiveTransform(src, dst)
        desk = tuple(float(v) for v in rng.integers(0, 160, 3))
        img = cv2.warpPerspective(img, M, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=desk)
        for it in items:
            it.quad = cv2.perspectiveTransform(it.quad[None].astype(np.float32), M)[0]
    img = img.astype(np.float32)
    h, w = img.shape[:2]
    if rng.random() < 0.5:   # uneven lighting / shadow
        gx, gy = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
        a = rng.uniform(0, 2 * math.pi)
        shade = 1.0 - rng.uniform(0.1, 0.45) * np.clip(np.cos(a) * gx + np.sin(a) * gy + rng.uniform(-0.5, 0.5), 0, None)
        img *= shade[..., None]
    if rng.random() < 0.3:   # paper fold: a thin dark/bright line across
        x = int(rng.uniform(0.2, 0.8) * w)
        cv2.line(img, (x, 0), (x + int(rng.uniform(-0.1, 0.1) * w), h), (float(rng.uniform(-30, 30)),) * 3, 2)
    return blur_noise_jpeg(rng, img, blur=(0.5, 1.3), noise=0.6, jpeg=0.7)


def blur_noise_jpeg(rng: np.random.Generator, img: np.ndarray, blur: Tuple[float, float], noise: float,
                    jpeg: float) -> np.ndarray:
    """What every camera and scanner adds last: a Gaussian blur (with probability ``blur[0]``,
    sigma 0.3 to ``blur[1]``), sensor noise (probability ``noise``) and JPEG compression at
    quality 35-94 (probability ``jpeg``). ``img`` is float32 (changed in place); returns uint8."""
    if rng.random() < blur[0]:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, blur[1]))
    if rng.random() < noise:
        img += rng.normal(0, rng.uniform(1, 8), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < jpeg:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 95))])
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return img
