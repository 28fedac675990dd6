"""CPU speed and memory of PyTorch eager vs ONNX Runtime fp32 / int8 (fp16 on CUDA).

    nice -n 10 .venv/bin/python -m bench.onnx_speed [--sizes 640,800,1024] [--weights FILE]

For each input size, fixed-shape models are exported (and verified) with
``models.export``; every (backend, precision, size) is then measured in its own fresh
Python process so that peak RSS belongs to that configuration alone. Per configuration:
``forward ms`` (the backend on a prepared S x S tensor) and ``end-to-end ms``
(``TextDetector.detect`` on an S x S rendered page: preprocess + forward + DB
post-process), medians of ``--runs`` runs after ``--warmup`` runs. Both backends use the
same threads: one per physical core (``models.backends.device.cpu_threads``) unless ``--threads``;
on a machine shared with other jobs use ``--threads 1``, since thread pools that wait for
preempted siblings measure the neighbours rather than the model. Without ``--weights`` a
random-weight DBNet-R18 is used: speed and memory do not depend on the weight values.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Job:
    """One measured configuration (runs in a worker process)."""

    backend: str            # torch | onnx
    precision: str          # fp32 | fp16 | int8
    size: int
    weights: str
    model: str | None       # .onnx for the onnx backend
    device: str
    threads: int
    runs: int
    warmup: int


def _times_ms(fn, runs: int, warmup: int) -> List[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(1000.0 * (time.perf_counter() - t0))
    return sorted(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: Linux carries the
    forking parent's peak into a child's ``ru_maxrss``, which would blur configurations."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(job: Job) -> Dict[str, float]:
    """Measure one configuration in this (fresh) process."""
    import cv2
    import torch

    torch.set_num_threads(job.threads)
    from models import DetectorConfig, TextDetector
    from models.export.samples import render_page
    from models.preprocess import prepare

    cfg = DetectorConfig(limit_side=job.size)
    if job.backend == "torch":
        det = TextDetector(cfg, weights=job.weights, device=job.device)
    else:
        import models.backends.onnx as onnx_backend

        # The backend takes cpu_threads() intra-op threads; this fresh process asks for --threads.
        onnx_backend.cpu_threads = lambda: job.threads
        det = TextDetector(cfg, device=job.device, backend="onnx", model=job.model)
    page = cv2.resize(render_page(0, seed=3, size=(job.size, job.size)).image, (job.size, job.size),
                      interpolation=cv2.INTER_AREA)
    x, _ = prepare(page, cfg, det.backend.fixed_shape)
    assert x.shape == (3, job.size, job.size), x.shape
    batch = x[None]
    forward = _times_ms(lambda: det.backend.run(batch), job.runs, job.warmup)
    end_to_end = _times_ms(lambda: det.detect(page), job.runs, 1)
    return {"forward_ms": forward[len(forward) // 2], "forward_best_ms": forward[0],
            "e2e_ms": end_to_end[len(end_to_end) // 2], "e2e_best_ms": end_to_end[0],
            "peak_rss_mb": peak_rss_mb()}


def run_job(job: Job) -> Dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS=str(job.threads))
    proc = subprocess.run([sys.executable, "-m", "bench.onnx_speed", "--worker", json.dumps(job.__dict__)],
                          capture_output=True, text=True, env=env, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed for {job}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_models(weights: Path, size: int, precisions: List[str], workdir: Path) -> Dict[str, Path]:
    from models.export.config import ExportConfig
    from models.export.exporter import export_onnx

    out = {}
    for p in precisions:
        path = workdir / f"model_{size}x{size}_{p}.onnx"
        if not path.is_file():
            report = export_onnx(ExportConfig(height=size, width=size, precision=p, output=path,
                                              weights=weights, verify_images=3, calibration_images=8))
            print(report.summary(), file=sys.stderr)
        out[p] = path
    return out


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="640,800,1024", help="input sizes (square), comma-separated")
    ap.add_argument("--weights", help="safetensors weights (default: a random-weight DBNet-R18)")
    ap.add_argument("--precisions", help="ONNX precisions (default: fp32,int8 on CPU; fp32,fp16,int8 on CUDA)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--threads", type=int,
                    help="threads for both backends (default: physical cores; use 1 on a busy shared machine)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--workdir", help="where exported models are kept (default: a temporary folder)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(Job(**json.loads(args.worker)))))
        return 0

    from models.backends.device import cpu_threads, pick_device

    device = pick_device(args.device)
    threads = args.threads or cpu_threads()
    precisions = (args.precisions.split(",") if args.precisions
                  else (["fp32", "fp16", "int8"] if device.startswith("cuda") else ["fp32", "int8"]))
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="onnx-speed-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        weights = Path(args.weights) if args.weights else _random_weights(workdir)
        rows = []
        for size in sizes:
            models = export_models(weights, size, precisions, workdir)
            jobs = [Job("torch", "fp32", size, str(weights), None, device, threads, args.runs, args.warmup)]
            jobs += [Job("onnx", p, size, str(weights), str(models[p]), device, threads, args.runs, args.warmup)
                     for p in precisions]
            for job in jobs:
                r = run_job(job)
                rows.append((job, r))
                print(f"{job.backend:5} {job.precision:4} {size:5}: forward {r['forward_ms']:8.1f} ms  "
                      f"end-to-end {r['e2e_ms']:8.1f} ms  peak RSS {r['peak_rss_mb']:7.0f} MB", file=sys.stderr)
    print(table(rows, device, threads, weights if args.weights else None))
    return 0


def _random_weights(workdir: Path) -> Path:
    import torch

    from models.dbnet import DBNet
    from models.weights import save_weights

    torch.manual_seed(0)
    return save_weights(DBNet(), workdir / "random_dbnet_r18.safetensors")


def table(rows, device: str, threads: int, weights: Path | None) -> str:
    """Markdown table; speed-up is relative to ONNX Runtime fp32 at the same size."""
    import onnxruntime
    import torch

    base = {job.size: r["e2e_ms"] for job, r in rows if job.backend == "onnx" and job.precision == "fp32"}
    lines = ["| backend | precision | input | forward ms (median / best) | end-to-end ms (median / best) "
             "| end-to-end vs ORT fp32 | peak RSS MB |",
             "|---|---|---|---:|---:|---:|---:|"]
    for job, r in rows:
        name = "PyTorch eager" if job.backend == "torch" else "ONNX Runtime"
        speed = base.get(job.size)
        rel = f"{speed / r['e2e_ms']:.2f}x" if speed else "-"
        lines.append(f"| {name} | {job.precision} | {job.size}x{job.size} | {r['forward_ms']:.0f} / "
                     f"{r['forward_best_ms']:.0f} | {r['e2e_ms']:.0f} / {r['e2e_best_ms']:.0f} | {rel} | "
                     f"{r['peak_rss_mb']:.0f} |")
    cpu = platform.processor() or platform.machine()
    lines.append("")
    lines.append(f"{device.upper()}, {threads} threads ({cpu}, {os.cpu_count()} logical CPUs), torch "
                 f"{torch.__version__}, onnxruntime {onnxruntime.__version__}; weights: "
                 f"{weights.name if weights else 'random DBNet-R18 (speed does not depend on values)'}; "
                 f"median of the runs after warm-up; each row measured in a fresh process.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
