"""A PIL page that records the exact box of every string drawn on it, and the colour,
size and background helpers the PIL layouts share."""
from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .fonts import FontBank, load_font
from .types import SynthConfig, TextItem


class Canvas:
    """A PIL page that records the exact box of every string drawn on it."""

    def __init__(self, w: int, h: int, color, fonts: FontBank, rng: np.random.Generator, cfg: SynthConfig) -> None:
        self.img = Image.new("RGB", (w, h), tuple(int(c) for c in color))
        self.draw = ImageDraw.Draw(self.img)
        self.items: List[TextItem] = []
        self.fonts, self.rng, self.cfg = fonts, rng, cfg
        self.w, self.h = w, h

    def text(self, x: float, y: float, text: str, size: int, fill, font_path: str | None = None,
             record: bool = True) -> Tuple[float, float, float, float] | None:
        """Draw ``text`` with its top-left ink at (x, y); returns the ink box or None if it does not fit."""
        text = text.strip()
        if not text or size < 4:
            return None
        path = font_path or self.fonts.pick(self.rng, text)
        font = load_font(path, int(size))
        l, t, r, b = self.draw.textbbox((0, 0), text, font=font)
        if r - l <= 0 or b - t <= 0:
            return None
        x0, y0 = x - l, y - t
        if x + (r - l) > self.w - 1 or y + (b - t) > self.h - 1 or x < 0 or y < 0:
            return None
        self.draw.text((x0, y0), text, font=font, fill=tuple(int(c) for c in fill))
        box = (x, y, x + (r - l), y + (b - t))
        if record:
            self.add_box(box, text)
        return box

    def add_box(self, box: Tuple[float, float, float, float], text: str) -> None:
        x0, y0, x1, y1 = box
        quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
        self.items.append(TextItem(quad, text, ignore=(y1 - y0) < self.cfg.min_text_px))

    def text_width(self, text: str, size: int, font_path: str) -> Tuple[int, int]:
        l, t, r, b = self.draw.textbbox((0, 0), text, font=load_font(font_path, int(size)))
        return r - l, b - t

    def array(self) -> np.ndarray:
        return np.asarray(self.img, dtype=np.uint8).copy()


def ink_color(rng: np.random.Generator, dark: bool = True) -> Tuple[int, int, int]:
    if dark:
        base = int(rng.integers(0, 90))
        tint = rng.integers(-20, 21, 3) * (rng.random() < 0.4)
        return tuple(int(np.clip(base + t, 0, 255)) for t in tint)
    return tuple(int(v) for v in rng.integers(200, 256, 3))


def paper_color(rng: np.random.Generator) -> Tuple[int, int, int]:
    base = int(rng.integers(215, 256))
    warm = int(rng.integers(0, 18))
    return (base, max(0, base - warm // 2), max(0, base - warm))


def size_for(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Log-uniform text size: small text is common on documents and must be learnt."""
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def page_size(rng: np.random.Generator, cfg: SynthConfig, aspect: float) -> Tuple[int, int]:
    long_side = int(rng.integers(cfg.long_side[0], cfg.long_side[1] + 1))
    if aspect >= 1:
        return long_side, max(64, int(long_side / aspect))
    return max(64, int(long_side * aspect)), long_side


def line_runs(c: Canvas, x: float, y: float, parts: Sequence[str], size: int, fill, font: str,
               gap: float) -> float:
    """Draw text parts on one baseline separated by wide gaps (one box each); return line height."""
    height = 0.0
    for part in parts:
        box = c.text(x, y, part, size, fill, font)
        if box is None:
            break
        height = max(height, box[3] - box[1])
        x = box[2] + gap
    return height or size


def texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Colour fields, gradients and noise textures: packaging and label backgrounds."""
    base = rng.integers(0, 256, 3).astype(np.float32)
    other = rng.integers(0, 256, 3).astype(np.float32)
    t = np.linspace(0, 1, w if rng.random() < 0.5 else h)
    t = t[None, :, None] if t.size == w else t[:, None, None]
    img = base + (other - base) * t * rng.uniform(0, 1)
    img = np.broadcast_to(img, (h, w, 3)).copy()
    if rng.random() < 0.5:
        noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(2, 15))
        img += noise[..., None] * rng.uniform(20, 80) / max(noise.std(), 1e-3)
    return np.clip(img, 0, 255).astype(np.uint8)
