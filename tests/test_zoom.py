"""The zoom look (models.zoom, DetectorConfig.zoom_words): an image read by word is read again
enlarged, its maps shrunk back and averaged with the first look's; pages read by line, models of
one fixed shape and inputs already at the size cap run once."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import models.postprocess as postprocess
from models import TextDetector
from models.config import DetectorConfig
from models.mirror import boxes_with_looks
from models.postprocess import DBPostProcess
from models.preprocess import normalize, resize_for_model
from models.window import Window, average_in_window
from models.zoom import zoom_back, zoom_input, zoomed_size
from tests.scene_maps import FakeGuard, busy, info, recording_detector, sign


@pytest.fixture(autouse=True)
def _latin(monkeypatch):
    monkeypatch.setattr(postprocess, "load_guard", lambda: FakeGuard(0.0))


def test_the_zoomed_size_is_on_the_stride_and_under_the_cap():
    assert zoomed_size(736, 1280, 1.25, 2048) == (928, 1600)
    assert zoomed_size(736, 1280, 1.0, 2048) is None                    # off
    assert zoomed_size(1536, 2048, 1.25, 2048) is None                  # already at the cap
    assert zoomed_size(1280, 1760, 1.25, 2048) == (1504, 2048)          # enlarged only up to the cap
    h, w = zoomed_size(96, 160, 1.5, 2048)
    assert (h % 32, w % 32) == (0, 0) and (h, w) == (160, 256)     # 144 and 240 rounded half up


def test_zoom_input_resizes_either_layout_alike():
    """The float CHW input of a CPU and the uint8 HWC input of a GPU give the same image."""
    cfg = DetectorConfig()
    rgb = (np.random.default_rng(5).random((64, 96, 3)) * 255).astype(np.uint8)
    chw = normalize(rgb, cfg)
    big_chw = zoom_input(chw, (96, 128))
    big_hwc = zoom_input(rgb, (96, 128), channels_last=True)
    assert big_chw.shape == (3, 96, 128) and big_hwc.shape == (96, 128, 3) and big_chw.flags.c_contiguous
    np.testing.assert_allclose(big_chw, normalize(big_hwc, cfg), atol=0.03)     # uint8 rounding only
    with pytest.raises(ValueError, match="one image"):
        zoom_input(chw[None], (96, 128))


def test_zoomed_maps_shrink_back_onto_the_first_looks_pixels():
    big = np.zeros((2, 80, 120), np.float32)
    big[:, 40:60, 30:90] = 1.0                          # a word at rows 32-48, columns 24-72 of the first look
    back = zoom_back(big, (64, 96))
    assert back.shape == (2, 64, 96)
    assert back[0, 40, 48] == pytest.approx(1.0) and back[1, 10, 10] == 0.0 and back[0, 40, 10] == 0.0
    np.testing.assert_allclose(zoom_back(np.full((80, 120), 0.3, np.float32), (64, 96)), 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="do not match"):
        average_in_window(back, back[0])


@pytest.mark.parametrize("granularity, zoom, zoomed", [
    ("lines", 1.25, False), ("auto", 1.25, True), ("words", 1.25, True), ("words", 1.0, False)])
def test_only_images_read_by_word_are_zoomed(granularity, zoom, zoomed):
    calls = []
    prob = sign(0.5)
    post = DBPostProcess(DetectorConfig(granularity=granularity, zoom_words=zoom, mirror_words=False))
    boxes, ran = boxes_with_looks(post, prob, info(*prob.shape), busy(), None, None,
                                  zoomed_maps=lambda with_words, window, factor: calls.append(with_words) or window.crop(prob))
    assert ran is zoomed and calls == ([post.config.word_map] if zoomed else [])


def test_an_image_with_a_cjk_line_is_still_zoomed_as_a_whole_at_most_zoom_cjk(monkeypatch):
    """Unlike the mirror image, the enlarged one is a script the network has seen; but a look
    larger than ``zoom_cjk`` cuts mixed Chinese and Latin lines, so such an image is read whole,
    at most that much enlarged (1: once). A Latin scene gets the window and the full factor."""
    prob = sign(0.5)
    asked, mirrored = [], []

    def zoomed(with_words, window, factor):
        asked.append((window, factor))
        return window.crop(prob)

    for guard, zoom, cjk_zoom, expected in ((0.9, 1.75, 1.25, 1.25), (0.9, 1.1, 1.25, 1.1), (0.0, 1.75, 1.25, 1.75)):
        monkeypatch.setattr(postprocess, "load_guard", lambda g=guard: FakeGuard(g))
        post = DBPostProcess(DetectorConfig(granularity="words", mirror_words=True, zoom_words=zoom, zoom_cjk=cjk_zoom))
        mirrored[:], asked[:] = [], []
        boxes, ran = boxes_with_looks(post, prob, info(*prob.shape), busy(), None,
                                      lambda with_words, window: mirrored.append(1) or window.crop(prob)[..., ::-1],
                                      zoomed_maps=zoomed)
        assert ran and boxes.reading.cjk is (guard > 0.5) and len(asked) == 1
        window, factor = asked[0]
        assert factor == expected
        assert (window == Window.whole(prob.shape)) is (guard > 0.5) and mirrored == ([] if guard > 0.5 else [1])
    monkeypatch.setattr(postprocess, "load_guard", lambda: FakeGuard(0.9))
    post = DBPostProcess(DetectorConfig(granularity="words", mirror_words=False, zoom_cjk=1.0))
    asked[:] = []
    assert boxes_with_looks(post, prob, info(*prob.shape), busy(), None, None, zoomed_maps=zoomed)[1] is False
    assert asked == []


def test_the_mean_of_the_zoom_look_parts_words_that_one_look_joins():
    joined, parted = sign(0.72), sign(0.3)
    post = DBPostProcess(DetectorConfig(granularity="words", mirror_words=False))
    assert len(post(joined, info(*joined.shape), busy()).quads) == 1
    boxes, ran = boxes_with_looks(post, joined, info(*joined.shape), busy(), None, None,
                                  zoomed_maps=lambda with_words, window, factor: window.crop(parted))
    assert ran and len(boxes.quads) == 2
    # a backend or size that cannot zoom: the first look's boxes
    boxes, ran = boxes_with_looks(post, joined, info(*joined.shape), busy(), None, None,
                                  zoomed_maps=lambda with_words, window, factor: None)
    assert not ran and len(boxes.quads) == 1


def test_the_detector_runs_the_enlarged_image_through_its_backend(random_weights, monkeypatch):
    """A scene runs the backend twice, the second time on the input enlarged 1.25x, and its
    boxes are those of the averaged maps; a page runs once, and so does a model of one fixed
    shape, which cannot take the larger input."""
    det, inputs, real = recording_detector(random_weights, monkeypatch)
    image = (np.random.default_rng(1).random((256, 320, 3)) * 255).astype(np.uint8)
    everywhere = {"thresh": 0.0, "box_thresh": 0.0, "mirror_words": False, "zoom_words": 1.25,
                  "zoom_margin": 4096}       # the whole image enlarged
    det.detect(image, granularity="lines", **everywhere)
    assert len(inputs) == 1
    inputs.clear()
    got = det.detect(image, granularity="words", **everywhere)
    assert len(inputs) == 2 and inputs[0].shape[2:] == (512, 640) and inputs[1].shape[2:] == (640, 800)
    padded, info = resize_for_model(image, det.config)
    x = normalize(padded, det.config)
    both = average_in_window(real(x[None])[0], zoom_back(real(zoom_input(x, (640, 800))[None])[0], x.shape[1:]))
    expected = DBPostProcess(det.config.with_overrides(granularity="words", **everywhere))(
        both, info, cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY))
    assert np.array_equal(got.boxes, expected.quads)
    inputs.clear()
    det.detect(image, granularity="words", **{**everywhere, "zoom_words": 1.0})
    assert len(inputs) == 1
    inputs.clear()
    monkeypatch.setattr(det.backend, "fixed_shape", (512, 640))
    det.detect(image, granularity="words", **everywhere)
    assert len(inputs) == 1


def test_the_detector_enlarges_only_the_window_around_the_text(random_weights, monkeypatch):
    """The backend's second input is the window around what the first look found (the 256 x 320
    image enlarged to a 512 x 640 input; its text at rows 100-130, columns 40-200, 64 px wider:
    half of each side, 256 x 320), enlarged 1.75x on the stride (448 x 576); outside the window
    the first look's maps stand alone, and an image whose first look finds nothing runs once."""
    det = TextDetector(weights=random_weights, backend="torch", device="cpu")
    inputs, first = [], np.zeros((512, 640), np.float32)
    first[100:130, 40:200] = 0.9                 # the first look: one line of text

    def fake_run(batch):
        inputs.append(batch.copy())
        return first[None] if len(inputs) == 1 else np.full((1,) + batch.shape[2:], 0.5, np.float32)

    monkeypatch.setattr(det.backend, "run", fake_run)
    image = (np.random.default_rng(3).random((256, 320, 3)) * 255).astype(np.uint8)
    looks = {"granularity": "words", "words_min_edges": 0.0, "mirror_words": False, "zoom_words": 1.75}
    seen = []
    real_post = DBPostProcess.__call__
    monkeypatch.setattr(DBPostProcess, "__call__", lambda self, maps, *a, **k: seen.append(np.array(maps)) or real_post(self, maps, *a, **k))
    det.detect(image, **looks)
    assert len(inputs) == 2 and inputs[0].shape[2:] == (512, 640) and inputs[1].shape[2:] == (448, 576)
    np.testing.assert_allclose(inputs[1][0], zoom_input(inputs[0][0][:, 0:256, 0:320], (448, 576)), atol=1e-6)
    averaged = seen[-1]
    assert averaged[200, 100] == pytest.approx(0.25) and averaged[110, 100] == pytest.approx(0.7)   # inside
    assert averaged[300, 100] == 0.0 and averaged[110, 400] == 0.0                                   # outside
    inputs.clear()
    first[:] = 0.0
    det.detect(image, **looks)
    assert len(inputs) == 1
