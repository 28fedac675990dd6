"""Training augmentation: one affine warp (scale, rotation, flip, crop) plus photometric noise.

Geometry is composed into a single 2x3 matrix and applied once with ``cv2.warpAffine``
straight into the training crop, so polygons transform exactly as the pixels do and the
cost stays one resample per sample. The crop window avoids cutting through text when it
can (as DB's EastRandomCropData); text cut by the crop anyway keeps its visible part, and
is marked ignore when less than half of it remains.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from shapely.geometry import Polygon
from shapely.geometry import box as shapely_box

from ..config import DetectorConfig
from ..settings import check_settings, setting

PROB = dict(min=0.0, max=1.0, step=0.05)   # bounds of every probability below


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation of one training sample; a checkpoint records it (``TrainConfig.augment``)."""

    size: int = setting(512, "square training crop in pixels (training sets it from --input-size)",
                        min=32, cli=False)
    scale_range: Tuple[float, float] = setting((0.5, 3.0), "low and high factor of the wide random scale", gt=0.0)
    scale_wide_prob: float = setting(0.35, "probability of the wide scale (else a gentle 0.75-1.33)", **PROB)
    infer_long_side: int = setting(DetectorConfig().limit_side, "scales are relative to the long side inference "
                                   "resizes to (the detector's size limit)", min=32, max=4096)
    max_rotation: float = setting(10.0, "largest random rotation in degrees", min=0.0, max=180.0)
    rotation_prob: float = setting(0.5, "probability of a random rotation", **PROB)
    flip_prob: float = setting(0.0, "probability of a horizontal flip (mirrored text is not text users see)",
                               **PROB)
    text_crop_prob: float = setting(0.85, "probability of centring the crop on some text", **PROB)
    color_prob: float = setting(0.6, "probability of colour jitter", **PROB)
    blur_prob: float = setting(0.2, "probability of a blur", **PROB)
    noise_prob: float = setting(0.2, "probability of Gaussian noise", **PROB)
    jpeg_prob: float = setting(0.2, "probability of JPEG artefacts", **PROB)
    min_visible: float = setting(0.5, "text cut by the crop is ignored when less than this share is visible",
                                 **PROB)
    paste_prob: float = setting(0.0, "probability of pasting real words cut from other training photos of the "
                                     "same word-labelled source (copy-paste; models/data/copy_paste.py)", **PROB)
    paste_words: int = setting(4, "most words pasted into one photo", min=1, max=32)
    paste_height: Tuple[float, float] = setting((12.0, 128.0), "low and high height of a pasted word, in pixels of "
                                                "the image as inference sizes it (log-uniform)", gt=0.0)

    def __post_init__(self) -> None:
        lo, hi = self.scale_range
        plo, phi = self.paste_height
        check_settings(self, "augmentation",
                       [f"scale_range must be (low, high) with low <= high (got {self.scale_range})"
                        if lo > hi else "",
                        f"paste_height must be (low, high) with low <= high (got {self.paste_height})"
                        if plo > phi else ""])


def _affine(scale: float, angle_deg: float, flip: bool, center: Tuple[float, float]) -> np.ndarray:
    a = math.radians(angle_deg)
    ca, sa = math.cos(a) * scale, math.sin(a) * scale
    fx = -1.0 if flip else 1.0
    cx, cy = center
    m = np.array([[ca * fx, -sa, 0.0], [sa * fx, ca, 0.0]], np.float64)
    m[:, 2] = -m[:, :2] @ np.array([cx, cy])   # rotate/scale about the image centre
    return m


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return (pts.astype(np.float64) @ m[:, :2].T + m[:, 2]).astype(np.float32)


def _free_offset(rng: np.random.Generator, occupied: np.ndarray, lo: int, hi: int) -> int:
    """A crop start in [lo, hi] whose edge does not land on text (if such a position exists)."""
    if hi <= lo:
        return lo
    cand = np.arange(lo, hi + 1)
    idx = np.clip(cand, 0, len(occupied) - 1)
    free = cand[~occupied[idx]]
    pool = free if len(free) else cand
    return int(pool[rng.integers(len(pool))])


