"""ONNX export of the detector, verified against PyTorch before the file is released.

``export_onnx(ExportConfig(height=800, width=800))`` writes ``model_800x800.onnx`` with:

* input ``images`` float32 ``[N,3,H,W]`` (N always dynamic; H and W fixed or dynamic),
  output ``prob`` float32 ``[N,1,H,W]``: the probability map, sigmoid included. Inputs
  and outputs stay float32 for every precision, so callers never change.
* metadata that makes the file usable alone (:mod:`models.export.metadata`): mean/std, size policy,
  default thresholds from ``DetectorConfig``, weights id, precision, shape, verification.
* a verification report (:mod:`models.export.check`): a failed check raises
  :class:`ExportVerificationError` and no file is left at the output path.

Exporter: ``torch.onnx.export(..., dynamo=True)`` (the default of torch 2.9+). It builds
the graph from ``torch.export`` and the onnxscript optimizer folds BatchNorm into the
convolutions and constant-folds the rest, so the graph is only Conv/Relu/Add/Resize/
Concat/ConvTranspose/Sigmoid (plus shape arithmetic when dynamic). Opset 18 is its
native lowest opset: asking for 17 works but goes through the ONNX version converter,
so 18 is the default (ONNX Runtime >= 1.14 and TensorRT >= 8.6 read it). The legacy
TorchScript exporter (``dynamo=False``) is deprecated and not used.

fp16 is exported from a half-precision copy of the network with a cast at the input
and the sigmoid computed in float32: no converter package is needed, and only the
network body runs in half precision (what the CUDA PyTorch backend does too).
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import torch

from ..backends import squeeze_maps
from ..files import atomic_write_bytes
from ..preprocess import prepare
from ..weights import load_model, weights_id
from .check import Check, CheckInput, int8_checks, max_abs_diff, run_all
from .config import INT8_MIN_HMEAN, INT8_MIN_LOGIT_CORR, TOLERANCE, ExportConfig
from .metadata import (
    INPUT_NAME,
    OUTPUT_NAME,
    SCOPE_KEY,
    VERIFICATION_FAILED,
    VERIFICATION_PASSED,
    WORD_OUTPUT_NAME,
    build_metadata,
)
from .samples import render_pages

log = logging.getLogger(__name__)

class ExportVerificationError(RuntimeError):
    """The exported model does not match PyTorch; ``report`` holds the measurements."""

    def __init__(self, report: "ExportReport") -> None:
        super().__init__(report.summary())
        self.report = report


@dataclass
class ExportReport:
    """What was written and how well it matches PyTorch (``summary()`` for people)."""

    path: Path
    precision: str
    input_shape: Tuple[Any, ...]            # ("N", 3, H, W) or ("N", 3, "H", "W")
    dynamic: bool
    opset: int
    weights_id: str
    max_abs_diff: float                     # probability map vs PyTorch fp32
    mean_abs_diff: float
    agreement_hmean: float | None = None    # int8, box mode
    agreement_mode: str | None = None       # int8: "boxes" or "map"
    float_nodes: List[str] = field(default_factory=list)   # int8: nodes kept in float
    checks: List[Check] = field(default_factory=list)
    passed: bool = False
    seconds: float = 0.0
    size_bytes: int = 0
    pages: int = 0

    def summary(self) -> str:
        shape = "x".join(str(d) for d in self.input_shape)
        lines = [
            f"ONNX export {'PASSED' if self.passed else 'FAILED'}: {self.path} "
            f"({self.precision}, {'dynamic' if self.dynamic else 'fixed'} shape, input {INPUT_NAME} "
            f"{shape}, opset {self.opset}, {self.size_bytes / 1e6:.1f} MB, {self.seconds:.1f} s)",
            f"  weights: {self.weights_id}",
            f"  verified with ONNX Runtime (CPU) against PyTorch fp32 on {self.pages} rendered pages "
            f"(dark on light, light on dark, noisy photo) and a batch of 2:",
        ]
        lines += [c.line() for c in self.checks]
        if self.float_nodes:
            lines.append(f"  kept in float: {', '.join(self.float_nodes)}")
        if not self.passed:
            lines.append("  the model does NOT match PyTorch within the limits above")
        return "\n".join(lines)

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        d["checks"] = [dict(asdict(c), passed=c.passed) for c in self.checks]
        return d


class ProbabilityMap(torch.nn.Module):
    """The exported module: DBNet body -> logits -> float32 sigmoid (``prob``; a second
    output, ``word_prob``, for a network with a word map: two outputs, not two channels, so
    that the word branch can be cut off and run only for the images that want words,
    :mod:`models.backends.word_branch`).

    ``half`` runs the body in float16 behind an input cast; the sigmoid stays float32 so
    small probabilities keep their precision for the threshold comparison.
    """

    def __init__(self, net: torch.nn.Module, half: bool = False) -> None:
        super().__init__()
        body = copy.deepcopy(net).eval()
        self.body = body.half() if half else body
        self.half = half

    def forward(self, images: torch.Tensor) -> torch.Tensor | Tuple[torch.Tensor, torch.Tensor]:
        x = images.half() if self.half else images
        lines, word_inputs = self.body.line_logits_and_word_inputs(x)
        if self.body.word_head is None:
            return torch.sigmoid(lines.float())
        return torch.sigmoid(lines.float()), torch.sigmoid(self.body.word_logits_from(word_inputs).float())


@contextlib.contextmanager
def _quiet_exporter():
    """The dynamo exporter prints progress and warns about torchvision ops we do not use."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript", "onnx_ir")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def to_onnx(net, cfg: ExportConfig, half: bool = False):
    """Trace ``net`` into an ``onnx.ModelProto`` (BatchNorm folded, constants folded)."""
    module = ProbabilityMap(net, half).eval()
    example = torch.zeros(1, 3, cfg.height, cfg.width)
    batch = torch.export.Dim("batch", min=1, max=64)
    dims: Dict[int, Any] = {0: batch}
    if cfg.dynamic:
        dims[2] = torch.export.Dim("height", min=64, max=8192)
        dims[3] = torch.export.Dim("width", min=64, max=8192)
    outputs = [OUTPUT_NAME, WORD_OUTPUT_NAME] if net.config.word_head else [OUTPUT_NAME]
    with _quiet_exporter():
        program = torch.onnx.export(module, (example,), None, input_names=[INPUT_NAME],
                                    output_names=outputs, opset_version=cfg.opset, dynamo=True,
                                    dynamic_shapes={"images": dims}, external_data=False, optimize=True)
    model = program.model_proto
    _strip_debug_info(model)
    # Plain names on the probability maps' dimensions (the exporter derives them from the input).
    for output in model.graph.output:
        for d, name in zip(output.type.tensor_type.shape.dim, ("batch", None, "height", "width")):
            if name and not d.HasField("dim_value"):
                d.dim_param = name
    return model


