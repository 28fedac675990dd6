"""The OpenVINO backend and how ``auto`` decides between it and ONNX Runtime.

OpenVINO is an optional runtime (requirements-openvino.txt) that the test extras install, so
the backend itself runs here on a small export of the random-weight model; the decision
logic is tested with the race replaced, and once for real (whichever runtime wins on the
machine that runs the suite, the verdict must carry both timings and be cached).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models import TextDetector
from models.backends import auto, cpu_runtime, openvino_runtime
from models.backends.cpu_runtime import RuntimeVerdict
from models.backends.onnx import OnnxBackend
from models.backends.openvino_runtime import OpenVinoBackend
from models.export.config import ExportConfig
from models.export.exporter import export_onnx

S = 320


@pytest.fixture(scope="module")
def exported(tmp_path_factory, random_weights) -> dict:
    """A dynamic and a fixed fp32 export of the random-weight model."""
    out = {}
    for name, dynamic in (("dynamic", True), ("fixed", False)):
        path = tmp_path_factory.mktemp("ov") / f"{name}.onnx"
        export_onnx(ExportConfig(height=S, width=S, output=path, weights=random_weights, verify_images=3,
                                 dynamic=dynamic))
        out[name] = path
    return out


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(auto.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_openvino_runs_the_model_like_onnx_runtime(exported):
    ov, ort = OpenVinoBackend(exported["dynamic"]), OnnxBackend(exported["dynamic"])
    assert ov.fixed_shape is None and ov.max_batch == 1 and ov.name == "openvino"
    assert "-openvino-fp32-" in ov.model_id and ov.metadata["precision"] == "fp32"
    rng = np.random.default_rng(0)
    for shape in ((1, 3, 320, 320), (2, 3, 256, 384)):         # other sizes and a batch of two
        x = rng.standard_normal(shape, dtype=np.float32)
        a, b = ov.run(x), ort.run(x)
        assert a.shape == b.shape == (shape[0],) + shape[2:] and a.dtype == np.float32
        # OpenVINO may compute float layers in bf16 on CPUs with AMX: close, not identical
        assert np.abs(a - b).max() < 0.05 and _corr(a, b) > 0.99


def test_openvino_refuses_wrong_shapes(exported):
    # (missing and unreadable files: test_export.test_backend_errors_name_the_file)
    fixed = OpenVinoBackend(exported["fixed"])
    assert fixed.fixed_shape == (S, S)
    with pytest.raises(ValueError, match="takes 320x320"):
        fixed.run(np.zeros((1, 3, 256, 256), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        fixed.run(np.zeros((3, 320, 320), np.float32))


def test_detector_with_backend_openvino_matches_onnx_runtime(exported, random_weights):
    from tests.conftest import text_like_image

    img = text_like_image(300, 420)
    ov = TextDetector(device="cpu", backend="openvino", model=exported["dynamic"])
    ort = TextDetector(device="cpu", backend="onnx", model=exported["dynamic"])
    assert ov.backend_name == "openvino" and ov.backend_summary.startswith("openvino fp32 on cpu")
    assert ov.weights_path == exported["dynamic"]
    assert ov.detect(img).boxes.shape[1:] == ort.detect(img).boxes.shape[1:]


def test_backend_openvino_without_openvino_or_on_cuda_says_why(monkeypatch, random_weights, exported):
    with pytest.raises(ValueError, match="runs on the CPU"):
        auto.openvino_choice("cuda", random_weights, exported["dynamic"])
    monkeypatch.setattr(openvino_runtime, "openvino_missing", lambda: "OpenVINO is not installed (test)")
    with pytest.raises(ValueError, match="not installed"):
        TextDetector(weights=random_weights, device="cpu", backend="openvino", model=exported["dynamic"])


# ---------------------------------------------------------------------------- auto's choice
def _pretend_built(weights: Path) -> Path:
    model = auto.int8_model_path(weights)
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(b"model")
    return model


def _fake_measure(runtime: str, calls: list):
    def measure(weights: Path, model: Path) -> RuntimeVerdict:
        calls.append(model)
        verdict = RuntimeVerdict(runtime, f"{runtime} won (test)", cpu_runtime._versions(), 80.0, 40.0, 1.0)
        cpu_runtime.verdict_path(model).write_text(json.dumps(verdict.__dict__))
        return verdict
    return measure


@pytest.mark.parametrize("winner", ["openvino", "onnx"])
def test_auto_runs_the_race_once_and_follows_its_verdict(random_weights, cache, monkeypatch, winner):
    calls: list = []
    monkeypatch.setattr(cpu_runtime, "measure_verdict", _fake_measure(winner, calls))
    model = _pretend_built(random_weights)
    first = auto.choose_backend("cpu", random_weights)
    again = auto.choose_backend("cpu", random_weights)
    assert len(calls) == 1, "the race runs once per int8 model, then its verdict is read"
    assert first == again and first.backend == winner and first.precision == "int8" and first.model == model
    assert f"{winner} won (test)" in first.reason and "CPU (AVX2" in first.reason


def test_build_false_serves_onnx_runtime_until_the_race_is_run(random_weights, cache, monkeypatch):
    monkeypatch.setattr(cpu_runtime, "measure_verdict", lambda *a: pytest.fail("build=False must not race"))
    _pretend_built(random_weights)
    choice = auto.choose_backend("cpu", random_weights, build=False)
    assert choice.backend == "onnx" and choice.int8_pending


def test_a_verdict_from_other_runtime_versions_is_measured_again(random_weights, cache, monkeypatch):
    calls: list = []
    monkeypatch.setattr(cpu_runtime, "measure_verdict", _fake_measure("openvino", calls))
    model = _pretend_built(random_weights)
    old = RuntimeVerdict("onnx", "old", {**cpu_runtime._versions(), "openvino": "2020.1"})
    cpu_runtime.verdict_path(model).write_text(json.dumps(old.__dict__))
    assert auto.choose_backend("cpu", random_weights).backend == "openvino"
    assert len(calls) == 1


def test_without_openvino_auto_never_races(random_weights, cache, monkeypatch):
    monkeypatch.setattr(openvino_runtime, "openvino_missing", lambda: "OpenVINO is not installed (test)")
    monkeypatch.setattr(cpu_runtime, "measure_verdict", lambda *a: pytest.fail("no OpenVINO, no race"))
    _pretend_built(random_weights)
    choice = auto.choose_backend("cpu", random_weights)
    assert choice.backend == "onnx" and not choice.int8_pending


def test_the_real_race_verifies_times_and_caches(random_weights, exported, tmp_path, monkeypatch):
    monkeypatch.setattr(cpu_runtime, "RACE_RUNS", 2)
    model = tmp_path / "model.onnx"
    model.write_bytes(exported["dynamic"].read_bytes())
    verdict = cpu_runtime.measure_verdict(random_weights, model)
    assert verdict.runtime in ("onnx", "openvino")
    assert verdict.onnx_ms > 0 and verdict.openvino_ms > 0, verdict.reason
    assert "ms per 736x1280 input" in verdict.reason
    assert cpu_runtime.cached_verdict(model) == verdict


def test_a_runtime_that_fails_verification_is_not_used(random_weights, exported, tmp_path, monkeypatch):
    model = tmp_path / "model.onnx"
    model.write_bytes(exported["dynamic"].read_bytes())
    monkeypatch.setattr(OpenVinoBackend, "run", lambda self, x: np.zeros((len(x),) + x.shape[2:], np.float32))
    verdict = cpu_runtime.measure_verdict(random_weights, model)
    assert verdict.runtime == "onnx" and "failed verification" in verdict.reason
    assert verdict.onnx_ms is None, "no race for a runtime that gives other maps"
