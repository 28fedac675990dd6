"""Speed, memory and cost of the detector on the user's own machine (`python -m app bench`).

The seed article sells cost with tables of seconds per image and memory per card; this
module measures the same quantities here, per backend, precision and input size limit:
end-to-end seconds per image (decode from file to boxes; mean and p90), images per
second single-stream and pipelined/batched (``detect_many``), peak RSS and GPU memory,
and cost per 1000 images at the user's price per hour. ``bench/latency.py`` reuses
:func:`measure` for its per-stage table.
"""
from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from app.io.outputs import collect_images
from models import DetectorConfig, ImageDecodeError, TextDetector, load_image
from models.preprocess import pad_to_stride, target_size
from models.weights import DEFAULT_WEIGHTS

from .hardware import PeakMemory, describe, hardware_info
from .tables import markdown_table, text_table, write_report_files

STAGES = ("decode", "preprocess", "inference", "postprocess", "total")
LogFn = Callable[[str], None]


class BackendUnavailable(RuntimeError):
    """A backend that cannot run here; the message says why and what to do."""


@dataclass(frozen=True)
class BenchConfig:
    """What to measure. Sizes are the detector's ``limit_side`` (long side cap, pixels)."""

    images: Path | None = None          # the user's images; None = rendered document pages
    max_images: int = 8                 # at most this many of them (sorted by name)
    synthetic_images: int = 4           # pages rendered when ``images`` is None
    sizes: Tuple[int, ...] = (640, 800, 1024)
    backends: Tuple[str, ...] = ("torch", "onnx")
    onnx_precisions: Tuple[str, ...] = ()   # () = fp32 on CPU; fp32 and fp16 on CUDA
    repeats: int = 2                    # passes over the images per measurement
    warmup: int = 2                     # untimed detections before each configuration
    device: str = "auto"
    weights: Path | None = None         # None = weights/db_resnet18.safetensors, else random
    price_per_hour: float | None = None
    currency: str = "CNY"
    isolate: bool = True                # measure each backend in a fresh process (clean peak RSS)


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


@dataclass
class WeightsChoice:
    path: Path
    random: bool
    note: str


# ---------------------------------------------------------------------------- inputs
def synthetic_pages(out_dir: Path, count: int, seed: int = 0) -> List[Path]:
    """Document, invoice and receipt pages (long side 1600 px) as JPEG files.

    Files, not arrays, so that decoding is part of the measured end-to-end time.
    """
    from models.synth.render import render_sample
    from models.synth.types import SynthConfig

    cfg = SynthConfig(seed=seed, mix=(("document", 1.0), ("invoice", 1.0), ("receipt", 1.0)),
                      long_side=(1600, 1600), photo_prob=0.0)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        try:
            sample = render_sample(i, cfg)
        except RuntimeError as exc:   # the renderer needs system fonts (CJK included)
            raise FileNotFoundError(f"cannot render benchmark pages: {exc}; or pass --images DIR") from exc
        path = out_dir / f"synthetic_{i:02d}_{sample.category}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def bench_images(cfg: BenchConfig, workdir: Path, say: LogFn) -> Tuple[List[Path], str]:
    """The images to measure on and a line describing them; unreadable files are left out."""
    if cfg.images is None:
        paths = synthetic_pages(workdir / "pages", cfg.synthetic_images)
        return paths, f"{len(paths)} synthetic document/invoice/receipt pages, long side 1600 px (JPEG)"
    found = collect_images(cfg.images)[: cfg.max_images]
    paths, sizes = [], []
    for p in found:
        try:
            img = load_image(p)
        except ImageDecodeError as exc:
            say(f"skipped: {exc}")
            continue
        paths.append(p)
        sizes.append(img.shape[:2])
    if not paths:
        raise FileNotFoundError(f"{cfg.images}: no readable images")
    mp = np.mean([h * w for h, w in sizes]) / 1e6
    return paths, f"{len(paths)} image(s) from {cfg.images} (mean {mp:.2f} megapixels)"


