"""Scene text and text-free images: signs on real or procedural photos, and the textures
that fool untrained detectors (grass, fences, railings, bricks, foliage, windows). Boxes are
words here (signs are labelled word by word in scene benchmarks)."""
from __future__ import annotations

import math
from typing import List, Tuple

import cv2
import numpy as np

from .canvas import Canvas, page_size, size_for, texture
from .fonts import FontBank
from .photos import random_photo_crop
from .text_sources import TextSource
from .types import SynthConfig, TextItem

TEXTURES = ("grass", "fence", "railing", "brick", "foliage", "tiles", "none")


def scene_background(rng: np.random.Generator, w: int, h: int, real_photo_prob: float = 0.0) -> np.ndarray:
    """A 'photo' for scene text and negatives: with ``real_photo_prob`` a crop of a real
    photograph (photos.py), else a procedural street (sky, buildings, windows); either way
    often with one of the textures that look like text to an untrained detector in front."""
    photo = random_photo_crop(rng, w, h) if rng.random() < real_photo_prob else None
    if photo is not None:   # real photos are busy already: a texture in front only sometimes
        kind = rng.choice(TEXTURES, p=[0.06, 0.06, 0.06, 0.04, 0.04, 0.04, 0.70])
        return _finish_background(rng, photo.astype(np.float32), str(kind), w, h)
    img = np.empty((h, w, 3), np.float32)
    sky = rng.integers(120, 240, 3).astype(np.float32)
    ground = rng.integers(30, 140, 3).astype(np.float32)
    rng.uniform(0.2, 0.6)   # an unused horizon draw, kept so each seed renders the same images
    t = np.linspace(0, 1, h)[:, None, None]
    img[:] = sky * (1 - t) + ground * t
    out = img
    for _ in range(int(rng.integers(1, 5))):   # buildings with window grids
        bw, bh = int(rng.uniform(0.15, 0.5) * w), int(rng.uniform(0.3, 0.9) * h)
        bx, by = int(rng.uniform(-0.1, 0.9) * w), h - bh - int(rng.uniform(0, 0.2) * h)
        colr = rng.integers(40, 220, 3)
        cv2.rectangle(out, (bx, by), (bx + bw, by + bh), colr.tolist(), -1)
        if rng.random() < 0.7:
            step = int(rng.uniform(12, 40))
            win = (colr * rng.uniform(0.3, 0.7)).tolist()
            for yy in range(by + step // 2, by + bh - step, step):
                for xx in range(bx + step // 2, bx + bw - step, step):
                    cv2.rectangle(out, (xx, yy), (xx + step // 2, yy + int(step * 0.6)), win, -1)
    kind = rng.choice(TEXTURES)
    return _finish_background(rng, out, str(kind), w, h)


def _finish_background(rng: np.random.Generator, out: np.ndarray, kind: str, w: int, h: int) -> np.ndarray:
    """Draw one text-like texture (grass, fence, ...) in front, then sensor noise and blur."""
    y0 = int(h * rng.uniform(0.4, 0.8))
    if kind == "grass":
        for _ in range(int(w * (h - y0) / 40)):
            x, y = rng.uniform(0, w), rng.uniform(y0, h)
            L = rng.uniform(4, 20)
            a = rng.uniform(-0.5, 0.5) - math.pi / 2
            col = (rng.uniform(20, 90), rng.uniform(80, 180), rng.uniform(10, 70))
            cv2.line(out, (int(x), int(y)), (int(x + L * math.cos(a)), int(y + L * math.sin(a))), col, 1)
    elif kind in ("fence", "railing"):
        step = int(rng.uniform(6, 30))
        col = rng.integers(0, 255, 3).tolist()
        thick = max(1, int(step * rng.uniform(0.15, 0.5)))
        top = int(h * rng.uniform(0.3, 0.7))
        for x in range(0, w, step):
            cv2.line(out, (x, top), (x + int(rng.uniform(-3, 3)), h), col, thick)
        for _ in range(int(rng.integers(1, 4))):
            yy = top + int((h - top) * rng.uniform(0, 0.9))
            cv2.line(out, (0, yy), (w, yy), col, max(1, thick))
    elif kind in ("brick", "tiles"):
        bw, bh = int(rng.uniform(10, 40)), int(rng.uniform(5, 20))
        col = rng.integers(60, 200, 3).tolist()
        for r, yy in enumerate(range(y0, h, bh)):
            off = (bw // 2) * (r % 2) if kind == "brick" else 0
            cv2.line(out, (0, yy), (w, yy), col, 1)
            for xx in range(-off, w, bw):
                cv2.line(out, (xx, yy), (xx, yy + bh), col, 1)
    elif kind == "foliage":
        for _ in range(int(rng.integers(50, 300))):
            cv2.circle(out, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.uniform(2, 12)),
                       (rng.uniform(10, 80), rng.uniform(60, 160), rng.uniform(10, 60)), -1)
    noise = rng.normal(0, rng.uniform(2, 10), out.shape).astype(np.float32)
    out = cv2.GaussianBlur(out + noise, (0, 0), rng.uniform(0.3, 1.2))
    return np.clip(out, 0, 255).astype(np.uint8)


def _paste_warped(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, dst: np.ndarray) -> None:
    """Composite ``patch`` (with ``alpha`` 0..1) onto ``canvas`` so its corners land on ``dst``."""
    ph, pw = patch.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    M = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    H, W = canvas.shape[:2]
    warped = cv2.warpPerspective(patch, M, (W, H), flags=cv2.INTER_LINEAR)
    a = cv2.warpPerspective(alpha, M, (W, H), flags=cv2.INTER_LINEAR)[..., None]
    canvas[:] = (canvas * (1 - a) + warped * a).astype(np.uint8)


def _perspective_quad(rng: np.random.Generator, x: float, y: float, pw: float, ph: float, strength: float) -> np.ndarray:
    angle = math.radians(rng.uniform(-12, 12))
    ca, sa = math.cos(angle), math.sin(angle)
    pts = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64)
    pts += rng.uniform(-strength, strength, (4, 2)) * np.array([pw, ph]) * 0.5
    rot = np.array([[ca, -sa], [sa, ca]])
    return (pts @ rot.T + [x, y]).astype(np.float32)


def layout_scene(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Tuple[np.ndarray, List[TextItem]]:
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(1.3, 1.9)))
    canvas = scene_background(rng, w, h, cfg.real_photo_prob)
    items: List[TextItem] = []
    occupied: List[Tuple[float, float, float, float]] = []
    for _ in range(int(rng.integers(1, 6))):
        words = [src.scene_word() for _ in range(int(rng.integers(1, 4)))]
        size = size_for(rng, 12, 90)
        font = fonts.pick(rng, "".join(words))
        ink = tuple(int(v) for v in rng.integers(0, 256, 3))
        panel = rng.random() < 0.7
        bg = tuple(int(v) for v in rng.integers(0, 256, 3))
        if abs(sum(ink) - sum(bg)) < 200:
            ink = (255, 255, 255) if sum(bg) < 380 else (0, 0, 0)
        pad = int(size * 0.4)
        tmp = Canvas(8, 8, bg, fonts, rng, cfg)
        dims = [tmp.text_width(wd, size, font) for wd in words]
        space = size * rng.uniform(0.35, 0.7)
        pw = int(sum(d[0] for d in dims) + space * (len(words) - 1) + 2 * pad)
        ph = int(max(d[1] for d in dims) + 2 * pad)
        if pw >= w * 0.95 or ph >= h * 0.6:
            continue
        sign = Canvas(pw, ph, bg, fonts, rng, cfg)
        x = pad
        for wd, (tw, th) in zip(words, dims):
            box = sign.text(x, pad + (ph - 2 * pad - th) / 2, wd, size, ink, font)
            x = (box[2] if box else x + tw) + space
        patch = np.asarray(sign.img, np.float32)
        alpha = np.ones((ph, pw), np.float32)
        if not panel:   # text painted straight on the wall: alpha from the ink
            diff = np.abs(patch - np.array(bg, np.float32)).max(axis=2)
            alpha = np.clip(diff / max(diff.max(), 1), 0, 1)
        for _ in range(5):
            x0, y0 = rng.uniform(0, w - pw), rng.uniform(0, h - ph)
            dst = _perspective_quad(rng, x0, y0, pw, ph, strength=0.25)
            if dst.min() < 0 or dst[:, 0].max() >= w or dst[:, 1].max() >= h:
                continue
            bx = (dst[:, 0].min(), dst[:, 1].min(), dst[:, 0].max(), dst[:, 1].max())
            if any(bx[0] < o[2] and o[0] < bx[2] and bx[1] < o[3] and o[1] < bx[3] for o in occupied):
                continue
            occupied.append(bx)
            _paste_warped(canvas, patch, alpha, dst)
            M = cv2.getPerspectiveTransform(np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32), dst)
            for it in sign.items:
                q = cv2.perspectiveTransform(it.quad[None].astype(np.float32), M)[0]
                short = min(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2]))
                items.append(TextItem(q, it.text, ignore=short < cfg.min_text_px))
            break
    return canvas, items


def layout_negative(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Tuple[np.ndarray, List[TextItem]]:
    """No text at all: textures and photo-like scenes that must produce no boxes."""
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(0.6, 1.8)))
    if rng.random() < 0.7:
        return scene_background(rng, w, h, cfg.real_photo_prob), []
    return texture(rng, w, h), []
