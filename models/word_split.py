"""Splitting a text line's box into word boxes at the gaps of the probability map.

Why: the network learns lines from documents (receipts, forms, pages are labelled by line)
and words from scene photos (ICDAR is labelled by word), and on a street sign it often joins
the words of a line into one region whose probability never drops below the detection
threshold between them. It does dip there: along the line, the columns over a gap are
clearly less probable than the columns over letters. Cutting at those dips gives the word
boxes that scene-text users (and the ICDAR protocol) expect; documents keep their lines
(``DetectorConfig.granularity``; measured in weights/TRAINING_LOG.md).
"""
from __future__ import annotations

from typing import List

import cv2
import numpy as np

#: A box shorter than this many of its heights holds one word at most: never split.
MIN_ASPECT = 1.5
#: Pieces shorter than this fraction of the height are slivers between two gaps: dropped.
MIN_PIECE = 0.3
#: The line's typical level: this percentile of its column profile (letters, not gaps).
LEVEL_PERCENTILE = 80


def _long_side_first(box: np.ndarray) -> np.ndarray:
    """The rectangle's corners rotated so that corner 0 -> 1 runs along its long side."""
    p = np.asarray(box, np.float32).reshape(4, 2)
    if np.linalg.norm(p[2] - p[1]) > np.linalg.norm(p[1] - p[0]):
        p = np.roll(p, -1, axis=0)
    return p


def gap_runs(profile: np.ndarray, level: float, min_width: float) -> List[tuple[int, int]]:
    """Interior runs ``[start, stop)`` of ``profile`` below ``level`` at least ``min_width`` long.

    Runs that touch either end are the box's own margins, not gaps between words."""
    low = profile < level
    runs, x, n = [], 0, len(profile)
    while x < n:
        if not low[x]:
            x += 1
            continue
        start = x
        while x < n and low[x]:
            x += 1
        if start > 0 and x < n and x - start >= min_width:
            runs.append((start, x))
    return runs


def split_words(prob: np.ndarray, box: np.ndarray, gap: float, min_gap_width: float) -> List[np.ndarray]:
    """Word boxes (4x2 float32, map coordinates) of the line rectangle ``box`` on ``prob``.

    The rectangle is straightened along its long side; a gap is a run of columns whose mean
    probability stays below ``gap`` times the line's typical level, at least
    ``min_gap_width`` heights wide. Returns ``[box]`` unchanged when there is no gap.
    """
    p = _long_side_first(box)
    length = int(round(float(np.linalg.norm(p[1] - p[0]))))
    height = int(round(float(np.linalg.norm(p[2] - p[1]))))
    if height < 2 or length < MIN_ASPECT * height:      # a sliver, or one word at most
        return [np.asarray(box, np.float32)]
    straight = np.float32([[0, 0], [length, 0], [length, height], [0, height]])
    to_straight = cv2.getPerspectiveTransform(p, straight)
    strip = cv2.warpPerspective(np.ascontiguousarray(prob, np.float32), to_straight, (length, height),
                                flags=cv2.INTER_LINEAR)
    profile = np.convolve(strip.mean(axis=0), np.ones(3, np.float32) / 3, mode="same")
    level = gap * float(np.percentile(profile, LEVEL_PERCENTILE))
    runs = gap_runs(profile, level, min_gap_width * height)
    if not runs:
        return [np.asarray(box, np.float32)]
    edges = [0] + [e for run in runs for e in run] + [length]
    back = np.linalg.inv(to_straight)
    pieces = []
    for a, b in zip(edges[0::2], edges[1::2]):
        if b - a < MIN_PIECE * height:
            continue
        corners = np.float32([[[a, 0], [b, 0], [b, height], [a, height]]])
        pieces.append(cv2.perspectiveTransform(corners, back)[0])
    return pieces or [np.asarray(box, np.float32)]
