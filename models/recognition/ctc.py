"""CTC greedy decoding: per-step best class, merge repeats, drop the blank.

A character's confidence is its step's probability; a line's score is their mean (what
PaddleOCR reports), 0.0 for an empty line.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

BLANK = 0


def ctc_greedy_decode(probs: np.ndarray, charset: Sequence[str], blank: int = BLANK) -> List[Tuple[str, float]]:
    """Decode a ``(N, T, C)`` probability array into ``(text, score)`` per row.

    Args:
        probs: per-step class probabilities (softmax output); ``C == len(charset)``.
        charset: the label of each class; ``charset[blank]`` is never emitted.

    Raises:
        ValueError: wrong rank, or a class count that does not match ``charset``.
    """
    probs = np.asarray(probs)
    if probs.ndim != 3:
        raise ValueError(f"expected (N, T, C) probabilities, got shape {probs.shape}")
    if probs.shape[2] != len(charset):
        raise ValueError(f"the model predicts {probs.shape[2]} classes but the character list has "
                         f"{len(charset)} (blank included): model and dictionary do not belong together")
    best = probs.argmax(axis=2)
    best_p = probs.max(axis=2)
    out: List[Tuple[str, float]] = []
    for idx, p in zip(best, best_p):
        keep = np.ones(len(idx), bool)
        keep[1:] = idx[1:] != idx[:-1]
        keep &= idx != blank
        text = "".join(charset[i] for i in idx[keep])
        score = float(p[keep].mean()) if keep.any() else 0.0
        out.append((text, score))
    return out