def resolve_weights(requested: Path | None, workdir: Path) -> WeightsChoice:
    """The weights to time: the requested file, the released ones, or a random model.

    Speed and memory do not depend on the weight values, so a benchmark may run before
    any model is trained; the report then says so loudly (box counts mean nothing).
    """
    if requested is not None:
        return WeightsChoice(requested, False, f"weights: {requested}")
    if DEFAULT_WEIGHTS.is_file():
        return WeightsChoice(DEFAULT_WEIGHTS, False, f"weights: {DEFAULT_WEIGHTS.name}")
    import torch

    from models.dbnet import DBNet
    from models.weights import save_weights

    torch.manual_seed(0)
    path = save_weights(DBNet(), workdir / "random_dbnet_r18.safetensors", meta={"note": "random, for benchmarks"})
    return WeightsChoice(path, True, f"weights: RANDOM (no trained weights at {DEFAULT_WEIGHTS}); speed and memory "
                                     "are representative, box counts and post-processing time are not")


# ---------------------------------------------------------------------------- backends
def plan(backends: Sequence[str], onnx_precisions: Sequence[str], device: str) -> List[Tuple[str, str]]:
    """(backend, precision) pairs to measure on ``device``.

    The torch backend runs fp16 on CUDA and fp32 on CPU (chosen by the backend itself);
    ONNX precisions are those asked for, else fp32 (plus fp16 on CUDA).
    """
    cuda = device.startswith("cuda")
    out: List[Tuple[str, str]] = []
    for b in backends:
        if b == "torch":
            out.append(("torch", "fp16" if cuda else "fp32"))
        elif b == "onnx":
            precisions = tuple(onnx_precisions) or (("fp32", "fp16") if cuda else ("fp32",))
            out += [("onnx", p) for p in precisions]
        else:
            raise ValueError(f"unknown backend {b!r}; use torch or onnx")
    return out


