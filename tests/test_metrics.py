"""The ICDAR-2015 metric on hand-made cases, and the ground-truth / result lines it reads.

The evaluator parses files with the training reader (models.data.icdar) so that there
is one parser; the cases below are the ones scoring depends on.
"""
from __future__ import annotations

import numpy as np
import pytest

from models.data.icdar import parse_gt_line, read_gt
from models.metrics import DetectionMetric, ImageCounts, match_image, summarize_counts, summarize_groups


def rect(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)


GTS = [rect(10, 10, 100, 20), rect(10, 50, 80, 20), rect(200, 10, 50, 50)]


def test_perfect_predictions_score_one():
    metric = DetectionMetric()
    metric.update(GTS, GTS)
    metric.update([rect(0, 0, 30, 30)], [rect(0, 0, 30, 30)])
    r = metric.result()
    assert (r["precision"], r["recall"], r["hmean"]) == (1.0, 1.0, 1.0)
    assert r["matched"] == 4 and r["images"] == 2


def test_shifted_box_below_iou_is_a_miss_and_a_false_positive():
    gt = rect(0, 0, 100, 20)
    shifted = rect(40, 0, 100, 20)            # IoU = 60 / 140 = 0.43
    c = match_image([shifted], [gt])
    assert (c.matched, c.num_pred, c.num_gt) == (0, 1, 1)
    r = summarize_counts([c])
    assert r["precision"] == 0.0 and r["recall"] == 0.0 and r["hmean"] == 0.0
    slightly = rect(20, 0, 100, 20)           # IoU = 80 / 120 = 0.67
    assert match_image([slightly], [gt]).matched == 1


def test_one_to_one_matching():
    gt = rect(0, 0, 100, 20)
    c = match_image([gt, rect(1, 0, 100, 20)], [gt])
    assert (c.matched, c.num_pred, c.num_gt) == (1, 2, 1)


def test_dont_care_regions():
    gts = [rect(0, 0, 100, 20), rect(0, 100, 100, 20)]
    ignore = [False, True]
    # A detection on the ### region is dropped (neither true nor false positive);
    # the ### region is never a miss.
    c = match_image([rect(0, 0, 100, 20), rect(2, 101, 90, 18)], gts, ignore)
    assert (c.matched, c.num_pred, c.num_gt) == (1, 1, 1)
    # Mostly outside the ### region: it stays a (false) detection.
    c = match_image([rect(0, 0, 100, 20), rect(60, 100, 200, 20)], gts, ignore)
    assert (c.matched, c.num_pred, c.num_gt) == (1, 2, 1)
    # Only ### ground truth and nothing found: perfect.
    r = summarize_counts([match_image([], [rect(0, 0, 10, 10)], [True])])
    assert (r["precision"], r["recall"]) == (1.0, 1.0)


def test_empty_predictions_and_empty_ground_truth():
    none_found = summarize_counts([match_image([], GTS)])
    assert none_found["recall"] == 0.0 and none_found["precision"] == 0.0 and none_found["hmean"] == 0.0
    nothing_there = summarize_counts([match_image([rect(0, 0, 10, 10)], [])])
    assert nothing_there["precision"] == 0.0 and nothing_there["detections"] == 1
    both_empty = summarize_counts([match_image([], [])])
    assert (both_empty["precision"], both_empty["recall"], both_empty["hmean"]) == (1.0, 1.0, 1.0)
    # Degenerate predictions (zero area) are not counted at all.
    assert match_image([np.zeros((4, 2))], GTS).num_pred == 0


def test_groups_per_category_and_overall():
    items = [("invoices", ImageCounts(2, 2, 4)), ("id_cards", ImageCounts(1, 2, 1)),
             ("invoices", ImageCounts(2, 2, 2))]
    groups = summarize_groups(items)
    assert list(groups) == ["invoices", "id_cards", "all"]
    inv = groups["invoices"]
    assert inv["images"] == 2 and inv["recall"] == pytest.approx(4 / 6) and inv["precision"] == 1.0
    assert inv["detection_rate"] == inv["recall"] and inv["false_detection_rate"] == 0.0
    assert groups["id_cards"]["false_detection_rate"] == pytest.approx(0.5)
    assert groups["all"]["matched"] == 5 and groups["all"]["images"] == 3
    assert groups["all"]["recall"] == pytest.approx(5 / 7)


@pytest.mark.parametrize("line, text, ignore", [
    ("377,117,463,117,465,130,378,130,Genaxis Theatre", "Genaxis Theatre", False),
    ("1,2,3,4,5,6,7,8,###", "###", True),
    ("1,2,3,4,5,6,7,8,Hello, world,again", "Hello, world,again", False),
    ("1,2,3,4,5,6,7,8", "", False),
    ("1,2,3,4,5,6,7,8,0.93", "0.93", False),                    # result file with a score
    ("\ufeff 1.5, 2 ,3,4,5,6,7,8,  ###  \r", "###", True),    # BOM, spaces, CR
    ("1,2,3,4,5,6,7,8,发票 号码", "发票 号码", False),
])
def test_parse_gt_line(line, text, ignore):
    parsed = parse_gt_line(line, "gt_1.txt, line 1")
    assert parsed is not None and parsed.text == text and parsed.ignore is ignore
    assert parsed.points.shape == (4, 2)


def test_parse_gt_line_rejects_bad_lines():
    assert parse_gt_line("   ", "x") is None
    with pytest.raises(ValueError, match="gt_1.txt, line 3"):
        parse_gt_line("1,2,3,4,5,6", "gt_1.txt, line 3")
    with pytest.raises(ValueError):
        parse_gt_line("1,2,3,x,5,6,7,8,text", "x")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_read_gt_with_and_without_bom(tmp_path, bom):
    path = tmp_path / "gt_img_1.txt"
    path.write_bytes(bom + "0,0,10,0,10,5,0,5,Total, 12\r\n\r\n20,0,30,0,30,5,20,5,###\n".encode("utf-8"))
    regions = read_gt(path)
    assert [r.text for r in regions] == ["Total, 12", "###"]
    assert [r.ignore for r in regions] == [False, True]
    assert regions[0].points[2].tolist() == [10.0, 5.0]
