"""`python -m app evaluate --data DIR`: precision, recall, hmean (ICDAR-2015) on labelled images."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from .common import add_detector_options, detector_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="precision / recall / hmean on an ICDAR-2015-layout folder",
        description="Scores the detector (or a folder of res_<stem>.txt files) on test_images/ + "
                    "test_gts/ (or images/ + gts/) with the ICDAR-2015 protocol: IoU > 0.5, one-to-one "
                    "matching, ### regions don't care. Prints a table and writes evaluation.json and "
                    "evaluation.md.")
    p.add_argument("--data", required=True, help="dataset folder (test_images/ + test_gts/, or images/ + gts/)")
    p.add_argument("--predictions", help="score these res_<stem>.txt files (or a `detect --output` folder) "
                                         "instead of running the model")
    p.add_argument("--by-category", action="store_true",
                   help="per-category table: images grouped in subfolders of the images folder")
    p.add_argument("--iou", type=float, default=0.5, help="IoU a match must exceed (protocol: 0.5)")
    p.add_argument("--output", "-o", default="outputs/evaluation", help="folder for evaluation.json/.md")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_detector_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.measure.evaluation import EvalConfig, evaluate, write_report

    config = EvalConfig(Path(args.data), Path(args.predictions) if args.predictions else None,
                        args.by_category, args.iou)
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
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(report.text())
    json_path, md_path = write_report(report, Path(args.output))
    print(f"written: {json_path}, {md_path}")
    return 1 if report.failed else 0
