"""`python -m app evaluate`: the evaluation engine's numbers as reports.

Ground truth, matching and totals come from :mod:`models.evaluation` (the engine the
trainer's validation uses too); this module adds what a user sees: boxes read from a
folder of ``res_<stem>.txt`` files (so any detector can be scored), the warnings, and the
JSON, Markdown and printed tables.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from models.data.icdar import Sample, read_gt
from models.evaluation import (
    ImageScore,
    Labelled,
    Prediction,
    evaluate_detector,
    find_labelled,
    score,
    summarize,
)
from models.metrics import IOU_THRESH
from models.progress import ProgressFn
from models.settings import check_settings, setting

from .tables import markdown_table, text_table, write_report_files

CATEGORY_HEADERS = ("category", "images", "text boxes", "detections", "detection rate",
                    "false detection rate", "hmean", "mean s/image")


@dataclass(frozen=True)
class EvalConfig:
    """What to score and how."""

    data: Path = setting(help="dataset folder (test_images/ + test_gts/, or images/ + gts/, or a PaddleOCR "
                              "label file)", cli_required=True)
    predictions: Path | None = setting(None, "score these res_<stem>.txt files (or a `detect --output` folder) "
                                             "instead of running the model")
    by_category: bool = setting(False, "per-category table: images grouped in subfolders of the images folder")
    iou_thresh: float = setting(IOU_THRESH, "IoU a match must exceed (protocol: 0.5)", min=0.0, max=1.0,
                                cli_name="iou")

    def __post_init__(self) -> None:
        check_settings(self, "evaluation")


@dataclass
class EvalReport:
    """Everything the evaluator found; renders itself as JSON, Markdown or text."""

    config: EvalConfig
    source: str                              # model id, or "predictions in DIR"
    images: List[ImageScore]
    groups: Dict[str, Dict[str, Any]]        # category -> summary, plus "all"
    warnings: List[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    @property
    def overall(self) -> Dict[str, Any]:
        return self.groups["all"]

    @property
    def failed(self) -> int:
        return sum(1 for s in self.images if s.error is not None)

    def to_json(self) -> Dict[str, Any]:
        cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.config).items()}
        out: Dict[str, Any] = {
            "created": self.created, "source": self.source, "config": cfg,
            "protocol": f"ICDAR-2015: IoU > {self.config.iou_thresh}, one-to-one, ### = don't care",
            "overall": self.overall, "failed_images": self.failed, "warnings": self.warnings,
            "images": [{"stem": s.stem, "category": s.category, **asdict(s.counts),
                        "seconds": s.seconds, "error": s.error} for s in self.images],
        }
        if self.config.by_category:
            out["categories"] = {k: v for k, v in self.groups.items() if k != "all"}
        return out

    def _category_rows(self) -> List[List[Any]]:
        return [[name, g["images"], g["ground_truth"], g["detections"], g["detection_rate"],
                 g["false_detection_rate"], g["hmean"], g["mean_seconds"]]
                for name, g in self.groups.items()]

    def _headline(self) -> str:
        o = self.overall
        secs = f"  mean s/image {o['mean_seconds']:.3f}" if o["mean_seconds"] is not None else ""
        return (f"precision {o['precision']:.4f}  recall {o['recall']:.4f}  hmean {o['hmean']:.4f}  "
                f"(images {o['images']}, text boxes {o['ground_truth']}, detections {o['detections']}, "
                f"matched {o['matched']}){secs}")

    def text(self) -> str:
        lines = [f"ICDAR-2015 evaluation of {self.source} on {self.config.data} "
                 f"(IoU > {self.config.iou_thresh}, ### = don't care)", self._headline()]
        if self.config.by_category:
            lines += ["", text_table(CATEGORY_HEADERS, self._category_rows())]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def markdown(self) -> str:
        o = self.overall
        lines = [f"# Text detection quality: {self.config.data}", "",
                 f"- Source: {self.source}",
                 f"- Protocol: ICDAR-2015 (IoU > {self.config.iou_thresh}, one-to-one, `###` = don't care)",
                 f"- Date: {self.created}", "",
                 markdown_table(("precision", "recall", "hmean", "images", "text boxes", "detections",
                                 "matched", "mean s/image"),
                                [[o["precision"], o["recall"], o["hmean"], o["images"], o["ground_truth"],
                                  o["detections"], o["matched"], o["mean_seconds"]]])]
        if self.config.by_category:
            lines += ["", "## By category", "",
                      "Detection rate = recall; false detection rate = 1 - precision.", "",
                      markdown_table(CATEGORY_HEADERS, self._category_rows())]
        if self.warnings:
            lines += ["", "## Warnings", ""] + [f"- {w}" for w in self.warnings]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- predictions
class PredictionFolder:
    """``res_<stem>.txt`` files, from any detector or from `python -m app detect --output DIR`.

    Given a detect output folder, the boxes come from its ``icdar/`` subfolder and the
    seconds per image from its ``json/`` records.
    """

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise FileNotFoundError(f"predictions folder not found: {root}")
        self.root = root
        self.txt_dir = root / "icdar" if (root / "icdar").is_dir() else root
        self.json_dir = root / "json"

    def boxes(self, sample: Sample, stem: str) -> List[Any] | None:
        """The predicted polygons, or None when the image has no result file."""
        for name in (f"res_{stem}.txt", f"res_{sample.image_path.stem}.txt"):
            path = self.txt_dir / name
            if path.is_file():
                return [r.points for r in read_gt(path)]   # same line format; a score reads as text
        return None

    def seconds(self, stem: str) -> float | None:
        path = self.json_dir / f"{stem}.json"
        try:
            value = json.loads(path.read_text(encoding="utf-8")).get("inference_time")
        except (OSError, ValueError):
            return None
        return float(value) if isinstance(value, (int, float)) else None


def _folder_predictions(folder: PredictionFolder, labelled: Sequence[Labelled]) -> Tuple[List[Prediction], List[str]]:
    """The folder's boxes for each image (none where it has no result file) and the names
    of the images without one."""
    predictions, missing = [], []
    for item in labelled:
        boxes = folder.boxes(item.sample, item.name)
        if boxes is None:
            missing.append(item.name)
        predictions.append(Prediction(boxes or [], folder.seconds(item.name)))
    return predictions, missing


def evaluate(config: EvalConfig, detector: Any = None, progress: ProgressFn | None = None) -> EvalReport:
    """Score ``detector`` (a TextDetector) or ``config.predictions`` on ``config.data``.

    Raises:
        FileNotFoundError: no recognised layout, no labelled images, or no predictions folder.
        ValueError: a malformed ground-truth or result line (file and line named), or
            neither a detector nor a predictions folder given.
    """
    samples, no_gt = find_labelled(config.data)
    if not samples:
        raise FileNotFoundError(f"{config.data}: no image with a ground-truth file (gt_<stem>.txt) found")
    warnings = []
    if no_gt:
        warnings.append(f"{len(no_gt)} image(s) without ground truth were skipped: {', '.join(no_gt[:5])}"
                        + (" ..." if len(no_gt) > 5 else ""))
    if config.predictions is not None:
        folder = PredictionFolder(config.predictions)
        predictions, no_pred = _folder_predictions(folder, samples)
        if len(no_pred) == len(samples):
            raise FileNotFoundError(f"{folder.txt_dir}: no res_<stem>.txt for any of the {len(samples)} images "
                                    f"(e.g. res_{samples[0].name}.txt)")
        if no_pred:
            warnings.append(f"{len(no_pred)} image(s) have no result file and count as no detections: "
                            f"{', '.join(no_pred[:5])}" + (" ..." if len(no_pred) > 5 else ""))
        scores = score(samples, predictions, config.iou_thresh, progress)
        source = f"predictions in {config.predictions}"
    elif detector is not None:
        scores = evaluate_detector(detector, samples, config.iou_thresh, progress)
        source = f"{detector.model_id} ({detector.backend.name}, {detector.backend.device})"
    else:
        raise ValueError("evaluate() needs a detector or config.predictions")
    failed = [s for s in scores if s.error]
    if failed:
        warnings.append(f"{len(failed)} image(s) could not be read and count as no detections: "
                        + "; ".join(s.error or "" for s in failed[:3]))
    return EvalReport(config, source, scores, summarize(scores), warnings)


def write_report(report: EvalReport, out_dir: Path) -> Tuple[Path, Path]:
    """``evaluation.json`` and ``evaluation.md`` under ``out_dir`` (written atomically)."""
    return write_report_files(out_dir, "evaluation", report.to_json(), report.markdown())
