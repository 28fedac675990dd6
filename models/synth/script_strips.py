"""Single text lines drawn for the script guard (``models/script_guard.py``): CJK or Latin,
each straightened to a strip exactly as the guard reads a detected line at run time.

Why: the guard first learned from the lines of full renders and real photos, about 6,000
CJK lines in all, few of them short, large, stylised or widely spaced; it scored two large
packaging words ("大米装", "口罩") 0.02-0.45 and let ``auto`` cut them (weights/TRAINING_LOG.md,
"A guard that has seen more lines"). Drawing lines one at a time gives as many of those as
training wants, from the renderer's own strings, fonts and backgrounds, and is reproducible
from a seed like every render.
"""
from __future__ import annotations

import re
from typing import Callable, List, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw

from models.script_guard import line_strip

from .canvas import ink_color, paper_color, size_for, texture
from .degrade import blur_noise_jpeg
from .fonts import FontBank, font_bank, load_font
from .photos import random_photo_crop
from .text_sources import GOODS_EN, GOODS_ZH, LABELS_ZH, SCENE_EN, SCENE_ZH, UI_EN, UI_ZH, TextSource

#: Any character the guard calls CJK (Han, kana, Hangul), as the training labels read it.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
SUFFIXES_ZH = ["", "", "味", "装", "牌", "500ml", "净含量 250g", "特价", "新品"]


def cjk_text(src: TextSource, rng: np.random.Generator) -> str:
    """A CJK line of the kinds the renderer draws, often short (one to four characters),
    since short lines are where a strip holds least evidence of its script."""
    kinds: List[Callable[[], str]] = [
        lambda: src.pick(GOODS_ZH) + src.rng.choice(SUFFIXES_ZH), lambda: src.pick(SCENE_ZH),
        lambda: src.pick(UI_ZH), lambda: src.pick(LABELS_ZH), src.zh_sentence, src.zh.name, src.field,
        lambda: "生产日期 " + src.date(), lambda: src.zh.address().replace("\n", " "), src.zh.company,
        lambda: "保质期 " + str(src.rng.randint(3, 36)) + "个月", lambda: src.zh.name() + " " + src.zh.phone_number(),
    ]
    for _ in range(20):
        text = kinds[int(rng.integers(len(kinds)))]().strip()
        if rng.random() < 0.35 and len(text) > 2:       # a short piece of a longer line
            n = int(rng.integers(1, min(4, len(text)) + 1))
            start = int(rng.integers(0, len(text) - n + 1))
            text = text[start:start + n].strip()
        if CJK.search(text):
            return text
    return src.pick(GOODS_ZH)


def latin_text(src: TextSource, rng: np.random.Generator) -> str:
    """A line without CJK: words, names, codes, numbers and dates, as scene photos, receipts
    and packaging show them."""
    kinds: List[Callable[[], str]] = [
        src.scene_word, lambda: src.pick(SCENE_EN), lambda: src.pick(GOODS_EN), lambda: src.pick(UI_EN),
        src.en_sentence, src.code, src.amount, lambda: src.en.date_object().strftime("%Y-%m-%d"),
        src.en.company, src.en.email, src.en.catch_phrase, src.en.last_name, lambda: str(src.rng.randint(1, 99999)),
        lambda: src.en.word().upper(), lambda: src.en.street_address(),
    ]
    for _ in range(20):
        text = kinds[int(rng.integers(len(kinds)))]().replace("\n", " ").strip()
        if rng.random() < 0.2 and " " in text:          # one word of a longer line
            text = src.rng.choice(text.split())
        if text and not CJK.search(text) and all(ord(c) < 0x2E80 for c in text):
            return text
    return src.pick(SCENE_EN)


