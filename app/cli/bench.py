"""`python -m app bench`: seconds per image, throughput, memory and cost on this machine."""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Tuple


def _ints(text: str) -> Tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(not 32 <= v <= 4096 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be between 32 and 4096, got {text!r}")
    return values


def _names(text: str) -> Tuple[str, ...]:
    return tuple(v.strip().lower() for v in text.split(",") if v.strip())


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="speed, memory and cost per backend / precision / size on this machine",
        description="Measures end-to-end seconds per image (mean, p90), images per second (single stream "
                    "and batched), peak RSS and GPU memory, and cost per 1000 images, and names the "
                    "hardware. Writes bench.json and bench.md. With --soak N, instead runs N detections "
                    "and reports memory over time (soak.json, soak.md).")
    p.add_argument("--images", help="folder of your images (default: render synthetic document pages)")
    p.add_argument("--max-images", type=int, default=8, help="use at most this many of --images (default 8)")
    p.add_argument("--synthetic", type=int, default=4, help="pages to render without --images (default 4)")
    p.add_argument("--sizes", type=_ints, default=(640, 800, 1024), help="long-side limits, e.g. 640,800,1024")
    p.add_argument("--backends", type=_names, default=("torch", "onnx"), help="torch,onnx (onnx needs the export)")
    p.add_argument("--onnx-precisions", type=_names, default=(),
                   help="fp32,fp16 (default: fp32 on CPU, fp32,fp16 on CUDA)")
    p.add_argument("--repeats", type=int, default=2, help="timed passes over the images (default 2)")
    p.add_argument("--warmup", type=int, default=2, help="untimed detections per configuration (default 2)")
    p.add_argument("--price-per-hour", type=float, help="machine price per hour, for the cost column")
    p.add_argument("--currency", default="CNY", help="currency of --price-per-hour (default CNY)")
    p.add_argument("--weights", help="safetensors weights (default: weights/db_resnet18.safetensors, "
                                     "else a random model, said loudly: speed does not depend on the values)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    p.add_argument("--soak", type=int, metavar="N", help="memory check: detect N images and report RSS over time")
    p.add_argument("--soak-interval", type=int, default=0, help="images between RSS samples (default N/20)")
    p.add_argument("--in-process", action="store_true",
                   help="measure every backend in this process (quicker; peak RSS then includes earlier rows)")
    p.add_argument("--output", "-o", default="outputs/bench", help="folder for the report files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.measure.bench_backends import BackendUnavailable
    from app.measure.bench_inputs import BenchConfig
    from app.measure.benchmark import run_bench
    from app.measure.soak import soak
    from models.weights import WeightsNotFoundError

    if args.weights and not Path(args.weights).is_file():
        print(f"ERROR: weights file not found: {args.weights}", file=sys.stderr)
        return 2
    cfg = BenchConfig(
        images=Path(args.images) if args.images else None, max_images=args.max_images,
        synthetic_images=args.synthetic, sizes=args.sizes, backends=args.backends,
        onnx_precisions=args.onnx_precisions, repeats=args.repeats, warmup=args.warmup, device=args.device,
        weights=Path(args.weights) if args.weights else None, price_per_hour=args.price_per_hour,
        currency=args.currency, isolate=not args.in_process)
    # The exact command goes into the report (when run from a shell rather than from Python).
    command = ("python -m app " + " ".join(shlex.quote(a) for a in sys.argv[1:])
               if "bench" in sys.argv[1:] else "python -m app bench")
    out_dir = Path(args.output)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            if args.soak is not None:
                report = soak(cfg, args.soak, args.soak_interval, Path(tmp))
            else:
                report = run_bench(cfg, Path(tmp), command=command)
    except (FileNotFoundError, ValueError, WeightsNotFoundError, BackendUnavailable) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    json_path, md_path = report.write(out_dir)
    print(f"written: {json_path}, {md_path}")
    return 0 if report.ok else 1
