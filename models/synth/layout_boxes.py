"""Boxes from real layout engines (headless Chromium, poppler): shared geometry.

Both engines report text as *tokens* (a word, or one CJK character) with a rectangle in
reading order and a *group* (the block element, or the PDF text line, it belongs to).
:func:`merge_tokens` joins them into the renderer's granularity, and
:func:`tighten_box` shrinks each rectangle from the font's line box (ascent + descent,
what the DOM and ``pdftotext -bbox`` give) to the ink actually drawn, so that boxes from
every category of the renderer measure the same thing: tight text lines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

Box = Tuple[float, float, float, float]      # x0, y0, x1, y1 (x1/y1 are pixel edges)


class EngineUnavailable(RuntimeError):
    """A layout engine's program or data is missing; the message says what to install."""


@dataclass
class Token:
    group: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    ignore: bool = False
    separator: bool = False     # breaks a run and is not text itself (dot leaders)

    @property
    def h(self) -> float:
        return self.y1 - self.y0


@dataclass
class Run:
    """One output box: a text line run (or a word) of one group."""

    group: int
    box: Box
    text: str
    ignore: bool = False


def _same_line(line: List[Token], t: Token) -> bool:
    last = line[-1]
    overlap = min(last.y1, t.y1) - max(last.y0, t.y0)
    return overlap > 0.5 * min(last.h, t.h) and t.x0 >= last.x0 - 0.5


def merge_tokens(tokens: Sequence[Token], granularity: str = "line", gap: float = 1.0) -> List[Run]:
    """Join tokens into boxes.

    Args:
        tokens: in reading order; tokens of one group that follow each other on the same
            baseline (left to right) form a line.
        granularity: ``"line"``: one box per run of a line, a gap wider than ``gap`` times
            the line height starting a new run (key/value columns, tab stops);
            ``"word"``: one box per space-separated word (a CJK run is one word).
        gap: the run-splitting gap, in line heights.
    """
    if granularity not in ("line", "word"):
        raise ValueError(f"granularity must be 'line' or 'word', got {granularity!r}")
    lines: Dict[int, List[List[Token]]] = {}
    order: List[List[Token]] = []
    for t in tokens:
        if t.x1 - t.x0 <= 0 or t.h <= 0:
            continue
        group_lines = lines.setdefault(t.group, [])
        if group_lines and _same_line(group_lines[-1], t):
            group_lines[-1].append(t)
        else:
            group_lines.append([t])
            order.append(group_lines[-1])
    runs: List[Run] = []
    for line in order:
        line = sorted(line, key=lambda t: t.x0)
        h = float(np.median([t.h for t in line if not t.separator] or [t.h for t in line]))
        split = gap * h if granularity == "line" else 0.12 * h
        words = [t for t in line if not t.separator]
        gaps = [b.x0 - a.x1 for a, b in zip(words, words[1:]) if b.x0 - a.x1 > 0.12 * h]
        if granularity == "line" and len(gaps) >= 4:
            split = max(split, 2.5 * float(np.median(gaps)))   # justified text: even wide gaps are spaces
        space = 0.12 * h
        cur: List[Token] = []
        for t in line:
            if t.separator:
                _flush(cur, space, runs)
                continue
            if cur and t.x0 - cur[-1].x1 > split:
                _flush(cur, space, runs)
            cur.append(t)
        _flush(cur, space, runs)
    return runs


def _flush(cur: List[Token], space: float, runs: List[Run]) -> None:
    """Close the run of tokens in ``cur`` (a gap wider than ``space`` reads as a space)."""
    if cur:
        text = cur[0].text
        for a, b in zip(cur, cur[1:]):
            text += (" " if b.x0 - a.x1 > space else "") + b.text
        box = (min(t.x0 for t in cur), min(t.y0 for t in cur), max(t.x1 for t in cur), max(t.y1 for t in cur))
        runs.append(Run(cur[0].group, box, text, any(t.ignore for t in cur)))
    cur.clear()


def separate_lines(runs: List[Run]) -> None:
    """Where the boxes of two lines, one above the other, overlap (line-height below the
    font's ascent + descent), cut both at the middle of the overlap, so that tightening a
    line to its ink cannot reach the descenders of the line above."""
    order = sorted(runs, key=lambda r: r.box[1])
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            ax0, ay0, ax1, ay1 = a.box
            bx0, by0, bx1, by1 = b.box
            if by0 >= ay1:
                break
            if min(ax1, bx1) <= max(ax0, bx0):
                continue        # side by side
            if (by0 + by1) - (ay0 + ay1) < 0.5 * min(ay1 - ay0, by1 - by0):
                continue        # the same row (text over text): leave alone
            mid = (ay1 + by0) / 2
            a.box = (ax0, ay0, ax1, max(ay0 + 1, mid))
            b.box = (bx0, min(by1 - 1, mid), bx1, by1)


def tighten_box(img: np.ndarray, box: Box, ref: Optional[np.ndarray] = None, thresh: float = 40.0,
                pad: int = 1) -> Tuple[Optional[Tuple[int, int, int, int]], float]:
    """Shrink ``box`` to the ink inside it.

    Args:
        img: HxWx3 uint8 page.
        box: rectangle in ``img`` pixels.
        ref: the same page rendered without text (exact ink = ``img != ref``); without it
            the background is the median colour of the rectangle's border.
        thresh: a pixel is ink when a channel differs from the background by more.
        pad: pixels added around ``box`` before tightening (overhanging glyphs).

    Returns:
        ``((x0, y0, x1, y1), contrast)`` with integer pixel edges, or ``(None, 0)`` when the
        rectangle holds no ink; ``contrast`` is the largest difference from the background.
    """
    H, W = img.shape[:2]
    xa, ya = max(0, int(math.floor(box[0])) - pad), max(0, int(math.floor(box[1])) - pad)
    xb, yb = min(W, int(math.ceil(box[2])) + pad), min(H, int(math.ceil(box[3])) + pad)
    if xb - xa < 1 or yb - ya < 1:
        return None, 0.0
    sub = img[ya:yb, xa:xb].astype(np.int16)
    if ref is not None:
        diff = np.abs(sub - ref[ya:yb, xa:xb].astype(np.int16)).max(axis=2)
    else:
        border = np.concatenate([sub[0], sub[-1], sub[:, 0], sub[:, -1]])
        bg = np.median(border, axis=0).astype(np.int16)
        diff = np.abs(sub - bg).max(axis=2)
    ink = diff > thresh
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None, 0.0
    return (xa + int(cols[0]), ya + int(rows[0]), xa + int(cols[-1]) + 1, ya + int(rows[-1]) + 1), float(diff.max())


def visible_text(box: Box, width: int, height: int, text: str) -> Optional[str]:
    """Transcription of the part of a line inside the image, or ``None`` when the part is
    not worth a label (cut through its glyphs vertically, or shorter than two heights).

    A line cut by the left or right edge keeps the characters in proportion to what is
    visible (approximate for proportional fonts; the detector only uses the box)."""
    x0, y0, x1, y1 = box
    if x0 >= -1 and y0 >= -1 and x1 <= width + 1 and y1 <= height + 1:
        return text
    h = y1 - y0
    vis_h = min(y1, height) - max(y0, 0)
    vis_w = min(x1, width) - max(x0, 0)
    if vis_h < 0.85 * h or vis_w < 2 * vis_h or x1 - x0 <= 0:
        return None
    n = max(1, int(round(len(text) * vis_w / (x1 - x0))))
    return (text[:n] if x0 >= -1 else text[-n:] if x1 <= width + 1 else text[:n]).strip() or None


def quad(box: Sequence[float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
