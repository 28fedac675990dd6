"""Rendered text pages for checking and calibrating exported models.

The export checks need inputs that look like what users upload (pages of lines of text,
light-on-dark labels, noisy photos), with ground-truth boxes, and they must work on any
machine: the training renderer (``models/synth/``) needs system CJK fonts, so this
module draws with the font that ships inside Pillow and OpenCV's Hershey fonts only.
Everything comes from ``numpy.random.default_rng([seed, index])``: page ``i`` of a seed is
the same on every run, so calibration and verification are reproducible.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

STYLES = ("dark_on_light", "light_on_dark", "noisy_photo")
_HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
            cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN)
_WORDS = ("invoice", "total", "amount", "date", "receipt", "qty", "price", "name", "address",
          "order", "No.", "tax", "VAT", "2024-05-17", "$12.80", "item", "phone", "ID", "card",
          "shipping", "sample", "page", "OCR", "text", "detector", "hello", "world", "12345")


@dataclass
class RenderedPage:
    """An RGB page and the boxes (4 points, clockwise from top-left) of its text lines."""

    image: np.ndarray             # HxWx3 uint8 RGB
    boxes: List[np.ndarray]       # (4, 2) float32 each
    style: str


def _line_text(rng: np.random.Generator) -> str:
    words = [_WORDS[int(i)] for i in rng.integers(0, len(_WORDS), int(rng.integers(1, 5)))]
    if rng.random() < 0.3:
        words.append("".join(rng.choice(list(string.ascii_uppercase + string.digits), 6)))
    return " ".join(words)


def _draw_line_pil(draw: ImageDraw.ImageDraw, x: int, y: int, text: str, size: int,
                   color: Tuple[int, int, int]) -> np.ndarray | None:
    font = ImageFont.load_default(size=size)
    x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
    draw.text((x, y), text, font=font, fill=color)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _draw_line_cv(img: np.ndarray, x: int, y: int, text: str, scale: float, thickness: int,
                  font: int, color: Tuple[int, int, int]) -> np.ndarray:
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    cv2.putText(img, text, (x, y + th), font, scale, color, thickness, cv2.LINE_AA)
    return np.array([[x, y], [x + tw, y], [x + tw, y + th + base], [x, y + th + base]], np.float32)


def render_page(index: int, seed: int = 0, size: Tuple[int, int] = (800, 800)) -> RenderedPage:
    """Render page ``index`` (deterministic); ``size`` is (height, width) before any jitter.

    Styles rotate with the index so that any three consecutive pages cover dark text on a
    light page, light text on a dark page and a noisy, blurred "photo" of a page.
    """
    rng = np.random.default_rng([seed, index])
    style = STYLES[index % len(STYLES)]
    h = int(size[0] * rng.uniform(0.7, 1.0))
    w = int(size[1] * rng.uniform(0.7, 1.0))
    light = int(rng.integers(200, 250))
    dark = int(rng.integers(10, 70))
    bg, fg = (light, dark) if style != "light_on_dark" else (dark, light)
    tint = rng.integers(-12, 13, 3)
    page = Image.new("RGB", (w, h), tuple(int(np.clip(bg + t, 0, 255)) for t in tint))
    draw = ImageDraw.Draw(page)
    img_boxes: List[np.ndarray] = []
    cv_lines: List[Tuple[int, int, str, float, int, int]] = []
    y = int(rng.integers(10, 40))
    while y < h - 30:
        text = _line_text(rng)
        x = int(rng.integers(10, max(11, w // 4)))
        color = tuple(int(np.clip(fg + t, 0, 255)) for t in rng.integers(-10, 11, 3))
        if rng.random() < 0.6:
            px = int(rng.integers(14, 40))
            box = _draw_line_pil(draw, x, y, text, px, color)
            line_h = px
        else:
            scale = float(rng.uniform(0.5, 1.4))
            thick = int(rng.integers(1, 3))
            font = _HERSHEY[int(rng.integers(len(_HERSHEY)))]
            cv_lines.append((x, y, text, scale, thick, font))
            (_, th), base = cv2.getTextSize(text, font, scale, thick)
            box, line_h = None, th + base
        if box is not None:
            img_boxes.append(box)
        y += int(line_h * rng.uniform(1.6, 2.6))
    img = np.asarray(page, dtype=np.uint8).copy()
    for x, yy, text, scale, thick, font in cv_lines:
        color = (fg, fg, fg)
        img_boxes.append(_draw_line_cv(img, x, yy, text, scale, thick, font, color))
    if style == "noisy_photo":
        img = cv2.GaussianBlur(img, (3, 3), float(rng.uniform(0.3, 1.0)))
        noise = rng.normal(0.0, float(rng.uniform(6, 16)), img.shape)
        shade = np.linspace(float(rng.uniform(-30, 0)), float(rng.uniform(0, 30)), w)[None, :, None]
        img = np.clip(img.astype(np.float32) + noise + shade, 0, 255).astype(np.uint8)
    # Lines running off the right edge keep the visible part of their box.
    boxes = [np.clip(b, 0, [w - 1, h - 1]).astype(np.float32) for b in img_boxes]
    boxes = [b for b in boxes if b[1, 0] - b[0, 0] >= 8]
    return RenderedPage(np.ascontiguousarray(img), boxes, style)


def render_pages(count: int, seed: int = 0, size: Tuple[int, int] = (800, 800)) -> List[RenderedPage]:
    """``count`` pages of one seed (use different seeds for calibration and verification)."""
    return [render_page(i, seed, size) for i in range(count)]
