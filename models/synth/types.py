"""What the renderer makes and is told: text items with exact quads, rendered images, the mix.

Every layout (PIL, HTML, PDF) returns its text as :class:`TextItem` s, so boxes follow the
image through degradation the same way whatever drew them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np


@dataclass
class TextItem:
    quad: np.ndarray          # (4, 2) float32, clockwise from top-left
    text: str
    ignore: bool = False


@dataclass
class RenderedImage:
    """One rendered training image and its text (what :func:`~models.synth.render.render_sample` returns)."""

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


DEFAULT_CONFIG = SynthConfig()   # the built-in mix and looks
