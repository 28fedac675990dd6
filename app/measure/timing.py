"""Timing one detector: end-to-end seconds per image (mean, p90) single-stream, images per
second through ``detect_many``, peak RSS and GPU memory, seconds per stage, and the cost
per 1000 images. Each (backend, precision) is measured in a fresh process by default."""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from models import DetectorConfig, TextDetector, load_image
from models.preprocess import pad_to_stride, target_size

from .bench_backends import export_for_bench, open_detector, uses_export
from .hardware import PeakMemory

STAGES = ("decode", "preprocess", "inference", "postprocess", "total")


@dataclass
class BenchRow:
    """One backend / precision / size configuration."""

    backend: str
    device: str
    precision: str
    size: int
    input_shape: str                    # most common network input, HxW
    timed_images: int
    mean_s: float                       # end to end, file -> boxes, single stream
    p90_s: float
    single_ips: float                   # images per second, one at a time
    batched_ips: float                  # images per second through detect_many
    batch: int                          # images per forward in detect_many
    peak_rss_mb: float
    peak_gpu_mb: float | None
    stages_ms: Dict[str, float]         # mean per stage (decode ... total)
    boxes_per_image: float
    cost_per_1000: float | None = None  # at the configured price, from batched_ips

    @property
    def images_per_hour(self) -> float:
        return self.batched_ips * 3600.0


def input_shape(paths: Sequence[Path], size: int) -> str:
    """The most common padded network input (HxW) for these images at this size limit."""
    cfg = DetectorConfig(limit_side=size)
    shapes = Counter()
    for p in paths:
        h, w = load_image(p).shape[:2]
        rh, rw = target_size(h, w, cfg)
        shapes[f"{pad_to_stride(rh)}x{pad_to_stride(rw)}"] += 1
    return shapes.most_common(1)[0][0]


def measure(detector: TextDetector, paths: Sequence[Path], size: int, repeats: int = 2,
            warmup: int = 2) -> BenchRow:
    """Time ``detector`` on ``paths`` with ``limit_side=size``: single stream, then batched."""
    backend = detector.backend
    cuda = backend.device.startswith("cuda")
    files = [str(p) for p in paths]
    with PeakMemory(cuda=cuda, device_wide=backend.name != "torch") as mem:
        for i in range(warmup):
            detector.detect(files[i % len(files)], limit_side=size)
        totals: List[float] = []
        stages: Dict[str, List[float]] = defaultdict(list)
        boxes: List[int] = []
        for _ in range(max(1, repeats)):
            for f in files:
                t0 = time.perf_counter()
                result = detector.detect(f, limit_side=size)   # returns numpy: GPU work is finished
                totals.append(time.perf_counter() - t0)
                for k, v in result.timings.items():
                    stages[k].append(v)
                boxes.append(len(result.boxes))
        t0 = time.perf_counter()
        done = sum(1 for _ in detector.detect_many(files * max(1, repeats), limit_side=size))
        batched_ips = done / (time.perf_counter() - t0)
    mean_s = float(np.mean(totals))
    return BenchRow(
        backend=backend.name, device=backend.device, precision="", size=size,
        input_shape=input_shape(paths, size), timed_images=len(totals), mean_s=mean_s,
        p90_s=float(np.percentile(totals, 90)), single_ips=1.0 / mean_s, batched_ips=batched_ips,
        batch=backend.max_batch, peak_rss_mb=mem.peak_rss_mb, peak_gpu_mb=mem.peak_gpu_mb,
        stages_ms={k: 1000.0 * float(np.mean(stages[k])) for k in STAGES if stages.get(k)},
        boxes_per_image=float(np.mean(boxes)))


@dataclass(frozen=True)
class _Job:
    backend: str
    precision: str
    weights: Path
    device: str
    model: Path | None
    paths: List[Path]
    sizes: List[int]
    repeats: int
    warmup: int


def measure_backend(backend: str, precision: str, weights: Path, device: str, workdir: Path,
                    paths: Sequence[Path], sizes: Sequence[int], repeats: int, warmup: int,
                    isolate: bool = True) -> List[BenchRow]:
    """Rows for every size of one (backend, precision).

    With ``isolate`` the measuring runs in a fresh (spawned) process, so that each row's
    peak RSS is what a server running that backend needs, not what earlier rows and the
    ONNX export left behind in this process. The export itself runs here, before.

    Raises:
        BackendUnavailable: the backend cannot run here (the message says why).
    """
    model = export_for_bench(weights, precision, max(sizes), workdir) if uses_export(backend) else None
    job = _Job(backend, precision, weights, device, model, list(paths), list(sizes), repeats, warmup)
    if not isolate:
        return _measure_job(job)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measure_job, job).result()


def _measure_job(job: _Job) -> List[BenchRow]:
    detector = open_detector(job.backend, job.weights, job.device, job.model)
    rows = []
    for size in job.sizes:
        row = measure(detector, job.paths, size, job.repeats, job.warmup)
        row.precision = job.precision
        rows.append(row)
    return rows


def cost_per_1000(images_per_second: float, price_per_hour: float | None) -> float | None:
    """What 1000 images cost on a machine rented at ``price_per_hour``, kept busy."""
    if price_per_hour is None or images_per_second <= 0:
        return None
    return price_per_hour / (images_per_second * 3600.0) * 1000.0