def draw_line(rng: np.random.Generator, text: str, font_path: str, size: int) -> Tuple[np.ndarray, np.ndarray] | None:
    """``text`` drawn on a background of its own (paper, a packaging texture or a photo), with
    random letter spacing, colour, outline, rotation and camera degradation. Returns the RGB
    image and the quad of the ink (4x2), or None when the font draws nothing."""
    font = load_font(font_path, size)
    spacing = size * rng.uniform(0.1, 1.0) if rng.random() < 0.3 else 0.0   # widely spaced designs
    probe = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    boxes, x = [], 0.0
    for ch in (text if spacing else [text]):
        l, t, r, b = probe.textbbox((x, 0), ch, font=font)
        boxes.append((l, t, r, b))
        x = r + spacing if spacing else r
    ink = [b for b in boxes if b[2] > b[0] and b[3] > b[1]]
    if not ink:
        return None
    left, top = min(b[0] for b in ink), min(b[1] for b in ink)
    right, bottom = max(b[2] for b in ink), max(b[3] for b in ink)
    pad = int(size * 1.5)
    w, h = int(right - left) + 2 * pad, int(bottom - top) + 2 * pad
    kind = rng.random()
    if kind < 0.35:
        bg = texture(rng, w, h)
    elif kind < 0.65:
        crop = random_photo_crop(rng, w, h)
        bg = crop if crop is not None else texture(rng, w, h)
    else:
        bg = np.full((h, w, 3), paper_color(rng) if rng.random() < 0.7 else tuple(rng.integers(0, 256, 3)), np.uint8)
    mean = float(bg.mean())
    fill = ink_color(rng, dark=mean > 128) if rng.random() < 0.8 else tuple(int(v) for v in rng.integers(0, 256, 3))
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    stroke = int(rng.integers(1, max(2, size // 12) + 1)) if rng.random() < 0.15 else 0
    stroke_fill = ink_color(rng, dark=mean <= 128)
    x0, y0 = pad - left, pad - top
    if spacing:
        x = 0.0
        for ch, (_, _, r, _) in zip(text, boxes):
            draw.text((x0 + x, y0), ch, font=font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill)
            x = r + spacing
    else:
        draw.text((x0, y0), text, font=font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill)
    quad = np.float32([[pad, pad], [pad + right - left, pad], [pad + right - left, pad + bottom - top],
                       [pad, pad + bottom - top]])
    out = np.asarray(img, np.uint8)
    angle = rng.normal(0, 4) if rng.random() < 0.5 else 0.0
    if angle:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        out = cv2.warpAffine(out, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        quad = cv2.transform(quad[None], m)[0]
    return out, quad


def degrade(rng: np.random.Generator, img: np.ndarray, quad: np.ndarray, text_px: float) -> Tuple[np.ndarray, np.ndarray]:
    """Shrink the line to ``text_px`` high (the size the detector sees it at), then blur,
    noise and JPEG as a camera or scanner would."""
    scale = text_px / max(float(np.linalg.norm(quad[3] - quad[0])), 1.0)
    if scale < 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        quad = quad * scale
    return blur_noise_jpeg(rng, img.astype(np.float32), blur=(0.4, 1.2), noise=0.5, jpeg=0.6), quad


def grown_quad(rng: np.random.Generator, quad: np.ndarray) -> np.ndarray:
    """The ink quad grown by a random margin, as the detector's unclipped boxes sit a little
    outside the ink: up to a quarter of the height along the line and half of it across."""
    centre = quad.mean(axis=0)
    along = quad[1] - quad[0]
    across = quad[3] - quad[0]
    height = float(np.linalg.norm(across))
    u = along / (np.linalg.norm(along) + 1e-6)
    v = across / (height + 1e-6)
    d = quad - centre
    a = (d @ u)[:, None] * u
    c = (d @ v)[:, None] * v
    half_len = max(float(np.abs(d @ u).max()), 1.0)
    return (centre + a * (1.0 + rng.uniform(0.0, 0.25) * height / half_len)
            + c * (1.0 + rng.uniform(0.0, 0.5))).astype(np.float32)


def script_strip(rng: np.random.Generator, src: TextSource, fonts: FontBank | None = None,
                 cjk: bool | None = None) -> Tuple[np.ndarray, int, str] | None:
    """One line drawn and read as the guard reads it: (strip, 1 if CJK else 0, its text), or
    None when the chosen font draws nothing of it. ``cjk`` None: either, with equal odds."""
    fonts = fonts or font_bank()
    if cjk is None:
        cjk = bool(rng.random() < 0.5)
    text = cjk_text(src, rng) if cjk else latin_text(src, rng)
    font_path = fonts.pick(rng, text)
    drawn = draw_line(rng, text, font_path, size_for(rng, 24, 110))
    if drawn is None:
        return None
    img, quad = degrade(rng, *drawn, text_px=size_for(rng, 8, 80))
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    strip = line_strip(gray, grown_quad(rng, quad))
    if strip is None:
        return None
    return strip, int(cjk), text


def script_strips(count: int, seed: int) -> Tuple[List[np.ndarray], List[int]]:
    """``count`` strips, half CJK, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    src = TextSource(seed)
    fonts = font_bank()
    xs: List[np.ndarray] = []
    ys: List[int] = []
    while len(xs) < count:
        made = script_strip(rng, src, fonts, cjk=len(xs) % 2 == 0)
        if made is not None:
            xs.append(made[0])
            ys.append(made[1])
    return xs, ys
