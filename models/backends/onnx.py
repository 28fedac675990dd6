"""ONNX Runtime backend: runs a file made by :mod:`models.export` (or any DBNet probability-map
ONNX with one ``[N,3,H,W]`` input) with the detector's own pre- and post-processing.

Why these settings: intra-op threads = physical cores (hyper-threads slow convolutions
down), full graph optimisation (Conv+activation fusion, QDQ folding into integer kernels
for int8), and one run at a time on CPU (two concurrent runs would only fight over the
same cores). A fixed-shape model keeps one input shape, so ONNX Runtime allocates its
buffers once and memory stays flat; the detector pads inputs to that shape.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from ..export.metadata import (
    VERIFICATION_FAILED,
    VERIFICATION_PASSED,
    WORD_OUTPUT_NAME,
    OnnxModelInfo,
    parse_metadata,
    read_metadata_file,
)
from ..files import sha256_file
from . import WordMapOnDemand, check_batch, run_in_chunks, run_lines_in_chunks
from .device import cpu_threads
from .word_branch import load_word_branch

log = logging.getLogger(__name__)

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def onnx_providers(device: str) -> List[str]:
    """CUDA (and TensorRT when present) first on a GPU box, always CPU last."""
    import onnxruntime as ort
    import torch

    available = ort.get_available_providers()
    wanted: List[str] = []
    if device.startswith("cuda") and torch.cuda.is_available():
        for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider"):
            if p in available:
                wanted.append(p)
    wanted.append("CPUExecutionProvider")
    return wanted


class OnnxModelError(ValueError):
    """The file is not a usable detector model; the message says why and what to do."""


def session_options(threads: int | None = None):
    """Physical-core intra-op threads, full graph optimisation, sequential execution."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads or cpu_threads())
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3    # errors only: ORT's warnings about unused initialisers are noise
    return so


def _provider_list(device: str, precision: str | None) -> List[Any]:
    """Providers in preference order, with TensorRT options where TensorRT is asked for."""
    out: List[Any] = []
    for name in onnx_providers(device):
        if name == "TensorrtExecutionProvider":
            cache = Path.home() / ".cache" / "cv_resnet18_ocr-detection" / "tensorrt"
            cache.mkdir(parents=True, exist_ok=True)
            out.append((name, {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache),
                               "trt_fp16_enable": precision == "fp16",
                               "trt_int8_enable": precision == "int8"}))
        else:
            out.append(name)
    return out


def _dim(d: Any) -> int | None:
    return int(d) if isinstance(d, int) and d > 0 else None


