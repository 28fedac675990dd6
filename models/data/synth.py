"""Synthetic training images with exact text quadrilaterals.

Layouts cover the product's use cases: document pages and scans, receipts, invoices
with tables, ID-card-like layouts, phone/desktop screenshots, packaging and labels, and
scene-like signs on procedural photo backgrounds; some images hold no text at all and
show the textures that fool detectors (grass, fences, railings, bricks, foliage, windows).

Box granularity: **text lines** for documents, receipts, invoices, cards and screens
(one box per run of text with ordinary word spacing; a wide gap starts a new box, as in
key/value columns), which is what the seed's line-level model and the receipt benchmark
expect; **words** for scene text (signs are labelled word by word in scene benchmarks).

Everything is drawn from ``numpy.random.default_rng([seed, index])``: image ``i`` of a
set is the same on every run with the same fonts installed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ..progress import ProgressFn
from .fonts import FontBank, font_bank, load_font
from .photos import random_photo_crop
from .text_sources import GOODS_EN, GOODS_ZH, UI_EN, UI_ZH, UNITS_ZH, TextSource


@dataclass
class TextItem:
    quad: np.ndarray          # (4, 2) float32, clockwise from top-left
    text: str
    ignore: bool = False


@dataclass
class SynthSample:
    image: np.ndarray         # HxWx3 uint8 RGB
    items: List[TextItem]
    category: str


CATEGORIES = ("document", "receipt", "invoice", "id_card", "screenshot", "packaging", "scene", "negative",
              "html", "pdf")   # the last two: real layout engines (Chromium, poppler), not in the default mix


@dataclass(frozen=True)
class SynthConfig:
    """Mix and look of a rendered set; a validation set uses another seed and mix."""

    seed: int = 0
    mix: Tuple[Tuple[str, float], ...] = (
        ("document", 0.18), ("receipt", 0.16), ("invoice", 0.12), ("id_card", 0.08),
        ("screenshot", 0.10), ("packaging", 0.10), ("scene", 0.18), ("negative", 0.08))
    long_side: Tuple[int, int] = (640, 1024)   # output size range (long side, pixels)
    photo_prob: float = 0.6                     # chance of camera-like degradation
    min_text_px: int = 8                        # smaller text is labelled ### (ignore)
    real_photo_prob: float = 0.65               # scene/negative backgrounds from real photos (photos.py)

    def category_for(self, rng: np.random.Generator) -> str:
        names = [m[0] for m in self.mix]
        p = np.array([m[1] for m in self.mix], dtype=np.float64)
        return names[int(rng.choice(len(names), p=p / p.sum()))]


# --------------------------------------------------------------------------- canvas
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


def _ink(rng: np.random.Generator, dark: bool = True) -> Tuple[int, int, int]:
    if dark:
        base = int(rng.integers(0, 90))
        tint = rng.integers(-20, 21, 3) * (rng.random() < 0.4)
        return tuple(int(np.clip(base + t, 0, 255)) for t in tint)
    return tuple(int(v) for v in rng.integers(200, 256, 3))


def _paper(rng: np.random.Generator) -> Tuple[int, int, int]:
    base = int(rng.integers(215, 256))
    warm = int(rng.integers(0, 18))
    return (base, max(0, base - warm // 2), max(0, base - warm))


def _size_for(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Log-uniform text size: small text is common on documents and must be learnt."""
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _page_size(rng: np.random.Generator, cfg: SynthConfig, aspect: float) -> Tuple[int, int]:
    long_side = int(rng.integers(cfg.long_side[0], cfg.long_side[1] + 1))
    if aspect >= 1:
        return long_side, max(64, int(long_side / aspect))
    return max(64, int(long_side * aspect)), long_side


