"""Long-running memory check (`python -m app bench --soak N`): does RSS grow per image?

The seed claims "72 hours without a memory leak"; this lets a user check that on their
own box. It detects N images one at a time (as a server does), samples RSS (and CUDA
memory) at intervals, ignores the warm-up (allocator pools, lazy initialisation) and
reports the growth after it, plus a least-squares slope in MB per 1000 images.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

from models import TextDetector
from models.backends.device import pick_device

from .bench_backends import build_detector, plan
from .bench_inputs import BenchConfig, bench_images, resolve_weights
from .hardware import MB, describe, hardware_info, rss_mb
from .tables import markdown_table, text_table, write_report_files


@dataclass(frozen=True)
class SoakConfig:
    images: int                       # detections to run
    size: int = 960                   # limit_side for every detection
    interval: int = 0                 # images between samples; 0 = about 20, whole passes
    warmup_fraction: float = 0.1      # leading share of the run not judged
    tolerance_mb: float = 20.0        # growth below max(this, 5 % of RSS) is "stable"


@dataclass
class MemoryReading:
    """RSS (and CUDA memory) after ``images`` detections."""

    images: int
    seconds: float
    rss_mb: float
    gpu_mb: float | None = None


@dataclass
class SoakReport:
    config: SoakConfig
    hardware: Dict[str, Any]
    model: str
    images_note: str
    samples: List[MemoryReading]
    warmup_images: int
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    def _judged(self) -> List[MemoryReading]:
        return [s for s in self.samples if s.images >= self.warmup_images]

    @property
    def growth_mb(self) -> float:
        """Median RSS of the last third of the judged samples minus that of the first third
        (medians, because RSS right after a large image sits above the level after a small one)."""
        judged = [s.rss_mb for s in self._judged()]
        if len(judged) < 2:
            return 0.0
        third = max(1, len(judged) // 3)
        return float(np.median(judged[-third:]) - np.median(judged[:third]))

    @property
    def slope_mb_per_1000(self) -> float | None:
        judged = self._judged()
        if len(judged) < 3:
            return None
        x = np.array([s.images for s in judged], dtype=np.float64)
        y = np.array([s.rss_mb for s in judged], dtype=np.float64)
        return float(np.polyfit(x, y, 1)[0] * 1000.0)

    @property
    def stable(self) -> bool:
        judged = self._judged()
        base = judged[0].rss_mb if judged else 0.0
        return self.growth_mb <= max(self.config.tolerance_mb, 0.05 * base)

    def verdict(self) -> str:
        slope = self.slope_mb_per_1000
        slope_text = f", trend {slope:+.1f} MB per 1000 images" if slope is not None else ""
        judged = self._judged()
        span = f"images {judged[0].images}-{judged[-1].images}" if judged else "no samples"
        if self.stable:
            return f"stable: RSS changed by {self.growth_mb:+.1f} MB after warm-up ({span}{slope_text})"
        return f"GROWING: RSS rose {self.growth_mb:+.1f} MB after warm-up ({span}{slope_text}); possible leak"

    def _rows(self) -> List[List[Any]]:
        return [[s.images, round(s.seconds, 1), round(s.rss_mb, 1),
                 None if s.gpu_mb is None else round(s.gpu_mb, 1)] for s in self.samples]

    HEADERS = ("images", "elapsed s", "RSS MB", "GPU MB")

    def text(self) -> str:
        return "\n".join([f"hardware: {describe(self.hardware)}", f"model: {self.model}",
                          f"images: {self.images_note}", "", text_table(self.HEADERS, self._rows()), "",
                          self.verdict()])

    def markdown(self) -> str:
        return "\n".join([
            "# Soak test (memory over a long run)", "",
            f"- Hardware: {describe(self.hardware)}", f"- Model: {self.model}",
            f"- Images: {self.images_note}; {self.config.images} detections at size {self.config.size}, "
            f"warm-up {self.warmup_images} images", f"- Date: {self.created}", "",
            f"**{self.verdict()}**", "", markdown_table(self.HEADERS, self._rows())]) + "\n"

    def to_json(self) -> Dict[str, Any]:
        return {"created": self.created, "config": asdict(self.config), "hardware": self.hardware,
                "model": self.model, "images": self.images_note, "warmup_images": self.warmup_images,
                "growth_mb": self.growth_mb, "slope_mb_per_1000_images": self.slope_mb_per_1000,
                "stable": self.stable, "verdict": self.verdict(),
                "samples": [asdict(s) for s in self.samples]}

    @property
    def ok(self) -> bool:
        return self.stable

    def write(self, out_dir: Path) -> Tuple[Path, Path]:
        return write_report_files(out_dir, "soak", self.to_json(), self.markdown())


def _gpu_mb(detector: TextDetector) -> float | None:
    if not detector.backend.device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.memory_allocated() / MB


def run_soak(detector: TextDetector, paths: Sequence[Path], cfg: SoakConfig, hardware: Dict[str, Any],
             images_note: str, say: Callable[[str], None] = print) -> SoakReport:
    """Detect ``cfg.images`` images cycling through ``paths``, sampling memory as it goes."""
    if cfg.images < 1:
        raise ValueError("--soak needs a positive number of images")
    files = [str(p) for p in paths]
    # By default sample after whole passes over the images, so every sample follows the same image.
    interval = cfg.interval or len(files) * max(1, round(cfg.images / 20 / len(files)))
    warmup = min(cfg.images, max(interval, int(cfg.images * cfg.warmup_fraction)))
    samples = [MemoryReading(0, 0.0, rss_mb(), _gpu_mb(detector))]
    t0 = time.perf_counter()
    for i in range(1, cfg.images + 1):
        detector.detect(files[(i - 1) % len(files)], limit_side=cfg.size)
        if i % interval == 0 or i == cfg.images:
            s = MemoryReading(i, time.perf_counter() - t0, rss_mb(), _gpu_mb(detector))
            samples.append(s)
            say(f"soak: {i}/{cfg.images} images, {s.seconds:.0f} s, RSS {s.rss_mb:.1f} MB")
    return SoakReport(cfg, hardware, detector.model_id, images_note, samples, warmup)


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def soak(cfg: BenchConfig, images: int, interval: int, workdir: Path,
         say: Callable[[str], None] = _stderr) -> SoakReport:
    """Soak with the bench's images and weights, on its first backend and size.

    Raises:
        BackendUnavailable: that backend cannot run here.
    """
    device = pick_device(cfg.device)
    paths, note = bench_images(cfg, workdir, say)
    weights = resolve_weights(cfg.weights, workdir)
    if weights.random:
        say(f"NOTE: {weights.note}")
    backend, precision = plan(cfg.backends, cfg.onnx_precisions, device)[0]
    detector = build_detector(backend, precision, weights.path, device, workdir, cfg.sizes[0])
    soak_cfg = SoakConfig(images=images, size=cfg.sizes[0], interval=interval)
    return run_soak(detector, paths, soak_cfg, hardware_info(), note, say)