def _strip_debug_info(model) -> None:
    """Drop the exporter's per-node stack traces (local source paths, FX dumps); keep the
    module path of each node (``pkg.torch.onnx.name_scopes``) so reports can name layers."""
    for node in model.graph.node:
        keep = [(p.key, p.value) for p in node.metadata_props if p.key == SCOPE_KEY]
        del node.metadata_props[:]
        for k, v in keep:
            entry = node.metadata_props.add()
            entry.key, entry.value = k, v


def _set_metadata(model, meta: Dict[str, str]) -> None:
    del model.metadata_props[:]
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v


def _save(model, path: Path) -> None:
    """Atomic write: a reader never sees half a file at ``path``."""
    atomic_write_bytes(path, model.SerializeToString())


def _ort_fn(path: Path):
    import onnxruntime as ort

    from ..backends.onnx import session_options

    sess = ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])
    # with a word map, both outputs side by side: (N, 2, H, W) as PyTorch's eval forward gives
    return lambda x: squeeze_maps(np.concatenate(sess.run(None, {INPUT_NAME: x}), axis=1))


def torch_map_fn(net):
    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return squeeze_maps(net(torch.from_numpy(x)).float().numpy())
    return run


def verification_samples(cfg: ExportConfig) -> List[CheckInput]:
    """Rendered pages prepared as the detector would, plus one batch of two at H x W.

    Fixed-shape models see every page padded to (H, W); dynamic ones see each page at its
    own padded size (several different shapes), as ``TextDetector`` feeds them.
    """
    det = cfg.detector.with_overrides(limit_side=max(cfg.height, cfg.width), limit_type="max")
    pad = None if cfg.dynamic else (cfg.height, cfg.width)
    samples = []
    for p in render_pages(cfg.verify_images, cfg.seed, (cfg.height, cfg.width)):
        tensor, info = prepare(p.image, det, pad)
        samples.append(CheckInput(tensor, info, p.boxes, p.style))
    pair = np.stack([prepare(s.image, det, (cfg.height, cfg.width))[0]
                     for s in render_pages(2, cfg.seed + 7, (cfg.height, cfg.width))])
    samples.append(CheckInput(pair, None, [], "batch of 2"))
    return samples


def calibration_tensors(cfg: ExportConfig) -> List[np.ndarray]:
    """int8 calibration inputs: pages of another seed than the verification pages."""
    det = cfg.detector.with_overrides(limit_side=max(cfg.height, cfg.width), limit_type="max")
    return [prepare(p.image, det, (cfg.height, cfg.width))[0]
            for p in render_pages(cfg.calibration_images, cfg.seed + 1, (cfg.height, cfg.width))]