def _line_runs(c: Canvas, x: float, y: float, parts: Sequence[str], size: int, fill, font: str,
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


# --------------------------------------------------------------------------- layouts
def layout_document(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(0.68, 0.8)))
    c = Canvas(w, h, _paper(rng), fonts, rng, cfg)
    margin = int(w * rng.uniform(0.05, 0.12))
    ink = _ink(rng)
    body = _size_for(rng, 9, 26)
    font = fonts.pick(rng, "中")
    y = margin
    title = src.zh_sentence(16) if rng.random() < 0.6 else src.en.catch_phrase().title()
    tb = c.text(margin + rng.uniform(0, w * 0.2), y, title, int(body * rng.uniform(1.4, 2.4)), ink)
    y = (tb[3] if tb else y) + body * rng.uniform(0.8, 2.0)
    columns = 2 if rng.random() < 0.2 and w > 500 else 1
    col_w = (w - 2 * margin) / columns
    col_y = [y] * columns
    for col in range(columns):
        yy = col_y[col]
        x0 = margin + col * col_w
        while yy < h - margin - body * 2:
            if rng.random() < 0.12:
                yy += body * rng.uniform(0.8, 1.6)   # paragraph break
                continue
            text = src.any_line() if rng.random() < 0.35 else (src.zh_sentence(40) if rng.random() < 0.6 else src.en_sentence(14))
            maxw = col_w * rng.uniform(0.55, 0.98)
            while text and c.text_width(text, body, font)[0] > maxw:
                text = text[: int(len(text) * 0.85)]
            box = c.text(x0 + (rng.uniform(0, body) if rng.random() < 0.2 else 0), yy, text, body, ink, font)
            yy += (box[3] - box[1] if box else body) * rng.uniform(1.3, 2.0)
    return c


def layout_receipt(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(0.3, 0.6)))
    c = Canvas(w, h, _paper(rng), fonts, rng, cfg)
    ink = _ink(rng)
    size = _size_for(rng, 9, 22)
    font = fonts.pick(rng, "中")
    margin = int(w * rng.uniform(0.04, 0.1))
    y = margin
    shop = src.zh.company() if rng.random() < 0.6 else src.en.company().upper()
    tw = c.text_width(shop, int(size * 1.4), font)[0]
    box = c.text(max(margin, (w - tw) / 2), y, shop, int(size * 1.4), ink, font)
    y = (box[3] if box else y) + size
    for _ in range(int(rng.integers(2, 5))):
        line = src.rng.choice([src.date(), "单号:" + src.code(), "电话:" + src.zh.phone_number(), src.zh.address(),
                               "收银员:" + src.zh.name(), "TEL " + src.en.phone_number()])
        box = c.text(margin, y, line, size, ink, font)
        y = (box[3] if box else y + size) + size * 0.7
    while y < h - margin - size * 6:
        if rng.random() < 0.15:
            sep = rng.choice(["-", "=", "*", "."]) * int((w - 2 * margin) / max(4, size * 0.55))
            c.text(margin, y, sep, size, ink, font, record=False)   # separators are not text
            y += size * 1.4
            continue
        name = src.pick(GOODS_ZH) if rng.random() < 0.6 else src.pick(GOODS_EN)
        qty = f"{int(rng.integers(1, 10))}{src.pick(UNITS_ZH) if rng.random() < 0.4 else ''}"
        price = f"{rng.uniform(1, 200):.2f}"
        total = f"{rng.uniform(1, 999):.2f}"
        if rng.random() < 0.5:  # name / qty / price in columns -> separate boxes
            lh, right = 0.0, float(margin)
            tw = c.text_width(total, size, font)[0]
            limit = w - margin - tw - size   # columns must end before the right-aligned total
            for text, frac in ((name, 0.0), (qty, 0.45), (price, 0.6)):
                x = max(margin + frac * (w - 2 * margin), right + size)
                if x + c.text_width(text, size, font)[0] > limit:
                    break
                box = c.text(x, y, text, size, ink, font)
                if box:
                    lh, right = max(lh, box[3] - box[1]), box[2]
            c.text(w - margin - tw, y, total, size, ink, font)
        else:
            tw = c.text_width(total, size, font)[0]
            item = f"{name} x{qty}"
            if margin + c.text_width(item, size, font)[0] + size < w - margin - tw:
                lh = _line_runs(c, margin, y, [item], size, ink, font, 0)
            else:
                lh = 0.0
            c.text(w - margin - tw, y, total, size, ink, font)
        y += (lh or size) + size * rng.uniform(0.5, 1.0)
    for label in ("合计", "实收", "找零", "TOTAL"):
        if y > h - margin - size * 2:
            break
        c.text(margin, y, label + (":" if rng.random() < 0.5 else ""), size, ink, font)
        amt = src.amount()
        tw = c.text_width(amt, size, font)[0]
        c.text(w - margin - tw, y, amt, size, ink, font)
        y += size * 1.8
    return c


