"""`python -m app export --height 800 --width 800 --output model_800x800.onnx`: verified ONNX export."""
from __future__ import annotations

import argparse
import sys

from models import WeightsNotFoundError

from .options import add_options, config_from_args, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    from models.export.config import ExportConfig

    p = sub.add_parser(
        "export", help="export the detector to ONNX (fp32, fp16 or int8), verified against PyTorch",
        description="Writes an ONNX model (input images [N,3,H,W], output prob [N,1,H,W]) whose "
                    "metadata holds the preprocessing, size policy and thresholds, after checking it "
                    "against PyTorch on rendered pages. Height and width: multiples of 32 from 320 to "
                    "1536. Run it with `python -m app detect INPUT --output DIR --backend onnx --model FILE`.")
    add_options(p, ExportConfig)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from models.export.config import ExportConfig
    from models.export.exporter import ExportVerificationError, export_onnx

    try:
        cfg = config_from_args(ExportConfig, args)
    except ValueError as exc:
        return fail(exc)
    print(f"exporting {cfg.weights_path} -> {cfg.output_path} ({cfg.precision}, "
          f"{'dynamic' if cfg.dynamic else f'{cfg.height}x{cfg.width}'}) ...", file=sys.stderr)
    try:
        report = export_onnx(cfg)
    except WeightsNotFoundError as exc:
        return fail(exc)
    except ExportVerificationError as exc:
        print(exc.report.summary())
        kept = f" (kept for debugging as {exc.report.path})" if cfg.keep_failed else ""
        print(f"ERROR: the exported model failed verification; nothing was written to "
              f"{cfg.output_path}{kept}", file=sys.stderr)
        return 1
    except ValueError as exc:   # e.g. unreadable weights file
        return fail(exc)
    print(report.summary())
    print(f"run it with: python -m app detect INPUT --output DIR --backend onnx --model {report.path}")
    return 0
