"""Box editor round trip (#14.2): untouched rotated quads survive exactly, moved ones keep their
tilt, drawn ones are rectangles, deleted ones are gone, labels are the texts."""
from __future__ import annotations

import numpy as np
import pytest

from app.io.corrections import box_color, color_index, corrected_labels, editor_boxes

TILTED = [30, 10, 120, 40, 110, 70, 20, 40]
FLAT = [5, 80, 90, 80, 90, 100, 5, 100]
RECORD = {"boxes": [TILTED, FLAT], "texts": ["总计", "12,00"], "width": 160, "height": 120}


def _as_sent_back(box):
    """What the editor returns for a box it was given: the colour as an rgb() string."""
    return {**box, "color": "rgb({}, {}, {})".format(*box["color"])}


def test_untouched_boxes_keep_their_quads_and_texts():
    boxes = [_as_sent_back(b) for b in editor_boxes(RECORD)]
    assert boxes[0]["xmin"] == 20 and boxes[0]["ymax"] == 70 and boxes[1]["label"] == "12,00"
    labels = corrected_labels(RECORD, boxes[::-1])          # the editor may reorder
    assert [t for _, t in labels] == ["12,00", "总计"]
    np.testing.assert_array_equal(labels[1][0].reshape(-1), TILTED)
    np.testing.assert_array_equal(labels[0][0].reshape(-1), FLAT)


def test_moved_box_keeps_its_tilt_drawn_box_is_a_rectangle_deleted_box_is_gone():
    tilted, _flat = (_as_sent_back(b) for b in editor_boxes(RECORD))
    moved = {**tilted, "xmin": tilted["xmin"] + 10, "xmax": tilted["xmax"] + 10, "label": "fixed"}
    drawn = {"xmin": 100, "ymin": 90, "xmax": 150, "ymax": 110, "label": "", "color": "rgb(92, 172, 238)"}
    labels = corrected_labels(RECORD, [moved, drawn])
    assert [t for _, t in labels] == ["fixed", ""]
    np.testing.assert_array_equal(labels[0][0], np.reshape(TILTED, (4, 2)) + [10, 0])
    np.testing.assert_array_equal(labels[1][0], [[100, 90], [150, 90], [150, 110], [100, 110]])


def test_resized_box_scales_its_quad_and_a_recoloured_untouched_box_is_still_found():
    tilted = editor_boxes(RECORD)[0]
    wider = {**tilted, "xmax": 150, "color": "rgb(0, 80, 0)"}                  # 100 -> 130 wide
    [(quad, _)] = corrected_labels(RECORD, [wider])
    np.testing.assert_array_equal(quad, [[33, 10], [150, 40], [137, 70], [20, 40]])
    recoloured = {**tilted, "color": "rgb(255, 0, 0)"}
    [(quad, _)] = corrected_labels(RECORD, [recoloured])
    np.testing.assert_array_equal(quad.reshape(-1), TILTED)


def test_colour_code_round_trips_and_ignores_other_colours():
    assert [color_index(box_color(i)) for i in (0, 1, 255, 256, 3000)] == [0, 1, 255, 256, 3000]
    assert color_index("rgb(92, 172, 238)") is None and color_index(None) is None and color_index("red") is None


@pytest.mark.parametrize("box, message", [
    ({"xmin": 10, "ymin": 10, "xmax": 10, "ymax": 30}, "no area"),
    ({"xmin": 10, "ymin": 10, "xmax": 400, "ymax": 30}, "outside"),
    ({"xmin": "a", "ymin": 10, "xmax": 40, "ymax": 30}, "numeric"),
])
def test_bad_boxes_are_named(box, message):
    with pytest.raises(ValueError, match=f"box 1: .*{message}|box 1: needs {message}"):
        corrected_labels(RECORD, [box])


def test_a_large_picture_shown_scaled_down_still_gives_the_exact_quads():
    """The editor reports display pixels and its scale (0.299 for a 3203 px wide picture in
    958 px); read back, an untouched box is its original quad."""
    from app.web.tabs.annotate import unscaled

    scale = 0.2990945988136122
    big = {"boxes": [[21, 23, 1207, 40, 1200, 413, 25, 400]], "width": 3203, "height": 2400}
    [box] = editor_boxes(big)
    shown = {**box, **{k: box[k] * scale for k in ("xmin", "ymin", "xmax", "ymax")}, "scaleFactor": scale,
             "color": "rgb(0, 80, 0)"}
    [(quad, _)] = corrected_labels(big, [unscaled(shown)])
    np.testing.assert_array_equal(quad.reshape(-1), big["boxes"][0])
    with pytest.raises(ValueError, match="box 1: needs numeric"):
        corrected_labels(big, [unscaled({**shown, "xmin": "a"})])