def layout_invoice(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(1.2, 1.6)))
    c = Canvas(w, h, _paper(rng), fonts, rng, cfg)
    ink = _ink(rng)
    line_color = tuple(int(v) for v in rng.integers(60, 180, 3)) if rng.random() < 0.6 else ink
    size = _size_for(rng, 9, 20)
    font = fonts.pick(rng, "中")
    margin = int(w * rng.uniform(0.03, 0.07))
    title = src.pick(["增值税普通发票", "增值税专用发票", "INVOICE", "销售清单", "报价单", "送货单"])
    tw = c.text_width(title, int(size * 1.8), font)[0]
    box = c.text((w - tw) / 2, margin, title, int(size * 1.8), ink if rng.random() < 0.5 else (160, 40, 30), font)
    y = (box[3] if box else margin) + size
    for _ in range(int(rng.integers(1, 4))):
        _line_runs(c, margin, y, [src.field(), src.field()], size, ink, font, gap=w * 0.15)
        y += size * 1.7
    rows, cols = int(rng.integers(3, 9)), int(rng.integers(3, 7))
    table_h = min(h - y - margin - size * 3, rows * size * rng.uniform(1.8, 2.6))
    if table_h > size * 3:
        row_h = table_h / rows
        widths = rng.dirichlet(np.ones(cols) * 3) * (w - 2 * margin)
        xs = margin + np.concatenate([[0], np.cumsum(widths)])
        lw = int(rng.integers(1, 3))
        for r in range(rows + 1):
            c.draw.line([(margin, y + r * row_h), (w - margin, y + r * row_h)], fill=line_color, width=lw)
        for x in xs:
            c.draw.line([(x, y), (x, y + rows * row_h)], fill=line_color, width=lw)
        headers = ["货物名称", "规格", "单位", "数量", "单价", "金额", "税率", "税额"]
        for r in range(rows):
            for k in range(cols):
                if r > 0 and rng.random() < 0.15:
                    continue
                if r == 0:
                    text = headers[k % len(headers)]
                else:
                    text = src.rng.choice([src.pick(GOODS_ZH), src.amount(), str(int(rng.integers(1, 500))),
                                           src.pick(UNITS_ZH), f"{int(rng.integers(1, 17))}%", src.code()[:8]])
                cell_w = widths[k] - size * 0.6
                while text and c.text_width(text, size, font)[0] > cell_w:
                    text = text[:-1]
                c.text(xs[k] + size * 0.3, y + r * row_h + (row_h - size) / 2, text, size, ink, font)
        y += rows * row_h + size
    while y < h - margin - size * 1.5:
        _line_runs(c, margin, y, [src.field()] + ([src.field()] if rng.random() < 0.5 else []), size, ink, font, w * 0.2)
        y += size * 1.8
    if rng.random() < 0.5:  # a red seal over text (distractor, not text)
        cx, cy, r = int(rng.uniform(0.6, 0.9) * w), int(rng.uniform(0.6, 0.9) * h), int(min(w, h) * 0.09)
        c.draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(200, 30, 30), width=max(2, r // 12))
    return c


def layout_id_card(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = _page_size(rng, cfg, aspect=1.58)
    bg = tuple(int(v) for v in rng.integers(170, 250, 3))
    c = Canvas(w, h, bg, fonts, rng, cfg)
    arr = np.asarray(c.img, np.float32)
    grad = np.linspace(0, 1, w)[None, :, None] * rng.uniform(-40, 40, 3)[None, None, :]
    waves = 10 * np.sin(np.arange(h)[:, None, None] / rng.uniform(6, 20) + np.arange(w)[None, :, None] / rng.uniform(20, 60))
    c.img = Image.fromarray(np.clip(arr + grad + waves * (rng.random() < 0.6), 0, 255).astype(np.uint8))
    c.draw = ImageDraw.Draw(c.img)
    ink = _ink(rng)
    size = _size_for(rng, 10, 26)
    font = fonts.pick(rng, "中")
    px0 = int(w * 0.66)
    c.draw.rectangle([px0, int(h * 0.15), int(w * 0.94), int(h * 0.75)],
                     fill=tuple(int(v) for v in rng.integers(120, 230, 3)))
    y = h * 0.1
    for label, value in (("姓名", src.zh.name()), ("性别", src.rng.choice(["男", "女"])),
                         ("出生", src.date()), ("住址", src.zh.address()[:14]),
                         ("公民身份号码", src.zh.ssn()), ("有效期限", src.date())):
        if y > h - size * 2:
            break
        lb = c.text(w * 0.06, y, label, size, (80, 110, 160) if rng.random() < 0.5 else ink, font)
        if lb is not None:
            c.text(lb[2] + size, y, value, size, ink, font)
        y += size * rng.uniform(1.6, 2.4)
    return c


def layout_screenshot(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    phone = rng.random() < 0.5
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(0.45, 0.56)) if phone else float(rng.uniform(1.3, 1.8)))
    dark = rng.random() < 0.25
    c = Canvas(w, h, (28, 28, 32) if dark else (250, 250, 250), fonts, rng, cfg)
    ink = (230, 230, 230) if dark else (30, 30, 30)
    accent = tuple(int(v) for v in rng.integers(0, 220, 3))
    size = _size_for(rng, 10, 24)
    bar_h = int(size * 2.6)
    c.draw.rectangle([0, 0, w, bar_h], fill=accent)
    head_ink = (255, 255, 255) if sum(accent) < 400 else (20, 20, 20)
    c.text(size, (bar_h - size) / 2, src.rng.choice(UI_ZH + UI_EN), int(size * 1.1), head_ink)
    y = bar_h + size
    while y < h - bar_h:
        kind = rng.random()
        if kind < 0.2:   # button
            label = src.rng.choice(UI_ZH + UI_EN)
            f = fonts.pick(rng, label)
            tw, th = c.text_width(label, size, f)
            bx = rng.uniform(size, max(size + 1, w - tw - 3 * size))
            c.draw.rounded_rectangle([bx, y, bx + tw + 2 * size, y + th + size], radius=size // 2, fill=accent)
            c.text(bx + size, y + size / 2, label, size, head_ink, f)
            y += th + size * 2
        else:            # list item with avatar and two lines
            r = size
            c.draw.ellipse([size, y, size + 2 * r, y + 2 * r], fill=tuple(int(v) for v in rng.integers(80, 230, 3)))
            x = size * 2 + 2 * r
            b1 = c.text(x, y, src.rng.choice([src.zh.name(), src.en.name(), src.zh.company()]), size, ink)
            yy = (b1[3] if b1 else y + size) + size * 0.4
            second = src.zh_sentence(int((w - x) / size) - 1) if rng.random() < 0.6 else src.en_sentence(6)
            while second and c.text_width(second, int(size * 0.85), fonts.cjk[0])[0] > w - x - size:
                second = second[:-1]
            b2 = c.text(x, yy, second, int(size * 0.85), (140, 140, 140))
            y = (b2[3] if b2 else yy + size) + size * 1.2
            c.draw.line([(x, y - size * 0.6), (w, y - size * 0.6)], fill=(90, 90, 90) if dark else (225, 225, 225))
    return c


def _texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
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


def layout_packaging(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(0.7, 1.5)))
    c = Canvas(w, h, (0, 0, 0), fonts, rng, cfg)
    c.img = Image.fromarray(_texture(rng, w, h))
    c.draw = ImageDraw.Draw(c.img)
    mean = np.asarray(c.img).mean()
    for _ in range(int(rng.integers(3, 9))):
        big = rng.random() < 0.4
        size = _size_for(rng, 24, 110) if big else _size_for(rng, 10, 30)
        text = (src.pick(GOODS_ZH) + src.rng.choice(["", "味", "装", "500ml", "净含量 250g"]) if big
                else src.rng.choice([src.field(), "生产日期 " + src.date(), "配料: " + "、".join(src.zh.words(3)),
                                     src.en.catch_phrase(), "保质期 12个月", src.code()]))
        if rng.random() < 0.3:   # a label panel under the text
            f = fonts.pick(rng, text)
            tw, th = c.text_width(text, size, f)
            x, y = rng.uniform(0, max(1, w - tw)), rng.uniform(0, max(1, h - th))
            panel = tuple(int(v) for v in rng.integers(0, 256, 3))
            c.draw.rectangle([x - size * 0.3, y - size * 0.3, x + tw + size * 0.3, y + th + size * 0.3], fill=panel)
            fill = _ink(rng, dark=sum(panel) > 380)
            c.text(x, y, text, size, fill, f)
        else:
            fill = _ink(rng, dark=mean > 128) if rng.random() < 0.8 else tuple(int(v) for v in rng.integers(0, 256, 3))
            c.text(rng.uniform(0, w * 0.6), rng.uniform(0, h * 0.9), text, size, fill)
    return c


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
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(1.3, 1.9)))
    canvas = scene_background(rng, w, h, cfg.real_photo_prob)
    items: List[TextItem] = []
    occupied: List[Tuple[float, float, float, float]] = []
    for _ in range(int(rng.integers(1, 6))):
        words = [src.scene_word() for _ in range(int(rng.integers(1, 4)))]
        size = _size_for(rng, 12, 90)
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
    w, h = _page_size(rng, cfg, aspect=float(rng.uniform(0.6, 1.8)))
    if rng.random() < 0.7:
        return scene_background(rng, w, h, cfg.real_photo_prob), []
    return _texture(rng, w, h), []


