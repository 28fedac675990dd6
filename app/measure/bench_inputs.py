"""What a benchmark measures with: its settings, the images (the user's or rendered pages)
and the weights (the user's, the released ones, or a random model: speed does not depend
on the values)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Tuple

import cv2
import numpy as np

from app.io.outputs import collect_images
from models import ImageDecodeError, load_image
from models.weights import DEFAULT_WEIGHTS

LogFn = Callable[[str], None]


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
class WeightsChoice:
    path: Path
    random: bool
    note: str


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
