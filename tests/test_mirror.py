"""The mirror look (models.mirror, DetectorConfig.mirror_words, off by default since the zoom
look replaced it): the mirror image's maps are flipped back and averaged with the first look's,
only for the images read by word, and the detector runs the mirror image through the same
backend path as the first. The zoom look is off here (``zoom_words`` 1) unless a test says so."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import models.postprocess as postprocess
import models.window as window_module
from models import TextDetector
from models.config import DetectorConfig
from models.mirror import all_maps, average_with_mirror, boxes_with_looks, mirror_input
from models.postprocess import DBPostProcess
from models.preprocess import normalize, resize_for_model
from models.window import WINDOW_CUE, Window
from tests.scene_maps import FakeGuard, busy, info, recording_detector, sign


@pytest.fixture(autouse=True)
def _latin(monkeypatch):
    monkeypatch.setattr(postprocess, "load_guard", lambda: FakeGuard(0.0))


def test_mirror_input_flips_the_width_of_either_layout():
    chw = np.arange(2 * 3 * 4, dtype=np.float32).reshape(3, 2, 4)
    hwc = np.ascontiguousarray(chw.transpose(1, 2, 0)).astype(np.uint8)
    assert np.array_equal(mirror_input(chw), chw[:, :, ::-1])
    assert np.array_equal(mirror_input(hwc, channels_last=True), hwc[:, ::-1])
    assert mirror_input(chw).flags.c_contiguous
    with pytest.raises(ValueError, match="one image"):
        mirror_input(chw[None])


def test_the_mirror_maps_are_flipped_back_before_the_mean():
    first = np.tile(np.linspace(0.0, 1.0, 8, dtype=np.float32), (2, 3, 1))     # (2, 3, 8): rises to the right
    seen_in_the_mirror = first[..., ::-1] * 0.5                                 # what the mirror image gives
    np.testing.assert_allclose(average_with_mirror(first, seen_in_the_mirror), first * 0.75, atol=1e-7)
    with pytest.raises(ValueError, match="do not match"):
        average_with_mirror(first, first[0])


def test_all_maps_stacks_a_word_map_given_apart_or_on_demand():
    lines = np.zeros((4, 5), np.float16)
    words = np.ones((4, 5), np.float32)
    assert all_maps(lines).shape == (4, 5) and all_maps(lines).dtype == np.float32
    assert np.array_equal(all_maps(lines, words), np.stack([lines.astype(np.float32), words]))
    assert np.array_equal(all_maps(lines, lambda: words), all_maps(lines, words))
    both = np.stack([lines, lines]).astype(np.float32)
    assert all_maps(both, words) is both or np.array_equal(all_maps(both, words), both)


@pytest.mark.parametrize("granularity, mirror, mirrored", [
    ("lines", True, False), ("auto", True, True), ("words", True, True), ("words", False, False)])
def test_only_images_read_by_word_are_mirrored(granularity, mirror, mirrored):
    """A page read by line, or mirror_words off, never runs the mirror image."""
    calls = []
    prob = sign(0.5)

    def mirrored_maps(with_words: bool, window: Window) -> np.ndarray:
        calls.append(with_words)
        return window.crop(prob)[..., ::-1]

    post = DBPostProcess(DetectorConfig(granularity=granularity, mirror_words=mirror, zoom_words=1.0))
    boxes, ran = boxes_with_looks(post, prob, info(*prob.shape), busy(), None, mirrored_maps)
    assert ran is mirrored and calls == ([post.config.word_map] if mirrored else [])
    assert boxes.reading.words is (granularity != "lines")


def test_an_image_with_a_cjk_line_is_not_mirrored(monkeypatch):
    """Mirrored Chinese is no script the network ever saw (training never flips): it broke
    lines apart on the packaging renders, so an image whose guard keeps a CJK line whole runs
    once."""
    monkeypatch.setattr(postprocess, "load_guard", lambda: FakeGuard(0.9))
    calls = []
    prob = sign(0.5)
    post = DBPostProcess(DetectorConfig(granularity="words", mirror_words=True))
    boxes, ran = boxes_with_looks(post, prob, info(*prob.shape), busy(), None,
                                  lambda with_words, window: calls.append(1) or prob)
    assert boxes.reading.words and boxes.reading.cjk and len(boxes.quads) == 1
    assert not ran and calls == []


def test_the_mean_of_two_looks_parts_words_that_one_look_joins():
    """The first look bridges the gap at 0.8 of the words' level (not cut, word_gap 0.8); the
    mirror image sees a clear gap (0.3): the mean, 0.51, is cut into two words."""
    joined, parted = sign(0.72), sign(0.3)
    post = DBPostProcess(DetectorConfig(granularity="words", mirror_words=False))
    assert len(post(joined, info(*joined.shape), busy()).quads) == 1
    mirror = DBPostProcess(DetectorConfig(granularity="words", mirror_words=True))
    boxes, ran = boxes_with_looks(mirror, joined, info(*joined.shape), busy(), None,
                                  lambda with_words, window: window.crop(parted)[..., ::-1])
    assert ran and len(boxes.quads) == 2


def test_the_detector_runs_the_mirror_image_through_its_backend(random_weights, monkeypatch):
    """Scenes (here granularity words) run the backend twice, the second time on the mirrored
    input, and their boxes are those of the averaged maps; pages run it once."""
    det, inputs, real = recording_detector(random_weights, monkeypatch)
    image = (np.random.default_rng(1).random((256, 320, 3)) * 255).astype(np.uint8)
    everywhere = {"thresh": 0.0, "box_thresh": 0.0, "mirror_margin": 4096,   # the whole image mirrored
                  "mirror_words": True, "zoom_words": 1.0}
    det.detect(image, granularity="lines", **everywhere)
    assert len(inputs) == 1
    inputs.clear()
    got = det.detect(image, granularity="words", **everywhere)
    assert len(inputs) == 2 and np.array_equal(inputs[1][0], inputs[0][0][..., ::-1])
    padded, info = resize_for_model(image, det.config)
    x = normalize(padded, det.config)
    both = average_with_mirror(real(x[None])[0], real(mirror_input(x)[None])[0])
    expected = DBPostProcess(det.config.with_overrides(granularity="words", **everywhere))(
        both, info, cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY))
    assert np.array_equal(got.boxes, expected.quads)
    inputs.clear()
    det.detect(image, granularity="words", **{**everywhere, "mirror_words": False})
    assert len(inputs) == 1


def test_the_uint8_input_of_a_gpu_is_mirrored_along_its_width(random_weights, monkeypatch):
    """On CUDA the detector hands the backend padded uint8 HxWx3 images (run_uint8): the mirror
    image must flip their width, not their channels, and give the float path's boxes."""
    det = TextDetector(weights=random_weights, backend="torch", device="cpu")
    monkeypatch.setattr(window_module, "WINDOW_CUE", -1.0)
    image = (np.random.default_rng(2).random((224, 288, 3)) * 255).astype(np.uint8)
    everywhere = {"granularity": "words", "thresh": 0.0, "box_thresh": 0.0, "mirror_margin": 4096,
                  "mirror_words": True, "zoom_words": 1.0}
    as_floats = det.detect(image, **everywhere)
    inputs = []
    real = det.backend.run_uint8
    monkeypatch.setattr(det.backend, "uint8_input", True)
    monkeypatch.setattr(det.backend, "run_uint8", lambda b, mean, std: inputs.append(b.copy()) or real(b, mean, std))
    as_uint8 = det.detect(image, **everywhere)
    assert len(inputs) == 2 and inputs[0].dtype == np.uint8
    assert np.array_equal(inputs[1][0], inputs[0][0][:, ::-1])
    assert np.array_equal(as_uint8.boxes, as_floats.boxes)


