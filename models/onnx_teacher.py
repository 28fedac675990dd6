"""Another detector's probability map as a training teacher: an ONNX DB-style model run in torch.

Issue #16 asks for the PP-OCRv4 mobile detector (the ``ch_PP-OCRv4_det_infer.onnx`` inside the
rapidocr-onnxruntime wheel, Apache-2.0) as a teacher: its probability map a soft target while
our network learns the labels (``app train --teacher FILE.onnx``). The teacher must run on the
device that trains, on the augmented batch, as the DBNet teacher does: ONNX Runtime would run
it on the CPU only (its CUDA build is not installable here), so the graph is executed by torch,
node by node, with the few operators a DB detector exported from Paddle uses. Anything else is
refused by name when the file is loaded, never half-run.

The shipped model never needs the teacher: it only shapes the training targets.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .config import IMAGENET_MEAN, IMAGENET_STD

#: What rapidocr-onnxruntime 1.4.4 (the peer we measure) feeds PP-OCRv4's detector: BGR,
#: (pixel / 255 - 0.5) / 0.5. Our batches are RGB with ImageNet mean and std.
TEACHER_CHANNELS = (2, 1, 0)
TEACHER_MEAN = (0.5, 0.5, 0.5)
TEACHER_STD = (0.5, 0.5, 0.5)


def _attrs(node) -> Dict[str, object]:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _symmetric_pads(pads: List[int], op: str) -> Tuple[int, int]:
    """ONNX pads (top, left, bottom, right) as torch's (pad_h, pad_w); uneven pads are refused."""
    if not pads:
        return 0, 0
    top, left, bottom, right = pads
    if top != bottom or left != right:
        raise ValueError(f"{op} with uneven padding {pads} is not supported")
    return top, left


#: What a builder gets besides the attributes: each input's value where the file fixes it (a
#: Constant or an initializer), else None. Bounds and scales read here once, at load time, never
#: from a tensor inside the forward pass: on a GPU every such read would wait for the device.
Static = List["np.ndarray | None"]


def _conv(a, static: Static) -> Callable:
    pad = _symmetric_pads(list(a.get("pads", [])), "Conv")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError("Conv with auto_pad is not supported")
    stride, dilation, group = tuple(a.get("strides", [1, 1])), tuple(a.get("dilations", [1, 1])), a.get("group", 1)
    return lambda x, w, b=None: F.conv2d(x, w, b, stride, pad, dilation, group)


def _conv_transpose(a, static: Static) -> Callable:
    pad = _symmetric_pads(list(a.get("pads", [])), "ConvTranspose")
    if "output_shape" in a:
        raise ValueError("ConvTranspose with output_shape is not supported")
    stride, dilation, group = tuple(a.get("strides", [1, 1])), tuple(a.get("dilations", [1, 1])), a.get("group", 1)
    extra = tuple(a.get("output_padding", [0, 0]))
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, pad, extra, group, dilation)


def _batch_norm(a, static: Static) -> Callable:
    eps = float(a.get("epsilon", 1e-5))
    return lambda x, scale, bias, mean, var: F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)


def _static_at(static: Static, i: int) -> "np.ndarray | None":
    return static[i] if i < len(static) else None


def _clip(a, static: Static) -> Callable:
    if "min" in a or "max" in a:      # opset < 11: bounds are attributes
        lo, hi = a.get("min"), a.get("max")
        return lambda x: torch.clamp(x, lo, hi)
    bounds = static[1:3]
    if all(v is not None for v in bounds):     # the bounds given are constants (or none is given)
        lo, hi = ([float(v) for v in bounds] + [None, None])[:2]
        return lambda x, *given: torch.clamp(x, lo, hi)
    return lambda x, lo=None, hi=None: torch.clamp(x, None if lo is None else float(lo), None if hi is None else float(hi))


def _hard_sigmoid(a, static: Static) -> Callable:
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    return lambda x: torch.clamp(x * alpha + beta, 0.0, 1.0)


def _resize(a, static: Static) -> Callable:
    mode = a.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    coords = a.get("coordinate_transformation_mode", b"half_pixel")
    coords = coords.decode() if isinstance(coords, bytes) else coords
    if mode == "nearest":
        nearest = a.get("nearest_mode", b"round_prefer_floor")
        nearest = nearest.decode() if isinstance(nearest, bytes) else nearest
        if coords != "asymmetric" or nearest != "floor":
            raise ValueError(f"Resize nearest with {coords}/{nearest} is not supported (asymmetric/floor is)")
        kwargs: Dict[str, object] = {"mode": "nearest"}
    elif mode == "linear" and coords in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        kwargs = {"mode": "bilinear", "align_corners": coords == "align_corners"}
    else:
        raise ValueError(f"Resize mode {mode} with {coords} is not supported")

    def size_of(x, scales, sizes) -> List[int]:
        if sizes is not None and len(sizes):
            return [int(s) for s in sizes[2:]]
        if scales is None or not len(scales):
            raise ValueError("Resize without scales or sizes")
        if float(scales[0]) != 1.0 or float(scales[1]) != 1.0:
            raise ValueError("Resize of the batch or channel axis is not supported")
        return [int(np.floor(d * float(s))) for d, s in zip(x.shape[2:], scales[2:])]

    scales, sizes = _static_at(static, 2), _static_at(static, 3)
    if (scales is not None and len(scales)) or (sizes is not None and len(sizes)):
        scales = None if scales is None else [float(v) for v in scales]
        sizes = None if sizes is None else [int(v) for v in sizes]
        return lambda x, *inputs: F.interpolate(x, size=size_of(x, scales, sizes), **kwargs)
    return lambda x, roi=None, scales=None, sizes=None: F.interpolate(x, size=size_of(x, scales, sizes), **kwargs)


