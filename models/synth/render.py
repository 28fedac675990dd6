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

from typing import Callable, Dict

import cv2
import numpy as np

from .canvas import Canvas
from .degrade import photographic
from .documents import layout_document, layout_id_card, layout_invoice, layout_packaging, layout_receipt, layout_screenshot
from .fonts import font_bank
from .html.layout import layout_html
from .pdf import layout_pdf
from .scenes import layout_negative, layout_scene
from .text_sources import TextSource
from .types import DEFAULT_CONFIG, RenderedImage, SynthConfig

LAYOUTS: Dict[str, Callable] = {
    "document": layout_document, "receipt": layout_receipt, "invoice": layout_invoice,
    "id_card": layout_id_card, "screenshot": layout_screenshot, "packaging": layout_packaging,
    "scene": layout_scene, "negative": layout_negative, "html": layout_html, "pdf": layout_pdf,
}


def render_sample(index: int, cfg: SynthConfig = DEFAULT_CONFIG) -> RenderedImage:
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
    return RenderedImage(np.ascontiguousarray(img), kept, category)
