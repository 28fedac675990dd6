"""Options shared by the commands that run the detector, and building it from them."""
from __future__ import annotations

import argparse
import sys

from models import DetectorConfig, TextDetector
from models.backends.auto import BACKENDS

from .options import add_options, config_from_args


def add_detector_options(p: argparse.ArgumentParser) -> None:
    """Which model runs where (``--weights``, ``--backend``, ...) and every DetectorConfig knob."""
    g = p.add_argument_group("detector")
    g.add_argument("--weights", help="safetensors weights (default: weights/db_resnet18.safetensors)")
    g.add_argument("--backend", choices=list(BACKENDS), default="auto",
                   help="auto: the fastest verified backend here (int8 ONNX Runtime on CPU, built once "
                        "per weights; PyTorch on CUDA); torch; onnx (with --model)")
    g.add_argument("--model", help="exported .onnx file (with --backend onnx)")
    g.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    add_options(g, DetectorConfig)


def detector_config_from_args(args: argparse.Namespace) -> DetectorConfig:
    return config_from_args(DetectorConfig, args)


def detector_from_args(args: argparse.Namespace) -> TextDetector | None:
    """Build the detector, or print a clear message and return None."""
    try:
        cfg = detector_config_from_args(args)
        det = TextDetector(cfg, weights=args.weights, device=args.device,
                           backend=args.backend, model=args.model)
        print(f"backend: {det.backend_summary}", file=sys.stderr)
        return det
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:   # WeightsNotFoundError too
        print(f"ERROR: {exc}", file=sys.stderr)
    return None
