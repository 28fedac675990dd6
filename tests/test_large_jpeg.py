"""Large JPEGs are decoded at reduced scale, yet every box, JSON and picture stays right.

A 12-megapixel phone photo is decoded by libjpeg at 1/2 scale (``load_image_for_detection``);
the boxes must still come back in original pixels, match the full decode's, and be drawn
and highlighted where the text is on the (smaller) picture.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from models import TextDetector
from models.detector import scale_boxes
from models.metrics import match_image
from models.weights import DEFAULT_WEIGHTS

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "real_samples"
pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="released weights not present")


@pytest.fixture(scope="module")
def large_page(tmp_path_factory) -> Path:
    """A 4000 x 3000 JPEG: a real scanned page enlarged 8x on a white sheet."""
    page = Image.open(SAMPLES / "page.png").convert("RGB")
    sheet = Image.new("RGB", (4000, 3000), "white")
    sheet.paste(page.resize((page.width * 8, page.height * 8), Image.BICUBIC), (400, 600))
    path = tmp_path_factory.mktemp("large") / "photo.jpg"
    sheet.save(path, "JPEG", quality=90)
    return path


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(device="cpu", backend="torch")


def test_boxes_of_the_reduced_decode_are_in_original_pixels_and_match_the_full_decode(large_page, detector):
    reduced = detector.detect(str(large_page), keep_image=True)
    full = detector.detect(np.asarray(Image.open(large_page).convert("RGB")))
    assert (reduced.width, reduced.height) == (full.width, full.height) == (4000, 3000)
    assert reduced.image.shape == (1500, 2000, 3)          # decoded at 1/2 scale
    assert len(full.boxes) >= 5
    boxes = np.asarray(reduced.boxes)
    assert boxes[..., 0].max() > 2000 and boxes[..., 1].max() > 1500   # original pixels, not the decoded ones
    counts = match_image([b.astype(float) for b in reduced.boxes], [b.astype(float) for b in full.boxes])
    # the two downsamplings differ by a grey level here and there: a line may split differently
    assert counts.matched >= 0.7 * max(len(full.boxes), len(reduced.boxes))
    np.testing.assert_array_equal(reduced.boxes_in(reduced.image), scale_boxes(reduced.boxes, (3000, 4000), (1500, 2000)))
    assert abs(reduced.boxes_in(reduced.image)[0, 0, 0] * 2 - reduced.boxes[0, 0, 0]) <= 1


def test_the_folder_writer_draws_on_the_decoded_size_and_keeps_original_coordinates(large_page, detector, tmp_path):
    from app.io.outputs import ResultWriter

    result = detector.detect(str(large_page), keep_image=True)
    writer = ResultWriter(tmp_path)
    writer.write("photo", result, result.to_json(), result.image)
    picture = cv2.imread(str(writer.vis_path("photo")))
    assert picture.shape == (1500, 2000, 3)
    record = json.loads(writer.json_path("photo").read_text())
    assert (record["width"], record["height"]) == (4000, 3000)
    assert record["boxes"] == result.box_list()
    # the outline of the first box lies on the picture where that box is, at half scale
    quad = result.boxes_in(result.image)[0]
    x, y = int(quad[:, 0].mean()), int(quad[:, 1].min())
    drawn = cv2.absdiff(picture, cv2.cvtColor(result.image, cv2.COLOR_RGB2BGR)).max(axis=2)
    assert drawn[max(0, y - 3): y + 4, x].max() > 60


def test_a_table_row_highlights_its_box_on_a_smaller_picture(tmp_path):
    from app.web.tabs.single import highlighted

    picture = np.full((150, 200, 3), 200, np.uint8)           # drawn at 1/2 of a 400 x 300 original
    shown = tmp_path / "vis.jpg"
    cv2.imwrite(str(shown), picture)
    record = {"width": 400, "height": 300,
              "boxes": [[20, 20, 120, 20, 120, 80, 20, 80], [200, 160, 380, 160, 380, 280, 200, 280]]}
    out = highlighted(record, str(shown), 1)
    assert out.shape == picture.shape
    assert abs(int(out[110, 145, 0]) - 200) <= 3       # inside the picked box (100..190, 80..140): untouched
    assert out[25, 35].max() < 120                      # inside the other box: dimmed


def test_bytes_and_arrays_of_a_large_photo_give_the_same_size(large_page, detector):
    data = large_page.read_bytes()
    result = detector.detect(data)
    assert (result.width, result.height) == (4000, 3000)
    small = Image.open(io.BytesIO(data)).resize((1000, 750))
    assert (detector.detect(np.asarray(small)).width, detector.detect(np.asarray(small)).height) == (1000, 750)