def augment(rng: np.random.Generator, image: np.ndarray, polygons: Sequence[np.ndarray],
            ignore: Sequence[bool], cfg: AugmentConfig) -> Tuple[np.ndarray, List[np.ndarray], List[bool]]:
    """Return a ``cfg.size`` square crop and the polygons (and ignore flags) inside it."""
    h, w = image.shape[:2]
    S = cfg.size
    # Centre the scale on what inference sees (long side resized to DetectorConfig.limit_side).
    base = min(1.0, cfg.infer_long_side / max(h, w)) * rng.uniform(0.6, 1.25)
    if rng.random() < cfg.scale_wide_prob:
        lo, hi = cfg.scale_range
        scale = base * math.exp(rng.uniform(math.log(lo), math.log(hi)))
    else:
        scale = base * rng.uniform(0.75, 1.33)
    angle = rng.uniform(-cfg.max_rotation, cfg.max_rotation) if rng.random() < cfg.rotation_prob else 0.0
    flip = rng.random() < cfg.flip_prob
    m = _affine(scale, angle, flip, (w / 2, h / 2))
    corners = _apply(m, np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32))
    mn, mx = corners.min(axis=0), corners.max(axis=0)
    polys = [_apply(m, np.asarray(p, np.float32).reshape(-1, 2)) for p in polygons]

    # Choose the crop window in warped coordinates.
    span = (mx - mn)
    occ_x = np.zeros(int(math.ceil(span[0])) + 2, bool)
    occ_y = np.zeros(int(math.ceil(span[1])) + 2, bool)
    for p in polys:
        x0, y0 = np.floor(p.min(axis=0) - mn).astype(int)
        x1, y1 = np.ceil(p.max(axis=0) - mn).astype(int)
        occ_x[max(x0, 0):max(x1, 0) + 1] = True
        occ_y[max(y0, 0):max(y1, 0) + 1] = True
    lo_x, hi_x = (0, int(span[0] - S)) if span[0] > S else (int(span[0] - S), 0)
    lo_y, hi_y = (0, int(span[1] - S)) if span[1] > S else (int(span[1] - S), 0)
    if polys and rng.random() < cfg.text_crop_prob and (span > S).any():
        target = polys[int(rng.integers(len(polys)))].mean(axis=0) - mn
        jitter = rng.uniform(-0.4, 0.4, 2) * S
        lo_x2 = int(np.clip(target[0] - S / 2 + jitter[0] - S / 4, lo_x, hi_x))
        lo_y2 = int(np.clip(target[1] - S / 2 + jitter[1] - S / 4, lo_y, hi_y))
        ox = _free_offset(rng, occ_x, lo_x2, int(np.clip(lo_x2 + S / 2, lo_x, hi_x)))
        oy = _free_offset(rng, occ_y, lo_y2, int(np.clip(lo_y2 + S / 2, lo_y, hi_y)))
    else:
        ox = _free_offset(rng, occ_x, lo_x, hi_x) if span[0] > S else int(rng.integers(lo_x, hi_x + 1))
        oy = _free_offset(rng, occ_y, lo_y, hi_y) if span[1] > S else int(rng.integers(lo_y, hi_y + 1))
    shift = np.array([[1, 0, -(mn[0] + ox)], [0, 1, -(mn[1] + oy)]], np.float64)
    full = shift @ np.vstack([m, [0, 0, 1]])
    border = tuple(float(v) for v in rng.integers(0, 256, 3)) if rng.random() < 0.5 else (0.0, 0.0, 0.0)
    out = cv2.warpAffine(image, full, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=border)

    crop = shapely_box(0, 0, S - 1, S - 1)
    out_polys, out_ignore = [], []
    for p, ign in zip(polygons, ignore):
        q = _apply(full, np.asarray(p, np.float32).reshape(-1, 2))
        if (q >= 0).all() and (q <= S - 1).all():
            out_polys.append(q)
            out_ignore.append(bool(ign))
            continue
        poly = Polygon(q)
        if not poly.is_valid or poly.area <= 0:
            continue
        inter = poly.intersection(crop)
        if inter.is_empty or inter.area < 1:
            continue
        if inter.geom_type != "Polygon":
            inter = max(getattr(inter, "geoms", [inter]), key=lambda g: g.area)
            if inter.geom_type != "Polygon":
                continue
        visible = inter.area / poly.area
        pts = np.asarray(inter.exterior.coords[:-1], np.float32)
        if len(pts) < 3:
            continue
        if len(pts) == 3:
            pts = np.vstack([pts, pts[-1:]])
        out_polys.append(pts)
        out_ignore.append(bool(ign) or visible < cfg.min_visible)
    return photometric(rng, out, cfg), out_polys, out_ignore


def colour_matrix(rng: np.random.Generator) -> np.ndarray:
    """A random colour jitter as one 3 x 4 affine map of RGB (for ``cv2.transform``).

    Contrast and brightness ``(x - 128) c + 128 + b``, saturation ``g + (x - g) s`` around the
    channel mean ``g``, per-channel white balance, and now and then an inversion (dark mode):
    every step is affine, so their product is one matrix, applied to the uint8 picture in a
    single saturating pass instead of five float passes over it.
    """
    c, b, s = rng.uniform(0.6, 1.4), rng.uniform(-40, 40), rng.uniform(0.3, 1.5)
    wb = rng.uniform(0.85, 1.15, 3)
    mix = np.diag(wb) @ (s * np.eye(3) + (1 - s) / 3 * np.ones((3, 3)))   # saturation, then balance
    m = np.zeros((3, 4))
    m[:, :3] = mix * c
    m[:, 3] = mix @ np.full(3, 128 - 128 * c + b)
    if rng.random() < 0.1:
        m = np.hstack([-m[:, :3], 255 - m[:, 3:]])
    return m


def photometric(rng: np.random.Generator, img: np.ndarray, cfg: AugmentConfig) -> np.ndarray:
    """Colour jitter, blur, noise and JPEG artefacts (boxes unaffected)."""
    if rng.random() < cfg.color_prob:
        img = cv2.transform(img, colour_matrix(rng))                           # one pass, saturating
    if rng.random() < cfg.blur_prob:
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0) if rng.random() < 0.7 else cv2.blur(img, (k, 1))
    if rng.random() < cfg.noise_prob:
        noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(rng.uniform(2, 12))
        img = np.clip(img + noise, 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg_prob:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return img
