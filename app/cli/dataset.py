"""`python -m app dataset --results DIR --output DATASET`: a processed folder's results as a dataset."""
from __future__ import annotations

import argparse

from .options import add_options, config_from_args, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    from app.io.results_dataset import ResultsDatasetConfig

    p = sub.add_parser(
        "dataset", help="turn a processed folder's results into a labelled dataset to fix elsewhere",
        description="Adds every successfully processed image of a `detect --output` folder, with its boxes "
                    "(and texts, when recognised), to a dataset folder: ICDAR-2015 (train_images/, "
                    "train_gts/, train_list.txt; what `train --data` reads) or PaddleOCR labels (images/ "
                    "with images/Label.txt: open the images folder in PPOCRLabel, fix, then train with "
                    "`--data DATASET/images`). An existing dataset is appended to.")
    add_options(p, ResultsDatasetConfig)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.io.results_dataset import ResultsDatasetConfig, export_results
    from models.data.writer import training_folder

    try:
        cfg = config_from_args(ResultsDatasetConfig, args)
        report = export_results(cfg)
    except (ValueError, FileNotFoundError, PermissionError) as exc:   # DatasetError is a ValueError
        return fail(exc)
    for line in report.skipped:
        print(f"skipped {line}")
    print(f"added {len(report.added)} image(s), {report.boxes} box(es) to {cfg.output} ({cfg.layout}); "
          f"train on it with: python -m app train --data {training_folder(cfg.output, cfg.layout)}")
    return 0 if report.added or not report.skipped else 1
