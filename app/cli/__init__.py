"""Command line: ``python -m app <command>``, one module per command in this package.

A command module provides ``add_parser(subparsers)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Sequence

# Sub-command name -> module of this package. Each module imports its heavy dependencies
# (Gradio, the trainer, the exporter) inside run(), so `python -m app detect` does not pay for them.
COMMANDS = ("serve", "detect", "train", "synth", "evaluate", "export", "dataset", "bench")


def build_parser(names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="cv_resnet18_ocr-detection: DBNet-ResNet18 text detection (WebUI and command line)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in names:
        module = importlib.import_module(f"app.cli.{name}")
        module.add_parser(sub)
    return parser


def main(argv: List[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(COMMANDS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # a bad option (message printed) or --help: the exit code, also in-process
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
