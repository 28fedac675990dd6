"""How light must the network be to run as fast as PP-OCRv4 mobile's detector? (issue #12)

    .venv/bin/python -m bench.architecture_speed [--inner 256,128,96,64] [--size 736x1280] \\
        [--peer PATH/ch_PP-OCRv4_det_infer.onnx] [--rounds 5]

Speed does not depend on the weight values, so no training is needed to answer it: for each
FPN width (``DBNetConfig.inner_channels``; the neck's 3x3 convolutions and the head scale with
it, the ResNet-18 stays) a random-weight DBNet is exported and quantized to int8 exactly as the
served model is (``models.export``: dynamic shape, static QDQ, logit layer in float), then run
by ONNX Runtime on one prepared input of ``--size``. The PP-OCRv4 mobile detector's own ONNX
file (from the rapidocr-onnxruntime wheel, float32 as it ships) runs the same input when
``--peer`` is given. Configurations are timed in interleaved rounds (this box is shared, so
neighbours slow all of them alike), with the same threads (one per physical core); the table
prints each one's median forward time and its ratio to the peer. Multiply-accumulates are
counted from the convolution shapes of the exported graph's PyTorch modules.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from app.measure.hardware import describe, hardware_info
from app.measure.tables import markdown_table
from models.backends.device import cpu_threads
from models.dbnet import DBNet, DBNetConfig
from models.export.config import ExportConfig
from models.export.exporter import _save, calibration_tensors, to_onnx
from models.export.quantize import quantize_int8


def conv_macs(net: torch.nn.Module, height: int, width: int) -> float:
    """Multiply-accumulates (G) of the inference path (probability map) at one input size."""
    total = 0.0

    def hook(mod, _inp, out):
        nonlocal total
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total += out.numel() * k
        elif isinstance(mod, torch.nn.ConvTranspose2d):
            total += _inp[0].numel() * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1] // mod.groups

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    with torch.inference_mode():
        net(torch.zeros(1, 3, height, width))
    for h in handles:
        h.remove()
    return total / 1e9


def build_int8(inner: int, folder: Path, height: int, width: int) -> tuple[Path, float, float]:
    """Export and quantize a random-weight DBNet of this FPN width; (model, params M, GMACs)."""
    torch.manual_seed(0)
    net = DBNet(DBNetConfig(inner_channels=inner)).eval()
    cfg = ExportConfig(height=height, width=width, dynamic=True, precision="int8", calibration_images=4)
    fp32 = folder / f"inner{inner}_fp32.onnx"
    _save(to_onnx(net, cfg), fp32)
    int8 = folder / f"inner{inner}_int8.onnx"
    quantize_int8(fp32, int8, calibration_tensors(cfg))
    params = sum(p.numel() for n, p in net.named_parameters() if not n.startswith("thresh_head")) / 1e6
    return int8, params, conv_macs(net, height, width)


def main(argv: Sequence[str] | None = None) -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inner", default="256,128,96,64", help="FPN widths to measure (256 = the release)")
    ap.add_argument("--size", default="736x1280", help="input HxW (multiples of 32)")
    ap.add_argument("--peer", type=Path, default=None, help="PP-OCRv4 mobile det ONNX file")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3, help="forwards per configuration per round")
    args = ap.parse_args(argv)
    height, width = (int(v) for v in args.size.lower().split("x"))
    threads = cpu_threads()
    print(describe(hardware_info()), f"| ONNX Runtime {ort.__version__}, {threads} threads, input {height}x{width}",
          flush=True)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    x = np.random.default_rng(0).standard_normal((1, 3, height, width)).astype(np.float32)
    sessions: Dict[str, ort.InferenceSession] = {}
    info: Dict[str, Tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="arch-speed-") as tmp:
        for inner in (int(v) for v in args.inner.split(",")):
            path, params, gmacs = build_int8(inner, Path(tmp), height, width)
            name = f"DBNet-R18 int8, FPN {inner}" + (" (release)" if inner == 256 else "")
            sessions[name] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            info[name] = (f"{params:.1f}", f"{gmacs:.1f}")
            print(f"built {name}: {params:.1f} M parameters, {gmacs:.1f} GMACs", flush=True)
        if args.peer:
            sessions["PP-OCRv4 mobile det (fp32, as shipped)"] = ort.InferenceSession(
                str(args.peer), opts, providers=["CPUExecutionProvider"])
            info["PP-OCRv4 mobile det (fp32, as shipped)"] = ("-", "-")
        times: Dict[str, List[float]] = {k: [] for k in sessions}
        for s in sessions.values():                      # warm-up: allocations, kernel choice
            s.run(None, {s.get_inputs()[0].name: x})
        for r in range(args.rounds):
            for name, s in sessions.items():
                feed = {s.get_inputs()[0].name: x}
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    s.run(None, feed)
                    times[name].append(time.perf_counter() - t0)
            print(f"round {r + 1}/{args.rounds} done", flush=True)
    peer = next((k for k in times if k.startswith("PP-OCRv4")), None)
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = f"{statistics.median(times[peer]) / med:.2f}x" if peer else "-"
        rows.append([name, *info[name], f"{med:.3f}", f"{float(np.percentile(ts, 90)):.3f}", ratio])
    print("\n" + markdown_table(("network", "params M", "GMACs", "median s", "p90 s", "vs peer"), rows))


if __name__ == "__main__":
    main()
