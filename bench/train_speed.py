"""Training throughput: images/s for fp32 vs bf16 (CPU) or AMP (CUDA) at several crop sizes,
and the synthetic renderer's images/s. Prints a Markdown table; not run by CI.

    .venv/bin/python -m bench.train_speed [--sizes 384,512,640] [--batch 4] [--steps 3]
"""
from __future__ import annotations

import argparse
import time

import torch

from models.cpu_features import cpu_features
from models.dbnet import DBNet, DBNetConfig
from models.loss import DBLoss
from models.synth.render import render_sample
from models.synth.types import SynthConfig


def step_time(size: int, batch: int, steps: int, device: str, dtype: torch.dtype | None,
              config: DBNetConfig | None = None) -> float:
    torch.manual_seed(0)
    model = DBNet(config).to(device).train().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = DBLoss()
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)
    maps = {k: torch.rand(batch, size, size, device=device).round() for k in ("shrink_map", "shrink_mask", "thresh_mask")}
    maps["thresh_map"] = torch.rand(batch, size, size, device=device) * 0.4 + 0.3
    dev = "cuda" if device.startswith("cuda") else "cpu"
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        with torch.autocast(dev, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(x)
        loss = loss_fn(out, maps)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if dev == "cuda":
            torch.cuda.synchronize()
        if i:   # first step is warm-up
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] / batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="384,512,640")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--render", type=int, default=40, help="images to render for the renderer row")
    ap.add_argument("--depths", default="2,2,2,2", help="blocks per ResNet stage (the shipped light network: 1,1,1,2)")
    ap.add_argument("--fpn-channels", type=int, default=256, help="FPN width (the light network: 64)")
    args = ap.parse_args()
    config = DBNetConfig(depths=tuple(int(d) for d in args.depths.split(",")), inner_channels=args.fpn_channels)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    modes = [("fp32", None), ("bf16 autocast", torch.bfloat16)] if device == "cpu" else \
        [("fp32", None), ("fp16 AMP", torch.float16), ("bf16 AMP", torch.bfloat16)]
    print(f"device: {device} ({torch.cuda.get_device_name(0) if device == 'cuda' else f'{torch.get_num_threads()} threads'}), "
          f"batch {args.batch}, median of {args.steps} steps; depths {args.depths}, FPN {args.fpn_channels}; "
          f"CPU: {cpu_features().describe()}\n")
    print("| crop | " + " | ".join(f"{m} s/img | {m} img/s" for m, _ in modes) + " |")
    print("|---|" + "---|---|" * len(modes))
    for size in (int(s) for s in args.sizes.split(",")):
        cells = []
        for _, dtype in modes:
            t = step_time(size, args.batch, args.steps, device, dtype, config)
            cells += [f"{t:.3f}", f"{1 / t:.2f}"]
        print(f"| {size} | " + " | ".join(cells) + " |", flush=True)
    if args.render <= 0:
        return
    t0 = time.perf_counter()
    cfg = SynthConfig(seed=123, long_side=(640, 640))
    for i in range(args.render):
        render_sample(i, cfg)
    dt = time.perf_counter() - t0
    print(f"\nrenderer: {args.render / dt:.1f} images/s on one core at 640 px long side ({args.render} images)")


if __name__ == "__main__":
    main()
