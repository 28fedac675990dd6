"""`python -m app bench`: seconds per image, throughput, memory and cost on this machine."""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from .options import add_options, add_output_option, config_from_args, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    from app.measure.bench_inputs import BenchConfig

    p = sub.add_parser(
        "bench", help="speed, memory and cost per backend / precision / size on this machine",
        description="Measures end-to-end seconds per image (mean, p90), images per second (single stream "
                    "and batched), peak RSS and GPU memory, and cost per 1000 images, and names the "
                    "hardware. Writes bench.json and bench.md. With --soak N, instead runs N detections "
                    "and reports memory over time (soak.json, soak.md).")
    add_options(p, BenchConfig)
    p.add_argument("--soak", type=int, metavar="N", help="memory check: detect N images and report RSS over time")
    p.add_argument("--soak-interval", type=int, default=0, help="images between RSS samples (default N/20)")
    p.add_argument("--in-process", action="store_true",
                   help="measure every backend in this process (quicker; peak RSS then includes earlier rows)")
    add_output_option(p, "outputs/bench", "the report files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.measure.bench_backends import BackendUnavailable
    from app.measure.bench_inputs import BenchConfig
    from app.measure.benchmark import run_bench
    from app.measure.soak import soak
    from models.weights import WeightsNotFoundError

    if args.weights and not Path(args.weights).is_file():
        return fail(f"weights file not found: {args.weights}")
    try:
        cfg = config_from_args(BenchConfig, args, BenchConfig(isolate=not args.in_process))
    except ValueError as exc:
        return fail(exc)
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
        return fail(exc)
    print(report.text())
    json_path, md_path = report.write(out_dir)
    print(f"written: {json_path}, {md_path}")
    return 0 if report.ok else 1
