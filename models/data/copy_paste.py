"""Copy-paste of real words: more street-photo words, at more sizes, from the same photos.

Why: the word map learns from ~900 street photos, and the words it misses most are large
stylised ones (42 % of those over 48 px get no box) and small ones, which those photos hold
few of. Pasting labelled words cut from other training photos of the same source, at a random
size, adds real letter shapes, fonts, lighting and blur at the sizes the photos lack, with
exact labels (Ghiasi et al. 2021, "Simple Copy-Paste"; SynthText pastes rendered words
instead). Each word comes with a feathered rim of its own background, so its edge is not a
hard rectangle the network could learn to look for.

The bank of words of one source is cut once per loader worker, on first use, from the
source's training photos only (validation photos never donate).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from .regions import Sample

MIN_DONOR_HEIGHT = 8.0     # words smaller than this (px) blur into noise when enlarged
MAX_DONOR_WORDS = 6000     # per source: bounds the bank's memory (~100 MB at most)
RIM = 0.2                  # background kept around a word, in word heights
PLACE_TRIES = 12           # random positions tried per word before it is skipped


@dataclass(frozen=True)
class WordPatch:
    """One labelled word cut from a photo: pixels, a soft mask and its quad in patch pixels."""

    pixels: np.ndarray     # h x w x 3 uint8 (RGB)
    mask: np.ndarray       # h x w float32 in [0, 1]: the quad and its rim, feathered
    quad: np.ndarray       # 4 x 2 float32, patch coordinates
    height: float          # the word's height in the photo (short side of its rotated rectangle)


def word_height(quad: np.ndarray) -> float:
    """The short side of the quad's minimum-area rectangle: a word's letter height."""
    (_, _), (w, h), _ = cv2.minAreaRect(np.asarray(quad, np.float32).reshape(-1, 2))
    return float(min(w, h))


def cut_word(image: np.ndarray, quad: np.ndarray) -> WordPatch | None:
    """The word ``quad`` of ``image`` with a rim of its background, or None when too small."""
    quad = np.asarray(quad, np.float32).reshape(-1, 2)
    height = word_height(quad)
    if height < MIN_DONOR_HEIGHT or len(quad) < 3:
        return None
    h, w = image.shape[:2]
    rim = RIM * height
    x0, y0 = np.floor(quad.min(axis=0) - 2 * rim).astype(int)   # room for the rim to fade out
    x1, y1 = np.ceil(quad.max(axis=0) + 2 * rim).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    local = quad - np.array([x0, y0], np.float32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round(local).astype(np.int32)], 255)
    grow = max(1, int(round(rim)))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigmaX=max(0.8, grow / 2))
    # Fade to nothing at the patch's edge too (a word at the photo's border is cut short there).
    ph, pw = soft.shape
    ramp_x = np.minimum(np.arange(pw), np.arange(pw)[::-1]).astype(np.float32) / grow
    ramp_y = np.minimum(np.arange(ph), np.arange(ph)[::-1]).astype(np.float32) / grow
    soft *= np.clip(np.minimum(ramp_y[:, None], ramp_x[None, :]), 0.0, 1.0)
    return WordPatch(np.ascontiguousarray(image[y0:y1, x0:x1]), soft, local, height)


def build_bank(samples: Sequence[Sample], read_rgb: Callable[[Path], np.ndarray]) -> List[WordPatch]:
    """Every legible word of ``samples`` at least MIN_DONOR_HEIGHT high (capped at MAX_DONOR_WORDS)."""
    bank: List[WordPatch] = []
    for s in samples:
        if not any(not r.ignore for r in s.regions):
            continue
        image = read_rgb(s.image_path)
        for r in s.regions:
            if r.ignore:
                continue
            patch = cut_word(image, r.points)
            if patch is not None:
                bank.append(patch)
                if len(bank) >= MAX_DONOR_WORDS:
                    return bank
    return bank


def _overlaps(box: Tuple[float, float, float, float], boxes: Sequence[Tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def paste_words(rng: np.random.Generator, image: np.ndarray, polygons: Sequence[np.ndarray],
                ignore: Sequence[bool], bank: Sequence[WordPatch], count: int,
                height_range: Tuple[float, float], max_rotation: float = 15.0
                ) -> Tuple[np.ndarray, List[np.ndarray], List[bool]]:
    """``image`` with up to ``count`` words of ``bank`` pasted where no text is, each at a
    log-uniform height in ``height_range`` (image pixels) and a small random rotation; the
    pasted quads join the labels. A word that finds no free place is skipped."""
    polys = [np.asarray(p, np.float32).reshape(-1, 2) for p in polygons]
    flags = [bool(f) for f in ignore]
    if not bank or count <= 0:
        return image, polys, flags
    out = image.copy()
    h, w = out.shape[:2]
    taken = [(float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
             for p in polys]
    lo, hi = height_range
    for _ in range(count):
        patch = bank[int(rng.integers(len(bank)))]
        target = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        scale = target / patch.height
        angle = rng.uniform(-max_rotation, max_rotation)
        ph, pw = patch.mask.shape
        m = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, scale)
        corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64) @ m[:, :2].T + m[:, 2]
        m[:, 2] -= corners.min(axis=0)                        # the warped patch starts at (0, 0)
        bw, bh = (np.ceil(corners.max(axis=0) - corners.min(axis=0))).astype(int)
        if bw < 2 or bh < 2 or bw >= w or bh >= h:
            continue
        for _ in range(PLACE_TRIES):
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            if not _overlaps((x, y, x + bw, y + bh), taken):
                break
        else:
            continue
        quad = (patch.quad.astype(np.float64) @ m[:, :2].T + m[:, 2] + [x, y]).astype(np.float32)
        pixels = cv2.warpAffine(patch.pixels, m, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        alpha = cv2.warpAffine(patch.mask, m, (bw, bh), flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
        region = out[y:y + bh, x:x + bw].astype(np.float32)
        out[y:y + bh, x:x + bw] = np.clip(region + alpha * (pixels.astype(np.float32) - region) + 0.5,
                                          0, 255).astype(np.uint8)
        polys.append(quad)
        flags.append(False)
        taken.append((float(x), float(y), float(x + bw), float(y + bh)))   # the patch and its rim
    return out, polys, flags


class WordBanks:
    """The word banks of a dataset's paste groups, cut lazily (once per loader worker)."""

    def __init__(self, samples: Sequence[Sample], groups: Sequence[int | None],
                 read_rgb: Callable[[Path], np.ndarray]) -> None:
        self._members: Dict[int, List[Sample]] = {}
        for s, g in zip(samples, groups):
            if g is not None:
                self._members.setdefault(g, []).append(s)
        self._banks: Dict[int, List[WordPatch]] = {}
        self._read = read_rgb

    def bank(self, group: int) -> List[WordPatch]:
        if group not in self._banks:
            self._banks[group] = build_bank(self._members.get(group, []), self._read)
        return self._banks[group]

    def __getstate__(self) -> dict:
        """Workers cut their own banks: never pickle cut patches to them."""
        state = dict(self.__dict__)
        state["_banks"] = {}
        return state
