"""`python -m app evaluate --data DIR`: precision, recall, hmean (ICDAR-2015) on labelled images."""
from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from .common import add_detector_options, detector_from_args
from .options import add_options, add_output_option, add_progress_option, config_from_args, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    from app.measure.evaluation import EvalConfig

    p = sub.add_parser(
        "evaluate", help="precision / recall / hmean on an ICDAR-2015-layout folder",
        description="Scores the detector (or a folder of res_<stem>.txt files) on test_images/ + "
                    "test_gts/ (or images/ + gts/) with the ICDAR-2015 protocol: IoU > 0.5, one-to-one "
                    "matching, ### regions don't care. Prints a table and writes evaluation.json and "
                    "evaluation.md.")
    add_options(p, EvalConfig)
    add_output_option(p, "outputs/evaluation", "evaluation.json/.md")
    add_progress_option(p)
    add_detector_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.measure.evaluation import EvalConfig, evaluate, write_report

    try:
        config = config_from_args(EvalConfig, args)
    except ValueError as exc:
        return fail(exc)
    detector = None
    if config.predictions is None:
        detector = detector_from_args(args)
        if detector is None:
            return 2
    bar = tqdm(unit="img", disable=args.no_progress, file=sys.stderr)

    def progress(done: int, total: int, score: object) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = evaluate(config, detector, progress)
    except (FileNotFoundError, ValueError) as exc:
        bar.close()
        return fail(exc)
    bar.close()
    print(report.text())
    json_path, md_path = write_report(report, Path(args.output))
    print(f"written: {json_path}, {md_path}")
    return 1 if report.failed else 0
