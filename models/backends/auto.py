"""``backend="auto"``: the fastest backend that is verified for these weights on this machine.

Why: on a CPU, ONNX Runtime with static int8 kernels runs our network 1.8x faster than
PyTorch eager at the same quality (MODEL_CARD.md), and a user who runs the README should
get that without knowing about exports. The rule, per machine:

* **CUDA GPU** -> PyTorch (batched; the float path the GPU is fast at).
* **CPU** with ONNX Runtime installed -> the int8 ONNX model of the served weights. It is
  built once per weights id *on this machine* (export + calibration + verification
  against PyTorch on rendered pages, :func:`models.export.exporter.export_onnx`), so the
  verdict covers the int8 kernels this CPU actually runs (VNNI or not), and cached under
  :func:`cache_dir`. A build that fails verification leaves a marker with the reason, so
  later starts fall back at once instead of rebuilding.
* Anything else (no ONNX Runtime, failed verification) -> PyTorch, with the reason.

The choice and its reason are logged and shown in the WebUI header; ``backend="torch"``
or ``"onnx"`` (with an exported file) still override it.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..cpu_features import cpu_features
from ..files import atomic_write_bytes, exclusive_lock
from ..weights import require_weights_file, weights_id

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx", "openvino")
CACHE_ENV = "OCR_DET_CACHE"


@dataclass(frozen=True)
class BackendChoice:
    """What ``auto`` resolved to, and the one-line reason shown to people."""

    backend: str                 # torch | onnx | openvino
    precision: str               # fp32 | int8
    model: Path | None           # the .onnx file when backend is onnx or openvino
    reason: str
    int8_pending: bool = False   # build=False left the fastest backend unsettled: int8 model or runtime race pending


def cache_dir() -> Path:
    """``$OCR_DET_CACHE`` or ``~/.cache/cv_resnet18_ocr-detection/onnx`` (per user, per machine)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "cv_resnet18_ocr-detection" / "onnx"


def int8_model_path(weights: Path) -> Path:
    """The cached int8 model of these weights (named by content hash, so new weights get a new file)."""
    return cache_dir() / f"{weights_id(weights)}_dynamic_int8.onnx"


def _failure_marker(model: Path) -> Path:
    return model.with_suffix(".failed.json")


def _onnxruntime_missing() -> str | None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return f"ONNX Runtime is not installed ({exc})"
    return None


# Activation-range calibrations tried in turn until one passes the int8 gate. minmax first (it
# keeps every activation in range and passes for the line-only networks); the dense word boxes
# that a word map draws on rendered documents missed the gate by a little under minmax for the
# first word-map release (0.935 against 0.95) and passed with a clipped range (training log).
CALIBRATIONS = ("minmax", "percentile", "entropy")


def build_int8(weights: Path, output: Path) -> float:
    """Export, calibrate and verify the int8 model at ``output``; returns the seconds taken.
    Each of :data:`CALIBRATIONS` is tried until one passes (a failed try costs ~20 s, once).

    Raises ``ExportVerificationError`` (the last try's) when no calibration matches PyTorch.
    """
    from ..export.config import ExportConfig
    from ..export.exporter import ExportVerificationError, export_onnx

    t0 = time.perf_counter()

    def build(method: str) -> float:
        export_onnx(ExportConfig(weights=weights, output=output, dynamic=True, precision="int8",
                                 calibration_method=method))
        return time.perf_counter() - t0

    for method in CALIBRATIONS[:-1]:
        try:
            return build(method)
        except ExportVerificationError as exc:
            failed = ", ".join(c.name for c in exc.report.checks if not c.passed)
            log.info("int8 with %s calibration failed (%s); trying the next calibration", method, failed)
    return build(CALIBRATIONS[-1])


def _cpu_reason() -> str:
    return f"CPU ({cpu_features().describe()})"


def choose_backend(device: str, weights: str | Path | None = None, build: bool = True) -> BackendChoice:
    """Resolve ``auto`` for ``device`` (already picked: ``cpu`` or ``cuda...``) and ``weights``.

    ``build=False`` never exports: it answers PyTorch when no cached int8 model exists yet
    (for callers that build in the background instead of making a user wait).

    Raises:
        WeightsNotFoundError: no weights file (never a silent random model).
    """
    path = require_weights_file(weights or None)
    if device.startswith("cuda"):
        return BackendChoice("torch", "fp32", None, "CUDA GPU: PyTorch, batched")
    fallback = _int8_model_or_fallback(path, build)
    if fallback is not None:
        return fallback
    return _int8_runtime(path, int8_model_path(path), _cpu_reason(), build)


