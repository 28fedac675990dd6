"""Lines cut into words at the dips of the probability map (models.word_split, granularity)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.config import DetectorConfig
from models.postprocess import DBPostProcess
from models.preprocess import ResizeInfo
from models.word_split import gap_runs, split_words


def _info(h: int, w: int) -> ResizeInfo:
    return ResizeInfo(h, w, h, w, h, w)


def _sign(angle: float = 0.0, words=((60, 160), (190, 260), (290, 420)), bridge: float = 0.5,
          h: int = 300, w: int = 500) -> tuple[np.ndarray, list[np.ndarray]]:
    """A map with one line of words (0.9) joined by bridges (``bridge``, above the detection
    threshold, so thresholding alone sees one region), rotated by ``angle`` about the centre;
    also the words' kernel rectangles in map coordinates."""
    prob = np.zeros((h, w), np.float32)
    y0, y1 = 130, 160
    prob[y0:y1, words[0][0]:words[-1][1]] = bridge
    for x0, x1 in words:
        prob[y0:y1, x0:x1] = 0.9
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    prob = cv2.warpAffine(prob, rot, (w, h), flags=cv2.INTER_NEAREST)
    rects = []
    for x0, x1 in words:
        corners = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        rects.append(cv2.transform(corners[None], rot)[0])
    return prob, rects


def _centre_inside(quad: np.ndarray, rect: np.ndarray) -> bool:
    c = np.asarray(quad, np.float32).reshape(4, 2).mean(axis=0)
    return cv2.pointPolygonTest(rect.reshape(-1, 1, 2).astype(np.float32), (float(c[0]), float(c[1])), False) > 0


@pytest.mark.parametrize("angle", [0, 12, -25])
def test_a_joined_line_is_cut_into_its_words(angle):
    prob, rects = _sign(angle)
    cfg = DetectorConfig(thresh=0.3, box_thresh=0.4, granularity="words")
    quads = DBPostProcess(cfg)(prob, _info(*prob.shape)).quads
    assert len(quads) == 3
    for rect in rects:                                   # one box per word, on that word
        assert sum(_centre_inside(q, rect) for q in quads) == 1
    lines = DBPostProcess(cfg.with_overrides(granularity="lines"))(prob, _info(*prob.shape)).quads
    assert len(lines) == 1


def test_a_line_without_dips_stays_whole():
    prob, _ = _sign(bridge=0.9)                          # no gap at all: one long word
    quads = DBPostProcess(DetectorConfig(granularity="words"))(prob, _info(*prob.shape)).quads
    assert len(quads) == 1


def test_shallow_dips_and_narrow_gaps_are_not_cut():
    prob, _ = _sign(bridge=0.8)                          # the dip is 11 % of the level: not a gap
    assert len(DBPostProcess(DetectorConfig(granularity="words"))(prob, _info(*prob.shape)).quads) == 1
    prob, _ = _sign(words=((60, 160), (163, 260), (263, 420)))   # 3 px gaps on a 30 px line
    assert len(DBPostProcess(DetectorConfig(granularity="words"))(prob, _info(*prob.shape)).quads) == 1


def test_auto_cuts_sparse_images_and_keeps_document_lines():
    sign, _ = _sign()
    auto = DetectorConfig(granularity="auto", words_max_lines=10)
    assert len(DBPostProcess(auto)(sign, _info(*sign.shape)).quads) == 3
    page = np.zeros((900, 500), np.float32)              # a page: twelve lines, each with gaps
    strip = sign[110:180]                                # the sign's line with 20 px above it
    for i in range(12):
        page[40 + 70 * i: 110 + 70 * i] = strip
    quads = DBPostProcess(auto)(page, _info(*page.shape)).quads
    assert len(quads) == 12
    assert len(DBPostProcess(auto.with_overrides(words_max_lines=12))(page, _info(*page.shape)).quads) == 36


def test_gap_runs_ignore_margins_and_short_dips():
    profile = np.array([0.1, 0.1, 0.9, 0.9, 0.2, 0.2, 0.2, 0.9, 0.2, 0.9, 0.1], np.float32)
    assert gap_runs(profile, 0.5, 2) == [(4, 7)]         # the ends are margins; one column is too short
    assert gap_runs(profile, 0.5, 1) == [(4, 7), (8, 9)]


def test_a_squarish_box_is_never_split():
    prob = np.zeros((100, 100), np.float32)
    prob[20:80, 20:45] = 0.9
    prob[20:80, 55:80] = 0.9
    box = np.float32([[20, 20], [80, 20], [80, 80], [20, 80]])
    assert len(split_words(prob, box, 0.8, 0.1)) == 1


def test_bad_granularity_is_refused():
    with pytest.raises(ValueError, match="granularity"):
        DetectorConfig(granularity="sentences")


def test_degenerate_boxes_come_back_whole():
    prob = np.full((50, 200), 0.9, np.float32)
    flat = np.float32([[10, 20], [150, 20], [150, 20], [10, 20]])     # zero height (min_size 0 lets it through)
    assert len(split_words(prob, flat, 0.8, 0.3)) == 1
    edge = np.float32([[150, 10], [260, 10], [260, 40], [150, 40]])   # half outside the map
    assert len(split_words(prob, edge, 0.8, 0.3)) == 1
