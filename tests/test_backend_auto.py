"""``backend="auto"``: which backend is chosen, why, and what is cached (models.backends.auto).

The real int8 build of the released weights is exercised by test_release_weights.py; here
the build step is replaced where only the decision logic is under test.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import TextDetector
from models.backends import auto
from models.export.exporter import ExportReport, ExportVerificationError
from models.weights import WeightsNotFoundError


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(auto.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _failed_report(path: Path) -> ExportReport:
    from models.export.check import Check

    return ExportReport(path, "int8", ("N", 3, "H", "W"), True, 18, "w", 0.5, 0.1,
                        checks=[Check("box agreement hmean", 0.5, 0.95, ">=")])


def test_cuda_uses_pytorch_without_building(random_weights, cache, monkeypatch):
    monkeypatch.setattr(auto, "build_int8", lambda *a: pytest.fail("must not build on a GPU"))
    choice = auto.choose_backend("cuda", random_weights)
    assert (choice.backend, choice.model) == ("torch", None)
    assert "CUDA" in choice.reason


def test_without_onnxruntime_pytorch_serves_and_says_why(random_weights, cache, monkeypatch):
    monkeypatch.setattr(auto, "_onnxruntime_missing", lambda: "ONNX Runtime is not installed (test)")
    choice = auto.choose_backend("cpu", random_weights)
    assert choice.backend == "torch" and "not installed" in choice.reason


def test_build_false_never_exports(random_weights, cache, monkeypatch):
    monkeypatch.setattr(auto, "build_int8", lambda *a: pytest.fail("build=False must not export"))
    choice = auto.choose_backend("cpu", random_weights, build=False)
    assert choice.backend == "torch" and choice.reason.endswith("until the int8 model is built")
    assert choice.int8_pending


def test_a_built_model_is_used_and_named_by_the_weights_content(random_weights, cache, monkeypatch):
    calls = []

    def fake_build(weights: Path, output: Path) -> float:
        calls.append(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(b"model")
        return 1.0

    monkeypatch.setattr(auto, "build_int8", fake_build)
    first = auto.choose_backend("cpu", random_weights)
    second = auto.choose_backend("cpu", random_weights)
    assert len(calls) == 1, "the int8 model is built once per weights, then cached"
    assert first == second and first.backend == "onnx" and first.precision == "int8"
    assert first.model == auto.int8_model_path(random_weights) and first.model.parent == cache
    assert auto.weights_id(random_weights) in first.model.name
    assert "CPU (AVX2" in first.reason


def test_a_failed_verification_falls_back_once_and_is_remembered(random_weights, cache, monkeypatch):
    calls = []

    def failing_build(weights: Path, output: Path) -> float:
        calls.append(output)
        raise ExportVerificationError(_failed_report(output))

    monkeypatch.setattr(auto, "build_int8", failing_build)
    first = auto.choose_backend("cpu", random_weights)
    again = auto.choose_backend("cpu", random_weights)
    assert len(calls) == 1, "a failed build is not retried on every start"
    assert first.backend == again.backend == "torch"
    assert "box agreement hmean" in again.reason and "delete" in again.reason
    marker = auto.int8_model_path(random_weights).with_suffix(".failed.json")
    assert json.loads(marker.read_text())["reason"].startswith("int8 verification failed")


def test_the_int8_build_tries_the_next_calibration_when_one_fails(tmp_path, monkeypatch):
    """minmax first; a calibration that fails the gate is followed by the next one, and the
    error of the last is what a build that never passes raises."""
    from models.export import exporter

    tried = []

    def export(cfg):
        tried.append(cfg.calibration_method)
        if cfg.calibration_method != passes:
            raise ExportVerificationError(_failed_report(cfg.output))

    monkeypatch.setattr(exporter, "export_onnx", export)
    passes = "percentile"
    auto.build_int8(tmp_path / "w.safetensors", tmp_path / "m.onnx")
    assert tried == ["minmax", "percentile"]
    tried.clear()
    passes = "none"
    with pytest.raises(ExportVerificationError):
        auto.build_int8(tmp_path / "w.safetensors", tmp_path / "m.onnx")
    assert tried == list(auto.CALIBRATIONS)


def test_an_exporter_crash_falls_back_to_pytorch(random_weights, cache, monkeypatch):
    def crash(weights: Path, output: Path) -> float:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(auto, "build_int8", crash)
    det = TextDetector(weights=random_weights, device="cpu")
    assert det.backend_name == "torch"
    assert "exporter exploded" in det.backend_summary


def test_missing_weights_are_an_error_not_a_random_model(tmp_path, cache):
    with pytest.raises(WeightsNotFoundError, match="Refusing to run an untrained"):
        auto.choose_backend("cpu", tmp_path / "none.safetensors")


def test_unknown_backend_is_refused(random_weights):
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        TextDetector(weights=random_weights, device="cpu", backend="tensorflow")