def test_no_second_look_when_nothing_passes_the_cue():
    """A scene photo with no text (every map value under the cue) is read once."""
    prob = np.full((128, 160), WINDOW_CUE * 0.5, np.float32)
    post = DBPostProcess(DetectorConfig(granularity="words", mirror_words=True))
    calls = []
    boxes, ran = boxes_with_looks(post, prob, info(*prob.shape), busy(128, 160), None,
                                  lambda with_words, window: calls.append(window) or prob)
    assert not ran and calls == [] and len(boxes.quads) == 0


def test_the_detector_mirrors_only_the_window_around_the_text(random_weights, monkeypatch):
    """The backend's second input is the mirrored window around what the first look found
    (the 256 x 320 image enlarged to a 512 x 640 input; its text at rows 100-130, columns
    40-200, 64 px wider: half of each side), and a fixed-shape model is given the whole mirror
    image."""
    det = TextDetector(weights=random_weights, backend="torch", device="cpu")
    inputs = []

    def fake_run(batch):
        inputs.append(batch.copy())
        out = np.zeros((len(batch),) + batch.shape[2:], np.float32)
        if len(inputs) == 1:                   # the first look: one line of text
            out[:, 100:130, 40:200] = 0.9
        return out

    monkeypatch.setattr(det.backend, "run", fake_run)
    image = (np.random.default_rng(3).random((256, 320, 3)) * 255).astype(np.uint8)
    looks = {"granularity": "words", "words_min_edges": 0.0, "mirror_words": True, "zoom_words": 1.0}
    det.detect(image, **looks)
    assert len(inputs) == 2
    assert inputs[0].shape[2:] == (512, 640) and inputs[1].shape[2:] == (256, 320)
    np.testing.assert_array_equal(inputs[1][0], inputs[0][0][:, 0:256, 0:320][..., ::-1])
    inputs.clear()
    monkeypatch.setattr(det.backend, "fixed_shape", (256, 320))
    det.detect(image, **looks)
    assert len(inputs) == 2 and inputs[1].shape == inputs[0].shape
