"""How light must the network be to run as fast as PP-OCRv4 mobile's detector? (issue #12)

    .venv/bin/python -m bench.architecture_speed [--networks 256:2222,64:2222,64:1122] \\
        [--size 736x1280] [--peer PATH/ch_PP-OCRv4_det_infer.onnx] [--rounds 5]

Speed does not depend on the weight values, so no training is needed to answer it: for each
network, given as ``FPN width:blocks per backbone stage`` (``DBNetConfig.inner_channels``, whose
neck convolutions and head scale with it, and ``DBNetConfig.depths``: ``2222`` is ResNet-18,
``1122`` drops the second block of the two high-resolution stages), a random-weight DBNet is
exported and quantized to int8 exactly as the served model is (``models.export``: dynamic shape, static QDQ, logit layer in float), then run
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


def parse_network(spec: str) -> DBNetConfig:
    """``"64:1122"`` -> FPN 64 on a ResNet with 1, 1, 2 and 2 blocks per stage; suffixes: ``+w``
    (``"64:1112+w"``) adds the word map (``DBNetConfig.word_head``: its own neck and map), ``+wl``
    the word map on the line neck's features (``word_neck=False``), ``+asf`` DBNet++'s adaptive
    scale fusion (``DBNetConfig.asf``); they combine (``"64:1112+asf+wl"``)."""
    spec, *suffixes = spec.split("+")
    unknown = [s for s in suffixes if s not in ("w", "wl", "asf")]
    words = [s for s in suffixes if s in ("w", "wl")]
    if unknown or len(words) > 1:
        raise SystemExit(f"--networks: unknown or repeated suffix in +{'+'.join(suffixes)} (+w: word map, "
                         f"+wl: word map on the line neck, +asf: adaptive scale fusion)")
    try:
        inner, depths = spec.split(":") if ":" in spec else (spec, "2222")
        return DBNetConfig(inner_channels=int(inner), depths=tuple(int(d) for d in depths),
                           word_head=bool(words), word_neck=words == ["w"], asf="asf" in suffixes)
    except ValueError as exc:
        raise SystemExit(f"--networks: {spec!r} is not FPN_WIDTH:DEPTHS like 64:1122 ({exc})") from exc


def build_int8(config: DBNetConfig, folder: Path, height: int, width: int) -> tuple[Path, float, float]:
    """Export and quantize a random-weight DBNet of this shape; (model, params M, GMACs)."""
    torch.manual_seed(0)
    net = DBNet(config).eval()
    cfg = ExportConfig(height=height, width=width, dynamic=True, precision="int8", calibration_images=4)
    tag = config.name.replace("[", "_").replace("]", "_").replace(",", "")
    fp32 = folder / f"{tag}_fp32.onnx"
    _save(to_onnx(net, cfg), fp32)
    int8 = folder / f"{tag}_int8.onnx"
    quantize_int8(fp32, int8, calibration_tensors(cfg))
    params = sum(p.numel() for n, p in net.named_parameters() if not n.startswith("thresh_head")) / 1e6
    return int8, params, conv_macs(net, height, width)


def main(argv: Sequence[str] | None = None) -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default="256:2222,128:2222,64:2222,64:1122,64:1112,64:1111",
                    help="FPN_WIDTH:BLOCKS_PER_STAGE, comma-separated (256:2222 = the release); a +w suffix "
                         "adds the word map (64:1112+w), +wl the word map on the line neck, +asf DBNet++'s "
                         "adaptive scale fusion (64:1112+asf)")
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
        for config in (parse_network(v) for v in args.networks.split(",")):
            path, params, gmacs = build_int8(config, Path(tmp), height, width)
            name = f"{config.name} int8" + (" (release)" if config == DBNetConfig() else "")
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
