"""Command line: one sub-command per job, each in its own module under app/commands/.

A command module provides ``add_parser(subparsers)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Sequence

# Sub-command name -> module under app.commands. Modules are imported lazily so that
# `python -m app detect` does not pay for Gradio, and a broken optional extra only
# breaks its own command.
COMMANDS = {
    "serve": "Serve the WebUI (default http://0.0.0.0:7860)",
    "detect": "Detect text in an image file or a folder of images",
    "train": "Train or fine-tune the detector",
    "synth": "Render synthetic training data",
    "evaluate": "Precision, recall and hmean (ICDAR-2015) on a labelled folder",
    "export": "Export the detector to ONNX (fp32, fp16, int8), verified against PyTorch",
    "bench": "Speed, memory and cost per backend / precision / size on this machine",
}
OPTIONAL_COMMANDS: dict = {}


def build_parser(names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="cv_resnet18_ocr-detection: DBNet-ResNet18 text detection (WebUI and command line)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in names:
        module = importlib.import_module(f"app.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: List[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = list(COMMANDS) + list(OPTIONAL_COMMANDS)
    parser = build_parser(names)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