class OnnxBackend:
    """ONNX Runtime inference with the ``Backend`` interface of :mod:`models.backends`.

    Args:
        path: the ``.onnx`` file.
        device: ``cpu`` or ``cuda`` (CUDA/TensorRT providers when present, CPU fallback).
        threads: intra-op threads (default: physical cores).

    Raises:
        FileNotFoundError: no such file.
        OnnxModelError: not an ONNX model, wrong inputs/outputs, or a failed export check.
    """

    name = "onnx"

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(
                f"ONNX model not found: {self.path}. Export one with `python -m app export "
                f"--height 800 --width 800 --output {self.path.name}`.")
        # Read the metadata first (cheap, no session): a file that failed its export check
        # must be refused before any provider spends time compiling it.
        self.info: OnnxModelInfo = parse_metadata(self._read_metadata(self.path))
        if self.info.verification == VERIFICATION_FAILED:
            raise OnnxModelError(
                f"{self.path}: this export FAILED its verification against PyTorch (kept only for "
                f"debugging); export it again, see the report in its metadata: "
                f"{self.info.raw.get('verification_report', '')[:300]}")
        requested = _provider_list(device, self.info.precision)
        try:
            self.session = ort.InferenceSession(str(self.path), session_options(threads), providers=requested)
        except Exception as exc:  # ORT raises its own exception types per failure
            raise OnnxModelError(f"{self.path}: ONNX Runtime cannot load this model ({exc})") from exc
        self.word_map_on_demand = False
        if any(o.name == WORD_OUTPUT_NAME for o in self.session.get_outputs()):
            self._cut_word_branch(requested, threads)
        active = self.session.get_providers()
        self.provider = active[0]
        self.device = "cuda" if self.provider in GPU_PROVIDERS else "cpu"
        names = [p if isinstance(p, str) else p[0] for p in requested]
        log.info("ONNX Runtime %s runs %s on %s (asked for %s; threads %s)", ort.__version__,
                 self.path.name, self.provider, ", ".join(names),
                 self.session.get_session_options().intra_op_num_threads)
        if device.startswith("cuda") and self.device == "cpu":
            log.warning("CUDA was requested but ONNX Runtime runs %s on the CPU (providers "
                        "available: %s)", self.path.name, ", ".join(ort.get_available_providers()))
        self._check_io()
        self.metadata: Dict[str, str] = dict(self.info.raw)
        self.model_id = self._model_id()
        if self.info.ours and self.info.verification != VERIFICATION_PASSED:
            log.warning("%s was not verified at export (verification: %s)", self.path.name,
                        self.info.verification)
        # One run at a time on CPU; on a GPU ORT serialises kernels anyway.
        self._lock = threading.Lock()

    def _cut_word_branch(self, providers: List[Any], threads: int | None) -> None:
        """The word map apart from the lines, run for the images that want words (.word_branch);
        a file that cannot be cut runs whole."""
        import onnxruntime as ort

        branch = load_word_branch(self.path)
        if branch is None:
            return
        try:
            self._lines = ort.InferenceSession(branch.lines.SerializeToString(), session_options(threads),
                                               providers=providers)
            self._words = ort.InferenceSession(branch.words.SerializeToString(), session_options(threads),
                                               providers=providers)
        except Exception as exc:  # ORT's own exception types
            log.warning("%s: the word map cannot be run apart (%s); it runs with the lines", self.path, exc)
            return
        self._boundary = branch.boundary
        self.word_map_on_demand = True

    @staticmethod
    def _read_metadata(path: Path) -> Dict[str, str]:
        try:
            return read_metadata_file(path)
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            raise OnnxModelError(f"{path}: not a readable ONNX model ({exc})") from exc

    def _check_io(self) -> None:
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or _dim(inputs[0].shape[1]) not in (None, 3):
            got = [(i.name, i.shape) for i in inputs]
            raise OnnxModelError(f"{self.path}: expected one input [N,3,H,W], got {got}")
        out_shape = outputs[0].shape
        if len(out_shape) not in (3, 4) or (len(out_shape) == 4 and _dim(out_shape[1]) not in (None, 1, 2)):
            raise OnnxModelError(f"{self.path}: expected a probability map [N,1,H,W] (or [N,2,H,W]: lines, words) "
                                 f"as first output, "
                                 f"got {outputs[0].name} {out_shape}")
        inp = inputs[0]
        self.input_name = inp.name
        # lines, and the word map where a network has one as a second output
        self.output_names = [outputs[0].name] + [o.name for o in outputs[1:] if o.name == WORD_OUTPUT_NAME]
        self.input_dtype = np.float16 if inp.type == "tensor(float16)" else np.float32
        h, w = _dim(inp.shape[2]), _dim(inp.shape[3])
        self.fixed_shape: Tuple[int, int] | None = (h, w) if h and w else None
        batch = _dim(inp.shape[0])
        self.max_batch = batch if batch else (8 if self.device == "cuda" else 1)

    def _model_id(self) -> str:
        digest = sha256_file(self.path)[:10]
        if self.info.weights_id:
            return f"{self.info.weights_id}-onnx-{self.info.precision or 'fp32'}-{digest}"
        return f"{self.path.stem}-{digest}"

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 -> (N, H, W) float32 probabilities ((N, 2, H, W) with a word map)."""
        check_batch(batch, self.fixed_shape)
        x = np.ascontiguousarray(batch, dtype=self.input_dtype)
        with self._lock:
            return run_in_chunks(x, self.max_batch,
                                 lambda chunk: np.concatenate(self.session.run(self.output_names, {self.input_name: chunk}), axis=1))

    def run_lines(self, batch: np.ndarray) -> Tuple[np.ndarray, List[WordMapOnDemand]]:
        """(N, 3, H, W) -> the (N, H, W) line maps, and each image's word map on demand."""
        check_batch(batch, self.fixed_shape)
        x = np.ascontiguousarray(batch, dtype=self.input_dtype)
        with self._lock:
            return run_lines_in_chunks(x, self.max_batch, lambda chunk: self._lines.run(None, {self.input_name: chunk}),
                                       self._word_maps)

    def _word_maps(self, crossing: List[np.ndarray]) -> np.ndarray:
        with self._lock:
            return self._words.run(None, dict(zip(self._boundary, crossing)))[0][:, 0]