def _parity_check(label: str, ref, got, tol: float | None) -> Tuple[Check, float, float]:
    mx, mean = max_abs_diff(ref, got)
    return Check(f"max |p_{label} - p_torch|", mx, tol, "<=", f"mean {mean:.2g}"), mx, mean


def export_onnx(cfg: ExportConfig) -> ExportReport:
    """Export, verify, and release the model at ``cfg.output_path``.

    Raises:
        WeightsNotFoundError: no weights file.
        ExportVerificationError: a check failed (no file left at the output path; with
            ``keep_failed`` it is kept as ``<stem>.FAILED.onnx``, marked failed inside, and
            ``OnnxBackend`` refuses to load it).
    """
    import tempfile

    import onnx

    t0 = time.perf_counter()
    net, _ = load_model(cfg.weights_path)
    wid = weights_id(cfg.weights_path)
    out = cfg.output_path
    samples = verification_samples(cfg)
    ref = run_all(torch_map_fn(net), samples)
    checks: List[Check] = []
    float_nodes: List[str] = []
    hmean = mode = None
    with tempfile.TemporaryDirectory(prefix="dbnet-export-") as tmp:
        work = Path(tmp) / "model.onnx"
        model = to_onnx(net, cfg, half=cfg.precision == "fp16")
        onnx.save(model, str(work))
        if cfg.precision == "int8":
            # The float model is checked first: a quantization verdict on top of a broken
            # float graph would blame the wrong step.
            c, _, _ = _parity_check("fp32", ref, run_all(_ort_fn(work), samples), TOLERANCE["fp32"])
            c.name = "float model before quantization: " + c.name
            checks.append(c)
            from .quantize import quantize_int8

            quantized = Path(tmp) / "model_int8.onnx"
            keep = quantize_int8(work, quantized, calibration_tensors(cfg), cfg.calibration_method,
                                 cfg.keep_float_head)
            float_nodes = keep
            model, work = onnx.load(str(quantized)), quantized
        got = run_all(_ort_fn(work), samples)
        tol = TOLERANCE.get(cfg.precision)
        c, mx, mean = _parity_check(cfg.precision, ref, got, tol)
        checks.append(c)
        if cfg.precision == "int8":
            pages = [s for s in samples if s.info is not None]
            int8, mode, hmean = int8_checks(ref[:len(pages)], got[:len(pages)], pages, cfg.detector,
                                            cfg.int8_check, INT8_MIN_HMEAN, INT8_MIN_LOGIT_CORR)
            checks.extend(int8)
        onnx.checker.check_model(model, full_check=True)
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), cfg.opset)
        h, w = ("H", "W") if cfg.dynamic else (cfg.height, cfg.width)
        report = ExportReport(out, cfg.precision, ("N", 3, h, w), cfg.dynamic, opset, wid, mx, mean,
                              hmean, mode, float_nodes, checks, all(c.passed for c in checks),
                              pages=len(samples) - 1)
        report.seconds = time.perf_counter() - t0
        meta = build_metadata(height=cfg.height, width=cfg.width, dynamic=cfg.dynamic,
                              precision=cfg.precision, opset=opset, weights_id=wid, cfg=cfg.detector,
                              word_map=net.config.word_head,
                              extra={"calibration": {"images": cfg.calibration_images,
                                                     "method": cfg.calibration_method,
                                                     "float_nodes": float_nodes}}
                              if cfg.precision == "int8" else None)
        meta["verification"] = VERIFICATION_PASSED if report.passed else VERIFICATION_FAILED
        meta["verification_report"] = json.dumps({c.name: {"value": c.value, "limit": c.limit, "passed": c.passed}
                                                  for c in checks})
        _set_metadata(model, meta)
        model.producer_name = "cv_resnet18_ocr-detection"
        words = f" and {WORD_OUTPUT_NAME} [N,1,H,W] (words)" if net.config.word_head else ""
        model.doc_string = (f"{net.config.name} text detection: images [N,3,H,W] -> prob [N,1,H,W]{words}; "
                            "see metadata_props for preprocessing, size policy and thresholds")
        if report.passed:
            _save(model, out)
        else:
            # Nothing is written at ``out`` (a file already there is left as it was).
            report.path = out.with_name(out.stem + ".FAILED.onnx")
            if cfg.keep_failed:
                _save(model, report.path)
        report.size_bytes = report.path.stat().st_size if report.path.exists() else 0
    report.seconds = time.perf_counter() - t0
    log.info("%s", report.summary())
    if not report.passed:
        raise ExportVerificationError(report)
    return report
