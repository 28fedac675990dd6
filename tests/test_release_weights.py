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


@pytest.fixture(scope="module", params=["auto", "torch"])
def released(request) -> TextDetector:
    """The default path (auto: int8 ONNX Runtime built for this CPU) and plain PyTorch."""
    assert DEFAULT_WEIGHTS.is_file(), "weights/db_resnet18.safetensors must ship with the repository"
    return TextDetector(device="cpu", backend=request.param)


def test_default_weights_are_the_release(released):
    assert released.model_id.startswith("db_resnet18-")
    assert released.weights_path == DEFAULT_WEIGHTS


def test_default_backend_on_cpu_is_the_verified_int8_model():
    from models.backends.cpu_runtime import cached_verdict

    det = TextDetector(device="cpu")
    # ONNX Runtime, or OpenVINO (installed with the test extras) where auto's race found it faster
    assert det.backend_name in ("onnx", "openvino") and det.choice.precision == "int8", det.choice.reason
    assert det.metadata.get("verification") == "passed"
    assert det.metadata.get("weights_id") == det.model_id.split(f"-{det.backend_name}-")[0]
    verdict = cached_verdict(det.choice.model)
    assert verdict is not None and verdict.runtime == det.backend_name and verdict.agreement is not None
    if "failed verification" in verdict.reason:
        # OpenVINO's int8 boxes missed the agreement gate with the shipped defaults on this
        # machine (0.947 against 0.95 on a 2-core EPYC at 0.35 / 0.45): never raced, never served
        assert verdict.runtime == "onnx" and verdict.onnx_ms is None and verdict.agreement < 1.0, verdict
    else:
        assert verdict.onnx_ms > 0 and verdict.openvino_ms > 0, verdict.reason


def test_finds_the_lines_of_a_real_scanned_page(released):
    res = released.detect(str(SAMPLES / "page.png"))
    assert res.success and len(res.boxes) >= 3
    # the title line "Region-based segmentation" sits in the top fifth of the page
    tops = np.asarray(res.boxes)[:, :, 1].min(axis=1)
    assert (tops < res.height * 0.2).any()
    assert (np.asarray(res.scores) >= released.config.box_thresh).all()


def test_a_scanned_page_never_runs_the_word_map(released, monkeypatch):
    """The release has a word map for scene text; a page of lines is served by the line
    graph alone (models.backends.word_branch), on the default path and on PyTorch."""
    from models.backends import WordMapOnDemand

    assert released.backend.word_map_on_demand
    asked = []
    real = WordMapOnDemand.__call__
    monkeypatch.setattr(WordMapOnDemand, "__call__", lambda self: asked.append(1) or real(self))
    assert len(released.detect(str(SAMPLES / "page.png")).boxes) >= 3 and asked == []
    released.detect(str(SAMPLES / "page.png"), granularity="words", zoom_words=1.0)
    assert asked == [1]


def test_a_scene_is_read_twice_and_its_words_are_found(released, monkeypatch):
    """A rendered street scene ("9929", "Hair", "Bus" on a busy background) is read by word, so
    the window around its text also runs enlarged 1.75x (models.zoom), and every word gets its own box at IoU 0.5; a
    page is read by line and runs once."""
    import models.mirror as looks
    from models.metrics import DetectionMetric
    from models.synth.render import render_sample
    from models.synth.types import SynthConfig
    from models.zoom import zoomed_size

    calls, windows = [], []
    for name in ("run", "run_lines"):
        real = getattr(released.backend, name)
        monkeypatch.setattr(released.backend, name, lambda b, real=real: calls.append(b.shape) or real(b))
    real_window = looks.text_window
    monkeypatch.setattr(looks, "text_window", lambda *a: windows.append(real_window(*a)) or windows[-1])
    # procedural background: with Debian's wallpaper packages installed the renderer would paste
    # a real photo instead (models.synth.photos), so the scene would depend on the machine
    scene = render_sample(0, SynthConfig(seed=0, mix=(("scene", 1.0),), real_photo_prob=0.0))
    res = released.detect(scene.image)
    # the second look reads the window around the text enlarged 1.75x, on the stride
    # (models.window.text_window, models.zoom.zoomed_size)
    assert len(calls) == 2 and calls[0][:2] == calls[1][:2] and len(windows) == 1
    w = windows[0]
    assert tuple(calls[1][2:]) == zoomed_size(w.y1 - w.y0, w.x1 - w.x0, released.config.zoom_words, released.config.max_side)
    metric = DetectionMetric()
    metric.update(res.boxes, [it.quad for it in scene.items], [False] * len(scene.items))
    assert len(scene.items) == 3 and metric.result()["hmean"] == 1.0, metric.result()
    calls.clear()
    released.detect(str(SAMPLES / "page.png"))
    assert len(calls) == 1


@pytest.mark.parametrize("name", ["grass.png", "brick.png", "gravel.png"])
def test_real_textures_give_no_boxes(released, name):
    res = released.detect(str(SAMPLES / name))
    assert res.success and len(res.boxes) == 0, f"{name}: {len(res.boxes)} false boxes"


def test_the_server_starts_on_pytorch_and_swaps_in_int8_when_built(tmp_path, monkeypatch):
    """The WebUI must not wait a minute for the export: PyTorch serves at once, the int8
    model replaces it from a background thread (the build is replaced by a copy of the
    model the tests above already built and verified)."""
    import shutil

    from app.web.service import DetectorService
    from app.web.settings import ModelSettings
    from models.backends import auto

    built = auto.int8_model_path(DEFAULT_WEIGHTS)
    TextDetector(device="cpu")          # make sure the verified model exists in the test cache
    monkeypatch.setenv(auto.CACHE_ENV, str(tmp_path / "fresh-cache"))
    monkeypatch.setattr(auto, "build_int8", lambda w, out: shutil.copyfile(built, out) and 0.0)
    service = DetectorService(ModelSettings(device="cpu"))
    assert service.detector("auto").backend_name == "torch"      # served at once
    assert "until the int8 model is built" in service.banner()
    service.close(timeout=120)
    assert service.detector("auto").backend_name in ("onnx", "openvino")   # after auto's runtime race
    assert "int8" in service.banner() and service.weights_path == DEFAULT_WEIGHTS
    assert service.detector("torch").backend_name == "torch"     # still on demand
