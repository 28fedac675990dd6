"""OpenVINO backend: the same exported ONNX file as :mod:`.onnx`, run by OpenVINO on the CPU.

Why a second CPU runtime: on a 2-core Xeon with AMX (Sapphire Rapids), OpenVINO runs our
int8 model in 36-47 ms per 736x1280 photo where ONNX Runtime takes 77-80 ms (OpenVINO's
CPU plugin has AMX int8 kernels); on an AVX2-only EPYC the two were level. So it is an
optional extra (``pip install -r requirements-openvino.txt``), and ``backend="auto"`` uses
it only where it is installed, verified against PyTorch and measured faster on this
machine (:mod:`.cpu_runtime`).

Settings: latency hint with one thread per physical core (as ONNX Runtime gets), one
inference at a time (a second would only fight over the same cores).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from ..export.metadata import (
    OUTPUT_NAME,
    VERIFICATION_FAILED,
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

INSTALL_HINT = "pip install -r requirements-openvino.txt"


def openvino_missing() -> str | None:
    """Why OpenVINO cannot be used here, or None when it imports."""
    try:
        import openvino  # noqa: F401
    except ImportError as exc:
        return f"OpenVINO is not installed ({exc}; {INSTALL_HINT})"
    return None


def openvino_version() -> str:
    import openvino as ov

    return ov.__version__.split("-")[0]


class OpenVinoModelError(ValueError):
    """The file cannot be run by OpenVINO as a detector; the message says why."""


class OpenVinoBackend:
    """OpenVINO inference with the ``Backend`` interface of :mod:`models.backends`.

    Args:
        path: an ``.onnx`` file made by :mod:`models.export` (any precision).
        threads: inference threads (default: physical cores).

    Raises:
        FileNotFoundError: no such file.
        OpenVinoModelError: OpenVINO is missing, the file failed its export check, or its
            inputs/outputs are not a DBNet's.
    """

    name = "openvino"
    device = "cpu"

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        missing = openvino_missing()
        if missing:
            raise OpenVinoModelError(missing)
        import openvino as ov

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {self.path}")
        try:
            self.info: OnnxModelInfo = parse_metadata(read_metadata_file(self.path))
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            raise OpenVinoModelError(f"{self.path}: not a readable ONNX model ({exc})") from exc
        if self.info.verification == VERIFICATION_FAILED:
            raise OpenVinoModelError(f"{self.path}: this export FAILED its verification against PyTorch; "
                                     "export it again")
        self.threads = int(threads or cpu_threads())
        self._core = ov.Core()
        self._settings = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": self.threads}
        try:
            self._model = self._core.read_model(str(self.path))
        except Exception as exc:   # OpenVINO raises RuntimeError subclasses of its own
            raise OpenVinoModelError(f"{self.path}: OpenVINO cannot read this model ({exc})") from exc
        self.word_map_on_demand = False
        if sum(o.get_any_name() in (OUTPUT_NAME, WORD_OUTPUT_NAME) for o in self._model.outputs) == 2:
            self._cut_word_branch()
        self.fixed_shape, self.max_batch = self._check_io()
        # The whole graph (both maps in one call: run()) is compiled now only where the word map
        # was not cut off; with the two graphs only run() needs it (tuning, the runtime race), so
        # it waits for that: the released file's detector starts in 0.87 s instead of 1.22 s.
        self.request = None
        if not self.word_map_on_demand:
            self._whole()
        self.metadata: Dict[str, str] = dict(self.info.raw)
        digest = sha256_file(self.path)[:10]
        self.model_id = (f"{self.info.weights_id}-openvino-{self.info.precision or 'fp32'}-{digest}"
                         if self.info.weights_id else f"{self.path.stem}-openvino-{digest}")
        self._lock = threading.Lock()
        log.info("OpenVINO %s runs %s on the CPU (threads %d)", openvino_version(), self.path.name, self.threads)

    def _whole(self):
        """The infer request of the whole graph (compiled on first use; ``_outputs``: the maps)."""
        if self.request is None:
            try:
                compiled = self._core.compile_model(self._model, "CPU", self._settings)
            except Exception as exc:   # OpenVINO raises RuntimeError subclasses of its own
                raise OpenVinoModelError(f"{self.path}: OpenVINO cannot compile this model ({exc})") from exc
            self._outputs = ([o for o in compiled.outputs if o.get_any_name() in (OUTPUT_NAME, WORD_OUTPUT_NAME)]
                             or [compiled.output(0)])
            self.request = compiled.create_infer_request()
        return self.request

    def _cut_word_branch(self) -> None:
        """The word map apart from the lines, run for the images that want words (.word_branch);
        a file that cannot be cut runs whole."""
        branch = load_word_branch(self.path)
        if branch is None:
            return
        core, settings = self._core, self._settings
        try:
            lines = core.compile_model(core.read_model(branch.lines.SerializeToString()), "CPU", settings)
            words = core.compile_model(core.read_model(branch.words.SerializeToString()), "CPU", settings)
        except Exception as exc:   # OpenVINO's own RuntimeError subclasses
            log.warning("%s: the word map cannot be run apart (%s); it runs with the lines", self.path, exc)
            return
        self._lines, self._words = lines.create_infer_request(), words.create_infer_request()
        self._line_outputs = [lines.output(OUTPUT_NAME)] + [lines.output(t) for t in branch.boundary]
        self._word_inputs = list(branch.boundary)
        self.word_map_on_demand = True

    def _check_io(self) -> Tuple[Tuple[int, int] | None, int]:
        inputs, outputs = self._model.inputs, self._model.outputs
        shape = inputs[0].get_partial_shape() if len(inputs) == 1 else None
        if shape is None or shape.rank.get_length() != 4 or (shape[1].is_static and shape[1].get_length() != 3):
            raise OpenVinoModelError(f"{self.path}: expected one input [N,3,H,W]")
        out = outputs[0].get_partial_shape()
        if out.rank.get_length() not in (3, 4):
            raise OpenVinoModelError(f"{self.path}: expected a probability map [N,1,H,W] as first output")
        h, w = shape[2], shape[3]
        fixed = (h.get_length(), w.get_length()) if h.is_static and w.is_static else None
        batch = shape[0].get_length() if shape[0].is_static else 1
        return fixed, batch

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 -> (N, H, W) float32 probabilities ((N, 2, H, W) with a word map)."""
        check_batch(batch, self.fixed_shape)
        x = np.ascontiguousarray(batch, dtype=np.float32)
        def full(chunk: np.ndarray) -> np.ndarray:
            results = self._whole().infer({0: chunk})
            # a copy (concatenate makes one): the request reuses its output buffers on the next call
            return np.concatenate([results[o] for o in self._outputs], axis=1)

        with self._lock:
            return run_in_chunks(x, self.max_batch, full)

    def run_lines(self, batch: np.ndarray) -> Tuple[np.ndarray, List[WordMapOnDemand]]:
        """(N, 3, H, W) -> the (N, H, W) line maps, and each image's word map on demand."""
        check_batch(batch, self.fixed_shape)
        x = np.ascontiguousarray(batch, dtype=np.float32)

        def lines_graph(chunk: np.ndarray) -> List[np.ndarray]:
            results = self._lines.infer({0: chunk})
            return [np.array(results[o]) for o in self._line_outputs]   # copies, as in run

        with self._lock:
            return run_lines_in_chunks(x, self.max_batch, lines_graph, self._word_maps)

    def _word_maps(self, crossing: List[np.ndarray]) -> np.ndarray:
        with self._lock:
            return np.array(self._words.infer(dict(zip(self._word_inputs, crossing)))[0])[:, 0]