def layout_html(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Tuple[np.ndarray, List[TextItem]]:
    """HTML templates rendered by headless Chromium (models/data/html_render.py)."""
    from .html_render import layout_html as render
    return render(rng, src, fonts, cfg)


def layout_pdf(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Tuple[np.ndarray, List[TextItem]]:
    """Pages of installed PDF manuals rendered by poppler (models/data/pdf_render.py)."""
    from .pdf_render import layout_pdf as render
    return render(rng, src, fonts, cfg)


LAYOUTS: Dict[str, Callable] = {
    "document": layout_document, "receipt": layout_receipt, "invoice": layout_invoice,
    "id_card": layout_id_card, "screenshot": layout_screenshot, "packaging": layout_packaging,
    "scene": layout_scene, "negative": layout_negative, "html": layout_html, "pdf": layout_pdf,
}


# --------------------------------------------------------------------------- degradation
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
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.3))
    if rng.random() < 0.6:
        img += rng.normal(0, rng.uniform(1, 8), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 95))])
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return img


def render_sample(index: int, cfg: SynthConfig = SynthConfig()) -> SynthSample:
    """Render image ``index`` of the set defined by ``cfg`` (deterministic)."""
    rng = np.random.default_rng([cfg.seed, index])
    src = TextSource(int(rng.integers(0, 2 ** 31)))
    fonts = font_bank()
    category = cfg.category_for(rng)
    out = LAYOUTS[category](rng, src, fonts, cfg)
    if isinstance(out, Canvas):
        img, items = out.array(), out.items
    else:
        img, items = out
    if rng.random() < cfg.photo_prob or category == "scene":
        img = photographic(rng, img, items, scene=category in ("scene", "negative"))
    h, w = img.shape[:2]
    kept = []
    for it in items:
        it.quad = np.clip(it.quad, 0, [w - 1, h - 1]).astype(np.float32)
        if cv2.contourArea(it.quad) > 4:
            kept.append(it)
    return SynthSample(np.ascontiguousarray(img), kept, category)


