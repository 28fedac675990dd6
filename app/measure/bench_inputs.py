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
from models.settings import check_settings, setting
from models.weights import DEFAULT_WEIGHTS

LogFn = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    """What to measure. Sizes are the detector's ``limit_side`` (long side cap, pixels)."""

    images: Path | None = setting(None, "folder of your images (default: render synthetic document pages)")
    max_images: int = setting(8, "use at most this many of --images (sorted by name)", min=1)
    synthetic_images: int = setting(4, "pages to render without --images", min=1, cli_name="synthetic")
    sizes: Tuple[int, ...] = setting((640, 800, 1024), "long-side limits, e.g. 640,800,1024", min=32, max=4096)
    backends: Tuple[str, ...] = setting(("torch", "onnx"), "torch,onnx,openvino (onnx and openvino run an export; "
                                        "openvino: CPU, when installed)")
    onnx_precisions: Tuple[str, ...] = setting((), "precisions of the exports, e.g. fp32,int8 (default: fp32 on CPU, "
                                               "fp32,fp16 on CUDA; fp32 for openvino)")
    repeats: int = setting(2, "timed passes over the images", min=1)
    warmup: int = setting(2, "untimed detections per configuration", min=0)
    device: str = setting("auto", "auto (CUDA when available), cpu or cuda")
    weights: Path | None = setting(None, "safetensors weights (default: weights/db_resnet18.safetensors, else a "
                                         "random model, said loudly: speed does not depend on the values)")
    price_per_hour: float | None = setting(None, "machine price per hour, for the cost column", min=0.0)
    currency: str = setting("CNY", "currency of --price-per-hour")
    isolate: bool = setting(True, "measure each backend in a fresh process (clean peak RSS)", cli=False)

    def __post_init__(self) -> None:
        # Backend and precision names are case-insensitive on the command line.
        object.__setattr__(self, "backends", tuple(b.lower() for b in self.backends))
        object.__setattr__(self, "onnx_precisions", tuple(p.lower() for p in self.onnx_precisions))
        check_settings(self, "benchmark", ["" if self.sizes else "sizes: give at least one size"])


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
