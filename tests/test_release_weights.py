"""The released weights load by default and behave on real images (docs/real_samples).

Not a quality benchmark (that is weights/MODEL_CARD.md); a guard that a new weights file,
or a change to pre/post-processing, did not break what the release does on real pixels:
the printed lines of a real scanned page are found, and real textures give no boxes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import TextDetector
from models.weights import DEFAULT_WEIGHTS

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "real_samples"


@pytest.fixture(scope="module")
def released() -> TextDetector:
    assert DEFAULT_WEIGHTS.is_file(), "weights/db_resnet18.safetensors must ship with the repository"
    return TextDetector(device="cpu")


def test_default_weights_are_the_release(released):
    assert released.model_id.startswith("db_resnet18-")


def test_finds_the_lines_of_a_real_scanned_page(released):
    res = released.detect(str(SAMPLES / "page.png"))
    assert res.success and len(res.boxes) >= 3
    # the title line "Region-based segmentation" sits in the top fifth of the page
    tops = np.asarray(res.boxes)[:, :, 1].min(axis=1)
    assert (tops < res.height * 0.2).any()
    assert (np.asarray(res.scores) >= released.config.box_thresh).all()


@pytest.mark.parametrize("name", ["grass.png", "brick.png", "gravel.png"])
def test_real_textures_give_no_boxes(released, name):
    res = released.detect(str(SAMPLES / name))
    assert res.success and len(res.boxes) == 0, f"{name}: {len(res.boxes)} false boxes"