def export_for_bench(weights: Path, precision: str, size: int, workdir: Path) -> Path:
    """An ONNX model (dynamic input size) exported from ``weights`` into ``workdir``.

    Raises:
        BackendUnavailable: the export module or the ONNX backend is missing, or the export failed.
    """
    import importlib.util

    if importlib.util.find_spec("models.export") is None or importlib.util.find_spec("models.onnx_backend") is None:
        raise BackendUnavailable("ONNX export (models/export.py) or the ONNX backend (models/onnx_backend.py) "
                                 "is not in this checkout yet")
    from models.export.config import ExportConfig
    from models.export.exporter import export_onnx

    out = workdir / f"dbnet_r18_{precision}.onnx"
    # The export traces and verifies at one square size (a multiple of 32, 320-1536);
    # the dynamic model then takes every size the bench asks for.
    trace = min(1536, max(320, (size + 31) // 32 * 32))
    if not out.is_file():
        try:
            export_onnx(ExportConfig(height=trace, width=trace, dynamic=True, precision=precision,
                                     output=out, weights=weights))
        except Exception as exc:   # an export failure must not lose the torch rows
            raise BackendUnavailable(f"ONNX export ({precision}) failed: {exc}") from exc
    return out


def open_detector(backend: str, weights: Path, device: str, model: Path | None = None) -> TextDetector:
    """A detector for ``backend``: torch from ``weights``, onnx from the exported ``model``."""
    if backend == "torch":
        return TextDetector(DetectorConfig(), weights=weights, device=device)
    try:
        return TextDetector(DetectorConfig(), device=device, backend="onnx", model=model)
    except (ImportError, RuntimeError, ValueError) as exc:
        raise BackendUnavailable(f"ONNX Runtime could not load the exported model: {exc}") from exc


def build_detector(backend: str, precision: str, weights: Path, device: str, workdir: Path,
                   size: int) -> TextDetector:
    """Export if needed and open a detector for one (backend, precision) in this process."""
    model = export_for_bench(weights, precision, size, workdir) if backend == "onnx" else None
    return open_detector(backend, weights, device, model)


# ---------------------------------------------------------------------------- measuring
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
    model = export_for_bench(weights, precision, max(sizes), workdir) if backend == "onnx" else None
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


# ---------------------------------------------------------------------------- report
@dataclass
class BenchReport:
    config: BenchConfig
    hardware: Dict[str, Any]
    weights: WeightsChoice
    images_note: str
    rows: List[BenchRow] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    command: str = ""
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    def headers(self) -> Tuple[str, ...]:
        cost = f"cost/1000 img ({self.config.currency})"
        return ("backend", "device", "precision", "size", "input", "mean s/img", "p90 s/img",
                "img/s single", "img/s batched", "batch", "peak RSS MB", "peak GPU MB", "img/hour", cost)

    def table_rows(self) -> List[List[Any]]:
        return [[r.backend, r.device, r.precision, r.size, r.input_shape, r.mean_s, r.p90_s,
                 r.single_ips, r.batched_ips, r.batch, round(r.peak_rss_mb),
                 None if r.peak_gpu_mb is None else round(r.peak_gpu_mb), round(r.images_per_hour),
                 None if r.cost_per_1000 is None else round(r.cost_per_1000, 4)] for r in self.rows]

    def _price_line(self) -> str:
        if self.config.price_per_hour is None:
            return "price: not given (add --price-per-hour P --currency C for the cost column)"
        return (f"price: {self.config.price_per_hour:g} {self.config.currency}/hour; cost per 1000 images "
                f"assumes the machine is kept busy at the batched rate")

    def text(self) -> str:
        lines = [f"hardware: {describe(self.hardware)}", f"images: {self.images_note}",
                 self.weights.note, self._price_line(), "", text_table(self.headers(), self.table_rows())]
        return "\n".join(lines + [f"skipped: {s}" for s in self.skipped])

    def markdown(self) -> str:
        hw = self.hardware
        lines = ["# Detector benchmark", "",
                 f"- Hardware: {describe(hw)}",
                 f"- Software: torch {hw['torch']}, onnxruntime {hw['onnxruntime']}, Python {hw['python']}, {hw['os']}",
                 f"- Load average at start (1/5/15 min): {hw['load_average']}",
                 f"- Images: {self.images_note}", f"- {self.weights.note[0].upper()}{self.weights.note[1:]}",
                 f"- {self._price_line()[0].upper()}{self._price_line()[1:]}"]
        if self.command:
            lines.append(f"- Command: `{self.command}`")
        lines += [f"- Date: {self.created}", "",
                 "Size = long-side limit in pixels; input = padded network input; end to end = file to boxes "
                 "(decode, resize, forward, post-processing); batched = `detect_many` (pipelined decode/"
                 "post-processing, batches of `batch` on GPU); peak RSS = the whole process measuring "
                 "that backend (a fresh one per backend), model and runtime included.", "",
                 markdown_table(self.headers(), self.table_rows())]
        if self.skipped:
            lines += [""] + [f"- Skipped: {s}" for s in self.skipped]
        return "\n".join(lines) + "\n"

    def to_json(self) -> Dict[str, Any]:
        cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.config).items()}
        return {"created": self.created, "command": self.command, "config": cfg, "hardware": self.hardware,
                "weights": {"path": str(self.weights.path), "random": self.weights.random, "note": self.weights.note},
                "images": self.images_note, "skipped": self.skipped,
                "rows": [dict(asdict(r), images_per_hour=r.images_per_hour) for r in self.rows]}

    @property
    def ok(self) -> bool:
        """At least one configuration was measured."""
        return bool(self.rows)

    def write(self, out_dir: Path, name: str = "bench") -> Tuple[Path, Path]:
        return write_report_files(out_dir, name, self.to_json(), self.markdown())


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_bench(cfg: BenchConfig, workdir: Path, command: str = "", say: LogFn = _stderr) -> BenchReport:
    """Measure every (backend, precision, size) of ``cfg``; unavailable backends are skipped with a reason."""
    from models.backends.device import pick_device

    device = pick_device(cfg.device)
    paths, images_note = bench_images(cfg, workdir, say)
    weights = resolve_weights(cfg.weights, workdir)
    if weights.random:
        say(f"NOTE: {weights.note}")
    report = BenchReport(cfg, hardware_info(), weights, images_note, command=command)
    for backend, precision in plan(cfg.backends, cfg.onnx_precisions, device):
        try:
            rows = measure_backend(backend, precision, weights.path, device, workdir, paths, cfg.sizes,
                                   cfg.repeats, cfg.warmup, cfg.isolate)
        except BackendUnavailable as exc:
            report.skipped.append(f"{backend} {precision}: {exc}")
            say(f"skipped {backend} {precision}: {exc}")
            continue
        for row in rows:
            row.cost_per_1000 = cost_per_1000(row.batched_ips, cfg.price_per_hour)
            say(f"{backend} {precision} {row.size}: {row.mean_s:.3f} s/img, {row.batched_ips:.2f} img/s batched, "
                f"peak RSS {row.peak_rss_mb:.0f} MB")
        report.rows += rows
    return report
