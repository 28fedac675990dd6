"""Which (backend, precision) pairs a benchmark runs, and a detector for each: PyTorch from
the weights, ONNX Runtime or OpenVINO from a dynamic-shape export of them."""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

from models import DetectorConfig, TextDetector


class BackendUnavailable(RuntimeError):
    """A backend that cannot run here; the message says why and what to do."""


def plan(backends: Sequence[str], onnx_precisions: Sequence[str], device: str) -> List[Tuple[str, str]]:
    """(backend, precision) pairs to measure on ``device``.

    The torch backend runs fp16 on CUDA and fp32 on CPU (chosen by the backend itself);
    ONNX precisions are those asked for, else fp32 (plus fp16 on CUDA).
    """
    cuda = device.startswith("cuda")
    out: List[Tuple[str, str]] = []
    for b in backends:
        if b == "torch":
            out.append(("torch", "fp16" if cuda else "fp32"))
        elif b == "onnx":
            precisions = tuple(onnx_precisions) or (("fp32", "fp16") if cuda else ("fp32",))
            out += [("onnx", p) for p in precisions]
        elif b == "openvino":      # the same exports, run by OpenVINO (CPU only: refused on CUDA when opened)
            out += [("openvino", p) for p in tuple(onnx_precisions) or ("fp32",)]
        else:
            raise ValueError(f"unknown backend {b!r}; use torch, onnx or openvino")
    return out


def uses_export(backend: str) -> bool:
    """Whether ``backend`` runs an ONNX export of the weights (made by :func:`export_for_bench`)."""
    return backend in ("onnx", "openvino")


def export_for_bench(weights: Path, precision: str, size: int, workdir: Path) -> Path:
    """An ONNX model (dynamic input size) exported from ``weights`` into ``workdir``.

    Raises:
        BackendUnavailable: the export failed.
    """
    from models.export.config import ExportConfig
    from models.export.exporter import export_onnx

    out = workdir / f"dbnet_r18_{precision}.onnx"
    # The export traces and verifies at one square size (a multiple of 32, 320-1536);
    # the dynamic model then takes every size the bench asks for.
    trace = min(1536, max(320, (size + 31) // 32 * 32))
    if not out.is_file():
        try:
            export_onnx(ExportConfig(height=trace, width=trace, dynamic=True, precision=precision,
                                     output=out, weights=weights))
        except Exception as exc:   # an export failure must not lose the torch rows
            raise BackendUnavailable(f"ONNX export ({precision}) failed: {exc}") from exc
    return out


def open_detector(backend: str, weights: Path, device: str, model: Path | None = None) -> TextDetector:
    """A detector for ``backend``: torch from ``weights``, onnx or openvino from the exported ``model``."""
    if backend == "torch":
        return TextDetector(DetectorConfig(), weights=weights, device=device, backend="torch")
    runtime = "OpenVINO" if backend == "openvino" else "ONNX Runtime"
    try:
        return TextDetector(DetectorConfig(), device=device, backend=backend, model=model)
    except (ImportError, RuntimeError, ValueError) as exc:
        raise BackendUnavailable(f"{runtime} could not load the exported model: {exc}") from exc


def build_detector(backend: str, precision: str, weights: Path, device: str, workdir: Path,
                   size: int) -> TextDetector:
    """Export if needed and open a detector for one (backend, precision) in this process."""
    model = export_for_bench(weights, precision, size, workdir) if uses_export(backend) else None
    return open_detector(backend, weights, device, model)
