"""DB post-processing: probability map -> quadrilaterals (and optionally polygons).

Framework-free (numpy, OpenCV, pyclipper) so that it serves the PyTorch and the ONNX
Runtime backends alike, and training-time evaluation too. One class, all knobs in the
``DetectorConfig`` its constructor takes (as PaddleOCR's ``DBPostProcess``, without
repeating the defaults).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, List, Tuple

import cv2
import numpy as np
import pyclipper

from .config import DetectorConfig
from .granularity import wants_words
from .preprocess import ResizeInfo
from .script_guard import load_guard
from .word_split import split_words


@dataclass
class Reading:
    """How the post-processing read one image; :mod:`models.mirror` decides by it.

    ``words``: read by word (``granularity`` words, or ``auto`` judged it a scene photo;
    without a word map, with ``zoom_words``, ``mirror_words`` and ``lines_shift`` off, known only where some
    line was cut);
    ``cjk``: the script guard kept some line whole as Chinese, Japanese or Korean."""

    words: bool = False
    cjk: bool = False


@dataclass
class Boxes:
    """Detections of one image in original pixel coordinates."""

    quads: np.ndarray                                  # (N, 4, 2) int32, clockwise from top-left
    scores: np.ndarray                                 # (N,) float32
    polygons: List[np.ndarray] = field(default_factory=list)  # (K, 2) int32 each, if requested
    reading: Reading = field(default_factory=Reading)   # by word, CJK: models.mirror reads it


def order_clockwise(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise (in image coordinates, y down) starting at the top-left.

    Top-left is the point with the smallest x + y; ties (a 45-degree square) go to the
    one with the smaller y, so the order is unique. Plain Python on four points: numpy's
    per-call overhead made this the slowest step of post-processing.
    """
    p = [(float(x), float(y)) for x, y in np.asarray(pts, dtype=np.float64).reshape(4, 2)]
    cx = (p[0][0] + p[1][0] + p[2][0] + p[3][0]) / 4.0
    cy = (p[0][1] + p[1][1] + p[2][1] + p[3][1]) / 4.0
    p.sort(key=lambda q: math.atan2(q[1] - cy, q[0] - cx))   # increasing angle = clockwise on screen
    start = min(range(4), key=lambda i: (round(p[i][0] + p[i][1], 6), p[i][1]))
    return np.array(p[start:] + p[:start], dtype=np.float64)


