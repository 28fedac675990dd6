"""`python -m app export --height 800 --width 800 --output model_800x800.onnx`: verified ONNX export."""
from __future__ import annotations

import argparse
import sys

from models import WeightsNotFoundError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from models.export.config import OPSET_DEFAULT, PRECISIONS

    p = sub.add_parser(
        "export", help="export the detector to ONNX (fp32, fp16 or int8), verified against PyTorch",
        description="Writes an ONNX model (input images [N,3,H,W], output prob [N,1,H,W]) whose "
                    "metadata holds the preprocessing, size policy and thresholds, after checking it "
                    "against PyTorch on rendered pages. Height and width: multiples of 32 from 320 to "
                    "1536. Run it with `python -m app detect INPUT --output DIR --backend onnx --model FILE`.")
    p.add_argument("--height", type=int, default=800, help="input height in pixels (default 800)")
    p.add_argument("--width", type=int, default=800, help="input width in pixels (default 800)")
    p.add_argument("--dynamic", action="store_true",
                   help="any input size (multiples of 32); height/width are then used to trace and verify")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="fp32 (default), fp16 (for GPUs) or int8 (static QDQ, for CPUs)")
    p.add_argument("--weights", help="safetensors weights (default: weights/db_resnet18.safetensors)")
    p.add_argument("--output", "-o", help="output file (default: model_<H>x<W>[_dynamic][_<precision>].onnx)")
    p.add_argument("--opset", type=int, default=OPSET_DEFAULT, help=f"ONNX opset, >= 17 (default {OPSET_DEFAULT})")
    p.add_argument("--verify-images", type=int, default=6, help="rendered pages compared with PyTorch (default 6)")
    p.add_argument("--calibration-images", type=int, default=16, help="int8: rendered calibration pages (default 16)")
    p.add_argument("--calibration-method", choices=["minmax", "percentile", "entropy"], default="minmax",
                   help="int8: activation range calibration (default minmax)")
    p.add_argument("--int8-check", choices=["auto", "boxes", "map"], default="auto",
                   help="int8 gate: box agreement (trained weights) or map agreement; auto picks")
    p.add_argument("--keep-failed", action="store_true",
                   help="keep a model that fails verification as <stem>.FAILED.onnx (for debugging)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from models.export.config import ExportConfig
    from models.export.exporter import ExportVerificationError, export_onnx

    try:
        cfg = ExportConfig(height=args.height, width=args.width, dynamic=args.dynamic,
                           precision=args.precision, output=args.output, weights=args.weights,
                           opset=args.opset, verify_images=args.verify_images,
                           calibration_images=args.calibration_images,
                           calibration_method=args.calibration_method, int8_check=args.int8_check,
                           keep_failed=args.keep_failed)
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(f"exporting {cfg.weights_path} -> {cfg.output_path} ({cfg.precision}, "
          f"{'dynamic' if cfg.dynamic else f'{cfg.height}x{cfg.width}'}) ...", file=sys.stderr)
    try:
        report = export_onnx(cfg)
    except WeightsNotFoundError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except ExportVerificationError as exc:
        print(exc.report.summary())
        kept = f" (kept for debugging as {exc.report.path})" if args.keep_failed else ""
        print(f"ERROR: the exported model failed verification; nothing was written to "
              f"{cfg.output_path}{kept}", file=sys.stderr)
        return 1
    except ValueError as exc:   # e.g. unreadable weights file
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"run it with: python -m app detect INPUT --output DIR --backend onnx --model {report.path}")
    return 0
