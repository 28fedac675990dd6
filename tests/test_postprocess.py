"""DB post-processing on synthetic probability maps with known rectangles."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from models.config import DetectorConfig
from models.metrics import match_image
from models.postprocess import DBPostProcess, order_clockwise, unclip
from models.preprocess import ResizeInfo


def _info(h: int, w: int) -> ResizeInfo:
    return ResizeInfo(h, w, h, w, h, w)


def _shrunk(quad: np.ndarray, ratio: float = 0.4) -> np.ndarray:
    """The DB kernel of a quad: offset inwards by A(1-r^2)/L (as the training targets)."""
    import pyclipper
    p = Polygon(quad)
    d = p.area * (1 - ratio ** 2) / p.length
    off = pyclipper.PyclipperOffset()
    off.AddPath(quad.astype(int).tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return np.asarray(off.Execute(-d)[0])


def _iou(a, b) -> float:
    pa, pb = Polygon(np.asarray(a).reshape(-1, 2)), Polygon(np.asarray(b).reshape(-1, 2))
    return pa.intersection(pb).area / pa.union(pb).area


@pytest.mark.parametrize("angle", [0, 7, -12, 30])
def test_rectangles_recovered_after_unclip(angle):
    h, w = 400, 600
    # Shrink 0.4 + unclip 1.5 inverts exactly for squarish boxes (DB paper); long thin
    # lines need a larger unclip ratio, which the model card tunes on validation renders.
    rects = [((150, 110), (120, 80), angle), ((420, 290), (160, 100), angle)]
    prob = np.zeros((h, w), np.float32)
    expected = []
    for r in rects:
        quad = cv2.boxPoints(r)
        expected.append(quad)
        cv2.fillPoly(prob, [_shrunk(quad).astype(np.int32)], 0.9)
    boxes = DBPostProcess(DetectorConfig(thresh=0.3, box_thresh=0.5, unclip_ratio=1.5))(prob, _info(h, w))
    assert len(boxes.quads) == 2
    for exp in expected:
        assert max(_iou(exp, q) for q in boxes.quads) > 0.9
    assert np.all(boxes.scores > 0.85)


def test_points_clockwise_from_top_left():
    pts = np.array([[10, 50], [90, 50], [10, 10], [90, 10]])
    ordered = order_clockwise(pts)
    np.testing.assert_array_equal(ordered, [[10, 10], [90, 10], [90, 50], [10, 50]])
    prob = np.zeros((100, 200), np.float32)
    prob[30:60, 20:150] = 1
    q = DBPostProcess(DetectorConfig(thresh=0.5, box_thresh=0.5))(prob, _info(100, 200)).quads[0]
    # Clockwise on screen (y down) means a positive shoelace sum.
    area2 = sum(q[i, 0] * q[(i + 1) % 4, 1] - q[(i + 1) % 4, 0] * q[i, 1] for i in range(4))
    assert area2 > 0
    assert q[0, 0] + q[0, 1] == min(q[:, 0] + q[:, 1])


def test_box_thresh_and_max_candidates_honoured():
    prob = np.zeros((200, 400), np.float32)
    prob[20:50, 20:200] = 0.9
    prob[100:130, 20:200] = 0.35   # weak region
    prob[150:190, 220:390] = 0.95  # biggest region
    post = DBPostProcess(DetectorConfig(thresh=0.3, box_thresh=0.5))
    assert len(post(prob, _info(200, 400)).quads) == 2
    post = DBPostProcess(DetectorConfig(thresh=0.3, box_thresh=0.3))
    assert len(post(prob, _info(200, 400)).quads) == 3
    capped = DBPostProcess(DetectorConfig(thresh=0.3, box_thresh=0.3, max_candidates=1))(prob, _info(200, 400))
    assert len(capped.quads) == 1 and capped.quads[:, :, 0].min() >= 190   # the largest one kept


def test_min_size_and_clipping():
    prob = np.zeros((100, 100), np.float32)
    prob[10:12, 10:60] = 1.0     # 2 px tall: below min_size 3
    prob[80:100, 0:100] = 1.0    # touches the border: clipped to the image
    boxes = DBPostProcess(DetectorConfig(thresh=0.5, box_thresh=0.5, min_size=3))(prob, _info(100, 100))
    assert len(boxes.quads) == 1
    assert boxes.quads.min() >= 0 and boxes.quads.max() <= 99


def test_polygon_output_and_original_scale():
    prob = np.zeros((64, 128), np.float32)
    prob[20:40, 20:100] = 1.0
    info = ResizeInfo(orig_h=128, orig_w=256, resized_h=64, resized_w=128, input_h=64, input_w=128)
    boxes = DBPostProcess(DetectorConfig(thresh=0.5, box_thresh=0.5, box_type="poly"))(prob, info)
    assert len(boxes.polygons) == 1
    assert boxes.quads[0][:, 0].max() > 190     # scaled back by 2
    assert match_image([boxes.quads[0]], [boxes.polygons[0]]).matched == 1


def test_unclip_grows_by_db_distance():
    square = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float32)
    grown = unclip(square, 1.5)
    d = 100 * 100 * 1.5 / 400   # 37.5
    assert abs(cv2.boundingRect(grown.astype(np.int32))[2] - (100 + 2 * d)) <= 2


def test_empty_map_gives_no_boxes():
    boxes = DBPostProcess()(np.zeros((64, 64), np.float32), _info(64, 64))
    assert boxes.quads.shape == (0, 4, 2) and boxes.scores.shape == (0,)


def test_images_read_by_line_are_cut_lines_shift_higher():
    """A page (read by line) is binarised at thresh + lines_shift and keeps boxes from box_thresh
    + lines_shift: two lines joined at 0.32 come apart at 0.35, and a faint region (mean 0.42)
    is dropped below 0.45. A scene photo, read by word, keeps thresh and box_thresh."""
    from tests.scene_maps import busy, sign

    joined = sign(0.32)
    faint = np.zeros((300, 500), np.float32)
    faint[130:160, 60:300] = 0.42
    lines = {"granularity": "lines", "zoom_words": 1.0, "thresh": 0.3, "box_thresh": 0.4, "lines_shift": 0.05}
    assert len(DBPostProcess(DetectorConfig(**lines))(joined, _info(300, 500)).quads) == 2
    assert len(DBPostProcess(DetectorConfig(**{**lines, "lines_shift": 0.0}))(joined, _info(300, 500)).quads) == 1
    assert len(DBPostProcess(DetectorConfig(**lines))(faint, _info(300, 500)).quads) == 0
    assert len(DBPostProcess(DetectorConfig(**{**lines, "lines_shift": 0.0}))(faint, _info(300, 500)).quads) == 1
    words = DBPostProcess(DetectorConfig(granularity="words", zoom_words=1.0, cjk_guard=1.0, thresh=0.3, box_thresh=0.4,
                                         lines_shift=0.05))(faint, _info(300, 500), busy())
    assert words.reading.words and len(words.quads) == 1
    # the user's threshold moves both: a page at thresh 0.25 is cut at 0.3
    assert len(DBPostProcess(DetectorConfig(**{**lines, "thresh": 0.25}))(sign(0.32), _info(300, 500)).quads) == 1
