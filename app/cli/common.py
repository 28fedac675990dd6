"""Options shared by the commands that run the detector, and building it from them."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Dict

from models import DetectorConfig, TextDetector
from models.backends.auto import BACKENDS

DEFAULTS = DetectorConfig()


def add_detector_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("detector")
    g.add_argument("--weights", help="safetensors weights (default: weights/db_resnet18.safetensors)")
    g.add_argument("--backend", choices=list(BACKENDS), default="auto",
                   help="auto: the fastest verified backend here (int8 ONNX Runtime on CPU, built once "
                        "per weights; PyTorch on CUDA); torch; onnx (with --model)")
    g.add_argument("--model", help="exported .onnx file (with --backend onnx)")
    g.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    g.add_argument("--thresh", type=float, help=f"detection (binarisation) threshold, default {DEFAULTS.thresh}")
    g.add_argument("--box-thresh", type=float, help=f"minimum box score, default {DEFAULTS.box_thresh}")
    g.add_argument("--unclip-ratio", type=float, help=f"box expansion ratio, default {DEFAULTS.unclip_ratio}")
    g.add_argument("--limit-side", type=int, help=f"size limit in pixels, default {DEFAULTS.limit_side}")
    g.add_argument("--limit-type", choices=["max", "min"], help=f"size policy, default {DEFAULTS.limit_type}")
    g.add_argument("--max-candidates", type=int, help=f"contours examined per image, default {DEFAULTS.max_candidates}")
    g.add_argument("--box-type", choices=["quad", "poly"], help="also output polygons with 'poly'")


def config_from_args(args: argparse.Namespace) -> DetectorConfig:
    overrides: Dict[str, Any] = dict(
        thresh=args.thresh, box_thresh=args.box_thresh, unclip_ratio=args.unclip_ratio,
        limit_side=args.limit_side, limit_type=args.limit_type,
        max_candidates=args.max_candidates, box_type=args.box_type)
    return DetectorConfig().with_overrides(**overrides)


def detector_from_args(args: argparse.Namespace) -> TextDetector | None:
    """Build the detector, or print a clear message and return None."""
    try:
        cfg = config_from_args(args)
        det = TextDetector(cfg, weights=args.weights, device=args.device,
                           backend=args.backend, model=args.model)
        print(f"backend: {det.backend_summary}", file=sys.stderr)
        return det
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:   # WeightsNotFoundError too
        print(f"ERROR: {exc}", file=sys.stderr)
    return None