def _int8_model_or_fallback(path: Path, build: bool) -> BackendChoice | None:
    """None when the verified int8 model of ``path`` is on disk (built now if ``build``),
    else the PyTorch choice with the reason there is none."""
    cpu = _cpu_reason()
    missing = _onnxruntime_missing()
    if missing:
        return BackendChoice("torch", "fp32", None, f"{cpu}: PyTorch, because {missing}")
    model = int8_model_path(path)
    marker = _failure_marker(model)
    if not model.is_file() and not marker.is_file():
        if not build:
            return BackendChoice("torch", "fp32", None, f"{cpu}: PyTorch until the int8 model is built",
                                 int8_pending=True)
        with exclusive_lock(model.with_suffix(".lock")):   # one builder per model file across processes
            if not model.is_file() and not marker.is_file():
                _build_or_mark(path, model, marker)
    if marker.is_file():
        why = json.loads(marker.read_text()).get("reason", "verification failed")
        return BackendChoice("torch", "fp32", None,
                             f"{cpu}: PyTorch, because the int8 model of these weights failed on this "
                             f"machine ({why}; delete {marker} to try again)")
    return None


def openvino_choice(device: str, weights: str | Path | None = None, model: str | Path | None = None) -> BackendChoice:
    """``backend="openvino"``: ``model`` when given, else the int8 model of ``weights`` (built
    and verified here when missing, as ``auto`` does).

    Raises:
        ValueError: OpenVINO is not installed, or a GPU device was asked for, or these
            weights have no verified int8 model on this machine.
    """
    from .openvino_runtime import openvino_missing

    missing = openvino_missing()
    if missing:
        raise ValueError(f"--backend openvino: {missing}")
    if device != "cpu":
        raise ValueError(f"--backend openvino runs on the CPU; got device {device!r} (use --device cpu)")
    if model:
        return BackendChoice("openvino", "", Path(model), "asked for (--backend openvino)")
    path = require_weights_file(weights or None)
    fallback = _int8_model_or_fallback(path, build=True)    # no race: OpenVINO was asked for
    if fallback is not None:
        raise ValueError(f"--backend openvino: no int8 model of these weights to run ({fallback.reason})")
    return BackendChoice("openvino", "int8", int8_model_path(path), "asked for (--backend openvino)")


def _int8_runtime(weights: Path, model: Path, cpu: str, build: bool) -> BackendChoice:
    """ONNX Runtime, or OpenVINO where it is installed, verified and faster here
    (:mod:`.cpu_runtime`; measured once per model, then read from its cached verdict)."""
    from .cpu_runtime import cached_verdict, measure_verdict
    from .openvino_runtime import openvino_missing

    onnx = BackendChoice("onnx", "int8", model, f"{cpu}: ONNX Runtime int8, verified against PyTorch on "
                                                f"this machine (cached {model.name})")
    if openvino_missing():
        return onnx
    verdict = cached_verdict(model)
    if verdict is None:
        if not build:     # the race takes seconds: callers that cannot wait serve ONNX Runtime meanwhile
            return replace(onnx, int8_pending=True)
        with exclusive_lock(model.with_suffix(".lock")):
            verdict = cached_verdict(model) or measure_verdict(weights, model)
    if verdict.runtime == "openvino":
        return BackendChoice("openvino", "int8", model, f"{cpu}: {verdict.reason}; int8 verified against "
                                                        f"PyTorch on this machine (cached {model.name})")
    return BackendChoice("onnx", "int8", model, f"{onnx.reason}; {verdict.reason}")


def _build_or_mark(weights: Path, model: Path, marker: Path) -> None:
    from ..export.exporter import ExportVerificationError

    log.info("building the int8 ONNX model of %s for this CPU (once; about a minute on 2 cores)",
             weights.name)
    try:
        seconds = build_int8(weights, model)
    except ExportVerificationError as exc:
        failed = [c.name for c in exc.report.checks if not c.passed]
        reason = f"int8 verification failed: {', '.join(failed) or 'see log'}"
    except Exception as exc:   # an exporter or quantizer error must not stop detection
        log.exception("int8 export failed")
        reason = f"int8 export failed: {type(exc).__name__}: {exc}"
    else:
        log.info("int8 model ready in %.0f s: %s", seconds, model)
        return
    log.warning("%s; serving with PyTorch", reason)
    atomic_write_bytes(marker, json.dumps({"reason": reason, "weights": str(weights)}).encode())