def unclip(points: np.ndarray, ratio: float) -> np.ndarray | None:
    """Grow a polygon by D = area * ratio / perimeter (the DB paper's Eq. 10)."""
    poly = points.reshape(-1, 2).astype(np.float64)
    area = abs(cv2.contourArea(poly.astype(np.float32)))
    length = cv2.arcLength(poly.astype(np.float32), True)
    if length <= 0:
        return None
    distance = area * ratio / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath([tuple(p) for p in poly.round().astype(np.int64).tolist()],
                   pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    expanded = offset.Execute(distance)
    if not expanded:
        return None
    best = max(expanded, key=lambda p: abs(cv2.contourArea(np.asarray(p, np.float32))))
    return np.asarray(best, dtype=np.float32)


def mini_box(contour: np.ndarray) -> Tuple[np.ndarray, float]:
    """Minimum-area rectangle (4x2, corners in cyclic order) and its short side.

    The corners are ordered clockwise from the top-left only once, for the final quad."""
    rect = cv2.minAreaRect(contour.reshape(-1, 2).astype(np.float32))
    return cv2.boxPoints(rect), float(min(rect[1]))


def box_score_fast(prob: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside the quadrilateral ``box`` (computed on its bounding crop)."""
    h, w = prob.shape
    lo, hi = box.min(axis=0), box.max(axis=0)   # scalar clamping in Python: np.clip per value is slow
    xmin = min(max(math.floor(float(lo[0])), 0), w - 1)
    xmax = min(max(math.ceil(float(hi[0])), 0), w - 1)
    ymin = min(max(math.floor(float(lo[1])), 0), h - 1)
    ymax = min(max(math.ceil(float(hi[1])), 0), h - 1)
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = (box - np.array([xmin, ymin], dtype=box.dtype)).round().astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(prob[ymin:ymax + 1, xmin:xmax + 1], mask)[0])


def box_score_slow(prob: np.ndarray, contour: np.ndarray) -> float:
    """Mean probability inside the contour polygon itself (slower, tighter for curves)."""
    return box_score_fast(prob, contour.reshape(-1, 2).astype(np.float32))


class DBPostProcess:
    """Turns a probability map into boxes in original image coordinates.

    Every knob comes from a :class:`DetectorConfig` (defaults and bounds live there only)."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        cfg = config if config is not None else DetectorConfig()
        self.config = cfg
        self.thresh = cfg.thresh
        self.box_thresh = cfg.box_thresh
        self.max_candidates = cfg.max_candidates
        self.unclip_ratio = cfg.unclip_ratio
        self.min_size = cfg.min_size
        self.score_mode = cfg.score_mode
        self.box_type = cfg.box_type
        self.dilation_kernel = np.ones((2, 2), np.uint8) if cfg.use_dilation else None

    def __call__(self, prob: np.ndarray, info: ResizeInfo, gray: np.ndarray | None = None,
                 bitmap: np.ndarray | None = None,
                 words: np.ndarray | Callable[[], np.ndarray] | None = None,
                 line_bitmap: np.ndarray | None = None) -> Boxes:
        """``prob``: the (input_h, input_w) probability map of one padded image, or (2, input_h,
        input_w) for a network with a word map (lines, then words: ``DBNetConfig.word_head``);
        ``gray``: that image in grey, the same size (padded or not), for ``auto``'s background
        cue and the CJK guard of ``auto`` and ``words`` (without it, every line may be cut);
        ``bitmap``: the line map ``> thresh`` as uint8, when the GPU thresholded the exact map
        and ``prob`` is a uint8 copy of it (:mod:`models.gpu_stream`), and ``line_bitmap`` the
        map ``> thresh + lines_shift`` for an image read by line; ``words``: the word map
        apart, (input_h, input_w), or a callable that computes it, called only if this image
        wants words (:class:`models.backends.WordMapOnDemand`: a page never runs the word map)."""
        prob = np.asarray(prob, dtype=np.float32)
        words_map = words
        if prob.ndim == 3:
            if prob.shape[0] > 1:
                words_map = prob[1]
            prob = prob[0]
        if not self.config.word_map:
            words_map = None     # cut the lines at the line map's gaps instead
        prob = prob[:info.resized_h, :info.resized_w]   # drop the padding
        if gray is not None:
            gray = gray[:info.resized_h, :info.resized_w]
        lines = self._regions(prob, bitmap)
        sx, sy = info.scale_x, info.scale_y
        reading = Reading()
        if words_map is not None:
            regions = self._words_from_map(prob, words_map, lines, gray, reading)
        else:
            regions = self._words_or_lines(prob, lines, gray, reading)
        if not reading.words and self.config.lines_shift > 0:
            # read by line: the lines again, cut a little higher (DetectorConfig.lines_shift)
            thresh, box_thresh = self.config.line_cut
            regions = self._regions(prob, line_bitmap, thresh=thresh, box_thresh=box_thresh)
        quads, scores, polys = [], [], []
        for _, outline, quad, score in regions:
            if self.box_type == "poly":
                poly_grown = unclip(outline.reshape(-1, 2).astype(np.float32), self.unclip_ratio)
                poly = poly_grown if poly_grown is not None else quad
                polys.append(self._to_original(poly, sx, sy, info).astype(np.int32))
            quads.append(quad)
            scores.append(score)
        if not quads:
            return Boxes(np.zeros((0, 4, 2), np.int32), np.zeros((0,), np.float32), polys, reading)
        quads_orig = self._to_original(np.concatenate(quads), sx, sy, info).reshape(-1, 4, 2)
        quads_arr = np.stack([order_clockwise(q) for q in quads_orig]).round().astype(np.int32)
        # Reading order: top to bottom, then left to right.
        order = np.lexsort((quads_arr[:, 0, 0], quads_arr[:, 0, 1]))
        return Boxes(quads_arr[order], np.asarray(scores, np.float32)[order],
                     [polys[i] for i in order] if polys else [], reading)

    def _regions(self, prob: np.ndarray, bitmap: np.ndarray | None = None, thresh: float | None = None,
                 box_thresh: float | None = None) -> list:
        """The text regions of one unpadded map: (kernel box, its outline, grown quad, score)
        for every connected area above ``thresh`` whose mean probability reaches ``box_thresh``
        (the configured ones unless given); ``bitmap``: the map above that ``thresh``, when the
        device thresholded the exact map."""
        box_thresh = self.box_thresh if box_thresh is None else box_thresh
        if bitmap is None:
            bitmap = (prob > (self.thresh if thresh is None else thresh)).astype(np.uint8)
        else:
            bitmap = np.ascontiguousarray(bitmap[:prob.shape[0], :prob.shape[1]], dtype=np.uint8)
        if self.dilation_kernel is not None:
            bitmap = cv2.dilate(bitmap, self.dilation_kernel)
        contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        if len(contours) > self.max_candidates:
            # Keep the largest regions: a cap must never drop big text for specks.
            contours = sorted(contours, key=cv2.contourArea, reverse=True)[:self.max_candidates]
        regions = []
        for contour in contours:
            if len(contour) < 3:
                continue
            box, short = mini_box(contour)
            if short < self.min_size:
                continue
            score = box_score_fast(prob, box) if self.score_mode == "fast" else box_score_slow(prob, contour)
            if score < box_thresh:
                continue
            quad = self._grow(box)
            if quad is not None:
                regions.append((box, contour, quad, score))
        return regions

    def _lines_only(self, lines: list) -> bool:
        """Lines without asking the pixels: ``granularity`` lines, or ``auto`` on a page of many lines."""
        cfg = self.config
        return cfg.granularity == "lines" or (cfg.granularity == "auto" and len(lines) > cfg.words_max_lines)

    def _words_from_map(self, prob: np.ndarray, words_map: np.ndarray | Callable[[], np.ndarray], lines: list,
                        gray: np.ndarray | None, reading: Reading) -> list:
        """Where this image wants words (``granularity``; ``auto`` judges by the line map, as
        without a word map), the regions of the word map, each cut at its own gaps; the lines
        elsewhere. A line the script guard finds CJK stays whole, the word regions inside it
        dropped: the word map splits "可乐净含量 250g" into two regions, each too short for the
        guard to read on its own (GPU stage 6's word-map network on the packaging renders: 0.587
        without this, 0.618 with it; training log)."""
        cfg = self.config
        if self._lines_only(lines) or not wants_words(cfg, len(lines), gray, prob):
            return lines
        reading.words = True
        if callable(words_map):
            words_map = words_map()
        words_map = np.ascontiguousarray(np.asarray(words_map, dtype=np.float32)[:prob.shape[0], :prob.shape[1]])
        words = self._regions(words_map)
        owner = self._owning_lines(lines, words)
        inside: List[List[int]] = [[] for _ in lines]   # the word regions of each line
        for j, o in enumerate(owner):
            if o is not None:
                inside[o].append(j)
        cjk = self._cjk_lines(gray, lines, inside, reading)     # asked only of lines the word map cuts
        kept_lines = [line for line, whole in zip(lines, cjk) if whole]
        words = [w for w, o in zip(words, owner) if o is None or not cjk[o]]
        return kept_lines + self._cut(words_map, words, gray, [
            split_words(words_map, box, cfg.word_gap, cfg.word_map_gap_width) for box, *_ in words], reading)

    @staticmethod
    def _owning_lines(lines: list, words: list) -> List[int | None]:
        """For each word region, the first line whose grown quad holds its centre (None: none)."""
        owner: List[int | None] = [None] * len(words)
        if not words or not lines:
            return owner
        centres = np.array([np.asarray(box, dtype=np.float64).reshape(-1, 2).mean(axis=0) for box, *_ in words])
        for i, (_, _, quad, _) in enumerate(lines):
            q = np.asarray(quad, dtype=np.float32).reshape(-1, 1, 2)
            lo, hi = q.reshape(-1, 2).min(axis=0), q.reshape(-1, 2).max(axis=0)
            # only the centres inside the quad's bounding box are tested (a page in `words` has
            # hundreds of lines and word regions: a test of every pair took 0.1-0.2 s)
            near = np.flatnonzero((centres[:, 0] >= lo[0]) & (centres[:, 0] <= hi[0])
                                  & (centres[:, 1] >= lo[1]) & (centres[:, 1] <= hi[1]))
            for j in near:
                if owner[j] is None and cv2.pointPolygonTest(q, (float(centres[j, 0]), float(centres[j, 1])), False) >= 0:
                    owner[j] = i
        return owner

    def _grow(self, box: np.ndarray) -> np.ndarray | None:
        """The shrunk kernel ``box`` unclipped back to the text's size (None: too small)."""
        grown = unclip(box, self.unclip_ratio)
        if grown is None:
            return None
        quad, short = mini_box(grown)
        return quad if short >= self.min_size + 2 else None

    def _words_or_lines(self, prob: np.ndarray, lines: list, gray: np.ndarray | None, reading: Reading) -> list:
        """The lines, or (``granularity`` words or auto) each cut at its gaps
        (``models.word_split``) into words that are scored and grown like lines, a word below
        ``box_thresh`` dropped. A line the script guard finds CJK (``gray`` given) stays
        whole. The costlier questions (auto's background cue, the guard) are asked only
        when some line has a gap to cut at, or (``zoom_words``, ``mirror_words``,
        ``lines_shift``) to tell ``reading`` whether the image is read by word."""
        cfg = self.config
        if not lines or self._lines_only(lines):
            return lines
        prob = np.ascontiguousarray(prob)   # the unpadded view is strided: copy it once, not per line
        cut = [split_words(prob, box, cfg.word_gap, cfg.word_gap_width) for box, *_ in lines]
        if all(len(pieces) == 1 for pieces in cut):
            reading.words = (cfg.mirror_words or cfg.zoom_words > 1.0 or cfg.lines_shift > 0) and \
                wants_words(cfg, len(lines), gray, prob)
            return lines
        if not wants_words(cfg, len(lines), gray, prob):
            return lines
        reading.words = True
        return self._cut(prob, lines, gray, cut, reading)

    def _cut(self, prob: np.ndarray, lines: list, gray: np.ndarray | None, cut: list, reading: Reading) -> list:
        """Each line replaced by its pieces (``cut``: :func:`split_words` of each), scored and
        grown like lines, a piece below ``box_thresh`` dropped; a CJK line stays whole."""
        out = []
        for (box, outline, quad, score), pieces, keep in zip(lines, cut, self._cjk_lines(gray, lines, cut, reading)):
            if len(pieces) == 1 or keep:
                out.append((box, outline, quad, score))
                continue
            for piece in pieces:
                piece_score = box_score_fast(prob, piece)
                grown = self._grow(piece) if piece_score >= self.box_thresh else None
                if grown is not None:
                    out.append((piece, piece, grown, piece_score))
        return out

    def _cjk_lines(self, gray: np.ndarray | None, lines: list, cut: list, reading: Reading) -> List[bool]:
        """For each line: keep it whole because it is CJK? Only lines that would be cut are asked;
        ``reading.cjk`` notes a yes."""
        asked = [i for i, pieces in enumerate(cut) if len(pieces) > 1]
        keep = [False] * len(lines)
        if gray is None or not asked or self.config.cjk_guard >= 1.0:
            return keep
        probs = load_guard().cjk_probability(gray, [lines[i][2] for i in asked])
        for i, p in zip(asked, probs):
            keep[i] = p >= self.config.cjk_guard
        reading.cjk = reading.cjk or any(keep)
        return keep

    @staticmethod
    def _to_original(pts: np.ndarray, sx: float, sy: float, info: ResizeInfo) -> np.ndarray:
        out = np.asarray(pts, dtype=np.float64).reshape(-1, 2).copy()
        out[:, 0] = np.clip(out[:, 0] / sx, 0, info.orig_w - 1)
        out[:, 1] = np.clip(out[:, 1] / sy, 0, info.orig_h - 1)
        return out
