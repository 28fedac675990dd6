"""Lines or words: which boxes an image gets with ``granularity='auto'``.

Why: documents, receipts, forms and Chinese text are read (and labelled) by line; Latin
scene text, a street sign or a shop window, by word (the ICDAR convention, and what the
scene-text sets measure). One default has to serve both, so ``auto`` looks for a scene:
  1. few lines (a page has many: ``words_max_lines``);
  2. a busy background: outside the text, a street photo is full of edges, while paper,
     screens and plain designs are flat (``words_min_edges``, the fraction of Canny edge
     pixels at 512 px, outside the dilated text map);
and then, line by line, a CJK line stays whole (``models.script_guard``, ``cjk_guard``).
Each cue and its threshold was measured on the validation splits and the seed's rendered
categories (weights/TRAINING_LOG.md, "Lines or words").
"""
from __future__ import annotations

import cv2
import numpy as np

from .config import DetectorConfig

#: The background is judged at this long side (edge density depends on the scale).
EDGE_SIDE = 512
#: Canny thresholds: strong, real edges (leaves, bricks, cars), not paper grain or JPEG noise.
CANNY_LOW, CANNY_HIGH = 60, 150
#: Probability above which a pixel counts as text when masking it out of the background.
TEXT_PROB = 0.2
#: Dilation (pixels at ``EDGE_SIDE``) of the text mask: the letters' own edges stay out.
TEXT_MARGIN = 9


def background_edge_density(gray: np.ndarray, prob: np.ndarray) -> float:
    """Fraction of edge pixels outside the text, on ``gray`` and ``prob`` of one size."""
    h, w = gray.shape[:2]
    scale = min(1.0, EDGE_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else gray
    text = cv2.resize((prob > TEXT_PROB).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    text = cv2.dilate(text, np.ones((TEXT_MARGIN, TEXT_MARGIN), np.uint8))
    background = text == 0
    if not background.any():
        return 0.0
    edges = cv2.Canny(small, CANNY_LOW, CANNY_HIGH)
    return float(np.count_nonzero(edges[background])) / float(np.count_nonzero(background))


def wants_words(cfg: DetectorConfig, n_lines: int, gray: np.ndarray | None, prob: np.ndarray) -> bool:
    """Whether this image's lines are cut into words (before the per-line CJK guard).

    Without ``gray`` (a caller that has only the map) ``auto`` judges by the line count."""
    if cfg.granularity == "words":
        return True
    if cfg.granularity != "auto" or n_lines > cfg.words_max_lines:
        return False
    if gray is None or cfg.words_min_edges <= 0:
        return True
    return background_edge_density(gray, prob) >= cfg.words_min_edges
