"""Is this text line Chinese (or Japanese, Korean)? A tiny CNN on the line's grey strip.

Why: ``granularity='auto'`` cuts the lines of scene photos into words at the gaps of the
probability map, the ICDAR convention for Latin scene text. Chinese is labelled, read and
expected by line: a space inside "可乐净含量 250g" separates phrases, not words, and the
map dips there just as it does between two English words (the map carries no script: a
measured dead end, weights/TRAINING_LOG.md). So before a line is cut, this classifier looks
at its pixels, and a CJK line stays whole.

The network (``STRIP_HEIGHT`` x width grey strip -> probability of CJK) is four 3x3
convolutions (16-96 channels) with ReLU and 2x2 max-pooling, global average pooling and one
logit; its weights (``weights/script_guard.npz``, 295 kB of numpy arrays) come from
``scripts/train_script_guard.py`` (renders, whose text is known, real Latin photos and
single lines drawn for it);
here they become a small ONNX graph run by ONNX Runtime on one thread: a few strips per
image, a fraction of a millisecond each.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

STRIP_HEIGHT = 32
#: Strips longer than this (in pixels at ``STRIP_HEIGHT``) are cut to their centre.
MAX_STRIP_WIDTH = 256
#: Shorter strips are padded with the mean (zero) to this width, as in training.
MIN_STRIP_WIDTH = 128
#: Convolution widths of the four stages.
CHANNELS = (16, 32, 64, 96)
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "script_guard.npz"


def line_strip(gray: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The line ``quad`` (4x2, ``gray``'s pixels) straightened to a ``STRIP_HEIGHT``-high
    strip along its long side, standardised (zero mean, unit spread); None when degenerate."""
    p = np.asarray(quad, np.float32).reshape(4, 2)
    if np.linalg.norm(p[2] - p[1]) > np.linalg.norm(p[1] - p[0]):
        p = np.roll(p, -1, axis=0)
    length = float(np.linalg.norm(p[1] - p[0]))
    height = float(np.linalg.norm(p[2] - p[1]))
    if height < 2 or length < 2:
        return None
    width = max(STRIP_HEIGHT, int(round(STRIP_HEIGHT * length / height)))
    target = np.float32([[0, 0], [width, 0], [width, STRIP_HEIGHT], [0, STRIP_HEIGHT]])
    matrix = cv2.getPerspectiveTransform(p, target)
    flags = cv2.INTER_AREA if height > STRIP_HEIGHT else cv2.INTER_LINEAR
    strip = cv2.warpPerspective(gray, matrix, (width, STRIP_HEIGHT), flags=flags,
                                borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    if width > MAX_STRIP_WIDTH:
        start = (width - MAX_STRIP_WIDTH) // 2
        strip = strip[:, start:start + MAX_STRIP_WIDTH]
    strip = (strip - strip.mean()) / (strip.std() + 8.0)
    if strip.shape[1] < MIN_STRIP_WIDTH:
        strip = np.pad(strip, ((0, 0), (0, MIN_STRIP_WIDTH - strip.shape[1])))
    return strip


def guard_onnx(weights: Dict[str, np.ndarray]) -> bytes:
    """The network as an ONNX graph (serialised), built from its arrays."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, x = [], [], "strip"
    n = sum(1 for k in weights if k.startswith("conv") and k.endswith(".weight"))
    for i in range(n):
        inits += [numpy_helper.from_array(weights[f"conv{i}.weight"].astype(np.float32), f"w{i}"),
                  numpy_helper.from_array(weights[f"conv{i}.bias"].astype(np.float32), f"b{i}")]
        nodes += [helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        x = f"r{i}"
        if i < n - 1:
            nodes.append(helper.make_node("MaxPool", [x], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"p{i}"
    inits += [numpy_helper.from_array(weights["fc.weight"].astype(np.float32).reshape(1, -1), "fw"),
              numpy_helper.from_array(weights["fc.bias"].astype(np.float32).reshape(1), "fb")]
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"]),
              helper.make_node("Gemm", ["flat", "fw", "fb"], ["logit"], transB=1),
              helper.make_node("Sigmoid", ["logit"], ["cjk"])]
    graph = helper.make_graph(nodes, "script_guard",
                              [helper.make_tensor_value_info("strip", TensorProto.FLOAT, [1, 1, STRIP_HEIGHT, "width"])],
                              [helper.make_tensor_value_info("cjk", TensorProto.FLOAT, [1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="script_guard")
    model.ir_version = 8            # any ONNX Runtime of the last years reads it
    onnx.checker.check_model(model)
    return model.SerializeToString()


class ScriptGuard:
    """Probability that a line is CJK text, from its pixels.

    Runs in ONNX Runtime on one thread: post-processing runs beside the detector's own
    inference, and numpy's multi-threaded BLAS, spinning on these tiny products, cost the
    folder pipeline 8 % of its throughput (measured: README, "With `--granularity auto` as
    the default")."""

    def __init__(self, weights: Dict[str, np.ndarray]) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(guard_onnx(weights), opts, providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> "ScriptGuard":
        with np.load(path) as data:
            return cls({k: data[k] for k in data.files})

    def strip_probability(self, strip: np.ndarray) -> float:
        x = np.ascontiguousarray(strip, np.float32)[None, None]
        return float(self.session.run(None, {"strip": x})[0][0, 0])

    def cjk_probability(self, gray: np.ndarray, quads: Sequence[np.ndarray]) -> List[float]:
        """One probability per quad (0 for a degenerate one, which is then cut as Latin)."""
        out = []
        for quad in quads:
            strip = line_strip(gray, quad)
            out.append(0.0 if strip is None else self.strip_probability(strip))
        return out


def torch_network(channels: Sequence[int] = CHANNELS):
    """The same network in ``torch.nn`` (for training; ``scripts/train_script_guard.py``); the
    widths are read back from the arrays, so a guard trained wider loads as it is."""
    import torch.nn as nn
    layers, c_in = [], 1
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
        if i < len(channels) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 1))


def network_arrays(net) -> Dict[str, np.ndarray]:
    """A :func:`torch_network`'s parameters under the names :class:`ScriptGuard` reads."""
    convs = [m for m in net if m.__class__.__name__ == "Conv2d"]
    fc = next(m for m in net if m.__class__.__name__ == "Linear")
    out = {}
    for i, m in enumerate(convs):
        out[f"conv{i}.weight"] = m.weight.detach().numpy().astype(np.float32)
        out[f"conv{i}.bias"] = m.bias.detach().numpy().astype(np.float32)
    out["fc.weight"] = fc.weight.detach().numpy().astype(np.float32)
    out["fc.bias"] = fc.bias.detach().numpy().astype(np.float32)
    return out


@functools.lru_cache(maxsize=2)
def load_guard(path: str = str(DEFAULT_WEIGHTS)) -> ScriptGuard:
    """The shipped guard, loaded once per process."""
    return ScriptGuard.load(path)