# --------------------------------------------------------------------------- writing sets
def _write_one(args: Tuple[int, SynthConfig, str, str, int]) -> Tuple[str, str, int]:
    from pathlib import Path

    from ..files import atomic_write_bytes, atomic_write_text
    from .icdar import IGNORE_TEXT, format_gt

    index, cfg, root, split, quality = args
    name = f"img_{index:06d}"
    img_path = Path(root) / f"{split}_images" / f"{name}.jpg"
    gt_path = Path(root) / f"{split}_gts" / f"gt_{name}.txt"
    if img_path.is_file() and gt_path.is_file():      # cached: deterministic, so reuse
        return name, "", 0
    s = render_sample(index, cfg)
    gt = format_gt((it.quad, IGNORE_TEXT if it.ignore else it.text.replace("\n", " ")) for it in s.items)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    atomic_write_bytes(img_path, buf.tobytes())
    atomic_write_text(gt_path, gt)     # last: an image counts as rendered once its gt exists
    return name, s.category, len(s.items)


def write_dataset(root, count: int, cfg: SynthConfig = SynthConfig(), split: str = "train",
                  workers: int = 1, quality: int = 95, start: int = 0,
                  progress: ProgressFn | None = None) -> Dict[str, int]:
    """Render ``count`` images into ``root`` in the ICDAR-2015 layout (``split`` + list file).

    Images already present are kept (renders are deterministic), so an interrupted run or
    a missing cache is completed by running the same command again. Returns counts per category.
    """
    import json
    from multiprocessing import get_context
    from pathlib import Path

    root = Path(root)
    (root / f"{split}_images").mkdir(parents=True, exist_ok=True)
    (root / f"{split}_gts").mkdir(parents=True, exist_ok=True)
    if cfg.real_photo_prob > 0 and any(c in ("scene", "negative") and w > 0 for c, w in cfg.mix):
        from .photos import prepare_photo_cache
        prepare_photo_cache()   # decode the wallpapers once, before the workers start
    jobs = [(i, cfg, str(root), split, quality) for i in range(start, start + count)]
    results = []
    if workers > 1:
        with get_context("spawn").Pool(workers) as pool:
            for k, r in enumerate(pool.imap(_write_one, jobs, chunksize=8), start=1):
                results.append(r)
                if progress:
                    progress(k, count, r[0])
    else:
        for k, job in enumerate(jobs, start=1):
            results.append(_write_one(job))
            if progress:
                progress(k, count, results[-1][0])
    names = [f"img_{i:06d}.jpg" for i in range(start, start + count)]
    list_path = root / f"{split}_list.txt"
    existing = list_path.read_text(encoding="utf-8").split() if list_path.is_file() else []
    merged = sorted(set(existing) | set(names))
    list_path.write_text("\n".join(merged) + "\n", encoding="utf-8")
    categories: Dict[str, int] = {}
    meta_path = root / f"{split}_categories.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    for name, cat, _ in results:
        if cat:
            meta[name] = cat
    meta_path.write_text(json.dumps(meta, indent=0, sort_keys=True), encoding="utf-8")
    for cat in meta.values():
        categories[cat] = categories.get(cat, 0) + 1
    (root / f"{split}_synth_config.json").write_text(json.dumps(
        {"seed": cfg.seed, "mix": cfg.mix, "long_side": cfg.long_side, "photo_prob": cfg.photo_prob,
         "real_photo_prob": cfg.real_photo_prob,
         "min_text_px": cfg.min_text_px}, indent=2), encoding="utf-8")
    return categories