def _global_average_pool(a, static: Static) -> Callable:
    return lambda x: x.mean(dim=(2, 3), keepdim=True)


def _concat(a, static: Static) -> Callable:
    axis = int(a["axis"])
    return lambda *xs: torch.cat(xs, dim=axis)


#: The operators run, each a builder of (attributes, static inputs) -> function of the input tensors.
OPERATORS: Dict[str, Callable] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose, "BatchNormalization": _batch_norm,
    "Clip": _clip, "HardSigmoid": _hard_sigmoid, "Resize": _resize, "Concat": _concat,
    "GlobalAveragePool": _global_average_pool,
    "Add": lambda a, s: torch.add, "Mul": lambda a, s: torch.mul, "Div": lambda a, s: torch.div,
    "Sub": lambda a, s: torch.sub, "Relu": lambda a, s: torch.relu, "Sigmoid": lambda a, s: torch.sigmoid,
}


class OnnxTeacher(torch.nn.Module):
    """A frozen ONNX detector whose one output is a (N, 1, H, W) probability map of its input.

    ``forward`` takes our training batch (RGB, ImageNet mean and std) and returns the
    teacher's probabilities at the batch's size, as a DBNet teacher's eval forward does."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        import onnx
        from onnx import numpy_helper
        self.path = str(path)
        try:
            model = onnx.load(self.path)
        except Exception as exc:
            raise ValueError(f"{path}: not a readable ONNX file ({exc})") from exc
        graph = model.graph
        initializers = {t.name for t in graph.initializer}
        inputs = [i.name for i in graph.input if i.name not in initializers]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise ValueError(f"{path}: a teacher has one image input and one probability-map output "
                             f"(this file: {len(inputs)} inputs, {len(graph.output)} outputs)")
        self.input_name, self.output_name = inputs[0], graph.output[0].name
        self._names: Dict[str, str] = {}        # ONNX tensor name -> buffer name
        fixed: Dict[str, np.ndarray] = {}       # the same values on the host, for the builders
        for t in graph.initializer:
            fixed[t.name] = numpy_helper.to_array(t)
            self._constant(t.name, fixed[t.name])
        self._steps: List[Tuple[Callable, List[str], str]] = []
        unknown = sorted({n.op_type for n in graph.node if n.op_type != "Constant" and n.op_type not in OPERATORS})
        if unknown:
            raise ValueError(f"{path}: operators a teacher cannot run: {', '.join(unknown)} "
                             f"(supported: {', '.join(sorted(OPERATORS))})")
        for node in graph.node:
            a = _attrs(node)
            if node.op_type == "Constant":
                if "value" not in a:
                    raise ValueError(f"{path}: a Constant without a tensor value is not supported")
                fixed[node.output[0]] = numpy_helper.to_array(a["value"])
                self._constant(node.output[0], fixed[node.output[0]])
                continue
            static = [fixed.get(n) if n else None for n in node.input]
            self._steps.append((OPERATORS[node.op_type](a, static), list(node.input), node.output[0]))
        rgb_mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
        rgb_std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
        order = list(TEACHER_CHANNELS)
        t_mean = torch.tensor(TEACHER_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
        t_std = torch.tensor(TEACHER_STD, dtype=torch.float32).view(1, 3, 1, 1)
        # ours -> pixels in [0, 1] -> the teacher's channel order and scaling, as one affine map
        self.register_buffer("in_scale", (rgb_std[:, order] / t_std), persistent=False)
        self.register_buffer("in_shift", ((rgb_mean[:, order] - t_mean) / t_std), persistent=False)
        self.register_buffer("order", torch.tensor(order), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def _constant(self, name: str, value: np.ndarray) -> None:
        key = f"c{len(self._names)}"
        self._names[name] = key
        tensor = torch.from_numpy(np.array(value))
        self.register_buffer(key, tensor.float() if tensor.is_floating_point() else tensor, persistent=False)

    def run_graph(self, x: torch.Tensor) -> torch.Tensor:
        """The ONNX graph on an input already in the teacher's convention."""
        values: Dict[str, torch.Tensor] = {self.input_name: x}
        for fn, names, out in self._steps:
            args = [None if not n else (values[n] if n in values else getattr(self, self._names[n]))
                    for n in names]
            while args and args[-1] is None:
                args.pop()
            values[out] = fn(*args)
        return values[self.output_name]

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float()[:, self.order] * self.in_scale + self.in_shift
        # fp32 even inside a bf16 training step: PP-OCRv4's map under CPU bf16 autocast moved
        # by up to 0.66 (fp32: within 7e-6 of ONNX Runtime)
        with torch.autocast(images.device.type, enabled=False):
            prob = self.run_graph(x.contiguous())
        if prob.dim() != 4 or prob.shape[1] != 1:
            raise ValueError(f"{self.path}: the teacher's output is {tuple(prob.shape)}, not a (N, 1, H, W) map")
        if prob.shape[-2:] != images.shape[-2:]:
            prob = F.interpolate(prob, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return prob
