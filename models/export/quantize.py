"""Static int8 quantization (QDQ) of an exported float32 DBNet with ONNX Runtime's tools.

Choices and why:

* **Static QDQ** (``QuantizeLinear``/``DequantizeLinear`` pairs): activations are calibrated
  once on rendered pages, so inference does no range computation; ORT's CPU provider folds
  each QDQ-wrapped Conv into an integer convolution, and TensorRT reads QDQ natively.
* **Per-channel int8 weights, uint8 activations (U8S8)**: per-channel scales keep the
  narrow channels of a BN-folded ResNet accurate; U8S8 is the fast path of ORT's x86
  kernels (VNNI on AVX512-VNNI / AVX-VNNI CPUs).
* **MinMax calibration** on a handful of pages: conv activations after ReLU have no long
  tails worth clipping; percentile and entropy are available for experiments.
* **Kept in float**: the final 2x2 transposed convolution that produces the probability
  logits, and the sigmoid. The logits are compared with the threshold directly; 8 bits
  over their whole range would put a visible step at the decision boundary, and the
  layer has a single output channel (well under 1 % of the compute).
"""
from __future__ import annotations

import ast
import logging
import tempfile
from pathlib import Path
from typing import Iterator, List, Sequence

import numpy as np
import onnx

from .metadata import INPUT_NAME, SCOPE_KEY

log = logging.getLogger(__name__)

CALIBRATION_METHODS = ("minmax", "percentile", "entropy")


def describe(node: onnx.NodeProto) -> str:
    """``name (Op, module path)``: the module path comes from the exporter's name scopes."""
    scope = next((p.value for p in node.metadata_props if p.key == SCOPE_KEY), "")
    try:
        parts = [s for s in ast.literal_eval(scope) if s] if scope else []
    except (ValueError, SyntaxError):
        parts = []
    module = parts[-2] if len(parts) >= 2 else ""
    module = module[len("body."):] if module.startswith("body.") else module
    return f"{node.name} ({node.op_type}{', ' + module if module else ''})"


def head_nodes(model: onnx.ModelProto) -> List[onnx.NodeProto]:
    """The nodes kept in float: each graph output's Sigmoid and the layer producing its logits
    (one output, or two: the line and the word map)."""
    producers = {out: n for n in model.graph.node for out in n.output}

    def past_casts(node: onnx.NodeProto | None) -> onnx.NodeProto | None:
        while node is not None and node.op_type in ("Cast", "Identity"):
            node = producers.get(node.input[0])
        return node

    out: List[onnx.NodeProto] = []
    for output in model.graph.output:
        node = past_casts(producers.get(output.name))
        if node is None or node.op_type != "Sigmoid":
            continue
        layer = past_casts(producers.get(node.input[0]))
        if layer is not None and layer.op_type in ("Conv", "ConvTranspose"):
            out.append(layer)
        out.append(node)
    return out


class _PageReader:
    """ORT ``CalibrationDataReader`` over prepared page tensors (one page per call).

    ``__len__`` and ``set_range`` let ORT calibrate page by page (``CalibStridedMinMax``),
    merging ranges as it goes, so memory holds one page's activations, not all of them.
    """

    def __init__(self, tensors: Sequence[np.ndarray]) -> None:
        self._tensors = list(tensors)
        self._it: Iterator[np.ndarray] = iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._it = iter(self._tensors[start_index:end_index])

    def get_next(self):
        x = next(self._it, None)
        return None if x is None else {INPUT_NAME: np.ascontiguousarray(x[None], dtype=np.float32)}


def quantize_int8(fp32_path: Path, out_path: Path, calibration: Sequence[np.ndarray],
                  method: str = "minmax", keep_float_head: bool = True) -> List[str]:
    """Quantize ``fp32_path`` into ``out_path``; returns descriptions of the nodes kept in float.

    Args:
        calibration: prepared (3, H, W) float32 page tensors.
        method: ``minmax``, ``percentile`` or ``entropy``.
        keep_float_head: leave the logit layer and the sigmoid in float (see module docstring).
    """
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in CALIBRATION_METHODS:
        raise ValueError(f"calibration method must be one of {', '.join(CALIBRATION_METHODS)} (got {method!r})")
    if not calibration:
        raise ValueError("int8 quantization needs at least one calibration image")
    calib = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
             "entropy": CalibrationMethod.Entropy}[method]

    class Reader(_PageReader, CalibrationDataReader):
        pass

    with tempfile.TemporaryDirectory(prefix="dbnet-quant-") as tmp:
        pre = Path(tmp) / "preprocessed.onnx"
        # ONNX shape inference + ORT's basic graph optimisations: gives the quantizer the
        # tensor shapes and the final node layout it should insert QDQ pairs into. ORT's
        # symbolic shape inference (meant for transformers) gives up on dynamic H x W.
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        model = onnx.load(str(pre))
        keep = head_nodes(model) if keep_float_head else []
        quantize_static(
            str(pre), str(out_path), Reader(calibration),
            quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            nodes_to_exclude=[n.name for n in keep], calibrate_method=calib,
            extra_options={
                # Calibrate page by page and merge the ranges: holding every intermediate
                # tensor of every page takes GBs at 1536x1536. (Not CalibMaxIntermediateOutputs:
                # in ORT 1.31 it drops the pages it flushes instead of merging them.)
                "CalibStridedMinMax": 1,
                "WeightSymmetric": True,
                "ActivationSymmetric": False,
            })
    kept = [describe(n) for n in keep]
    log.info("int8: quantized %s with %d calibration pages (%s); kept in float: %s", fp32_path.name,
             len(calibration), method, ", ".join(kept) or "nothing")
    return kept
