"""Scoring a detector on a labelled folder: the seed's quality tables on the user's data.

Finds images and ICDAR-2015 ground truth (``test_images/`` + ``test_gts/`` or
``images/`` + ``gts/``, optionally grouped in category subfolders), gets boxes either
from the detector or from a folder of ``res_<stem>.txt`` files (so any detector can be
scored), matches them with :mod:`models.metrics` and renders JSON, Markdown and a
printed table.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from app.io.outputs import collect_images, output_stem
from models.data.icdar import Sample, read_gt
from models.data.paddle_label import find_label_file, read_label_file
from models.metrics import ImageCounts, match_image, summarize_groups
from models.progress import ProgressFn

from .tables import markdown_table, text_table, write_report_files

# (images folder, ground-truth folder) pairs we recognise, in order of preference.
LAYOUTS: Tuple[Tuple[str, str], ...] = (("test_images", "test_gts"), ("images", "gts"))
TOP_LEVEL = "(top level)"   # category of images lying directly in the images folder

# A labelled image (the training reader's Sample, ground truth read), its flat output name as
# `python -m app detect` writes it (sub__dir__name), and its category.
Labelled = Tuple[Sample, str, str]
CATEGORY_HEADERS = ("category", "images", "text boxes", "detections", "detection rate",
                    "false detection rate", "hmean", "mean s/image")


@dataclass(frozen=True)
class EvalConfig:
    """What to score and how."""

    data: Path
    predictions: Path | None = None     # folder of res_<stem>.txt; None = run the detector
    by_category: bool = False           # group by the first subfolder under the images folder
    iou_thresh: float = 0.5


@dataclass
class ImageScore:
    stem: str
    category: str
    counts: ImageCounts
    seconds: float | None = None
    error: str | None = None


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


# ---------------------------------------------------------------------------- finding data
def find_layout(root: Path) -> Tuple[Path, Path]:
    """The (images, ground truth) folders under ``root``.

    Raises:
        FileNotFoundError: none of :data:`LAYOUTS` is present; the message lists them.
    """
    for images, gts in LAYOUTS:
        if (root / images).is_dir() and (root / gts).is_dir():
            return root / images, root / gts
    expected = " or ".join(f"{a}/ + {b}/" for a, b in LAYOUTS)
    raise FileNotFoundError(f"{root}: expected an ICDAR-2015 or ICDAR-2013 layout ({expected}) or a PaddleOCR "
                            f"label file (test_label.txt, label.txt or Label.txt)")


def _gt_candidates(gts: Path, rel: Path, stem: str) -> List[Path]:
    names = (f"gt_{rel.stem}.txt", f"{rel.stem}.txt")
    here = [gts / rel.parent / n for n in names]
    flat = [gts / n for n in names] + [gts / f"gt_{stem}.txt", gts / f"{stem}.txt"]
    return here + flat


def collect_samples(root: Path) -> Tuple[List[Labelled], List[str]]:
    """Labelled images under ``root`` and the images that have no ground-truth file.

    A ground-truth file is ``gt_<stem>.txt`` or ``<stem>.txt``, next to the image's
    relative path under the gt folder (``gts/invoices/gt_a.txt``) or flat in it.
    """
    paddle = _paddle_samples(root)
    if paddle is not None:
        return paddle, []
    images_dir, gts_dir = find_layout(root)
    samples: List[Labelled] = []
    missing: List[str] = []
    for image in collect_images(images_dir):
        rel = image.relative_to(images_dir)
        stem = output_stem(image, images_dir)
        gt = next((p for p in _gt_candidates(gts_dir, rel, stem) if p.is_file()), None)
        if gt is None:
            missing.append(str(rel))
            continue
        category = rel.parts[0] if len(rel.parts) > 1 else TOP_LEVEL
        if category == "all":           # "all" is the overall row
            category = "all/"
        samples.append((Sample(image, gt, read_gt(gt)), stem, category))
    return samples, missing


def _paddle_samples(root: Path) -> List[Labelled] | None:
    """Images of a PaddleOCR label file (``test_label.txt``, else the single ``label.txt``),
    named as `python -m app detect ROOT` names them; None when ``root`` has no label file
    or has the ICDAR layout (which wins)."""
    if any((root / images).is_dir() and (root / gts).is_dir() for images, gts in LAYOUTS):
        return None
    label = find_label_file(root, "test") or find_label_file(root, "train")
    if label is None:
        return None
    labelled: List[Labelled] = []
    for s in read_label_file(label):
        if not s.image_path.is_relative_to(root):   # PPOCRLabel paths may start one folder up
            labelled.append((s, s.image_path.stem, TOP_LEVEL))
            continue
        rel = s.image_path.relative_to(root)
        category = rel.parts[-2] if len(rel.parts) > 2 else TOP_LEVEL
        labelled.append((s, output_stem(s.image_path, root), category))
    return labelled


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

    def boxes(self, sample: Sample, stem: str) -> List[np.ndarray] | None:
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


def _score_predictions(folder: PredictionFolder, samples: Sequence[Labelled], iou: float,
                       progress: ProgressFn | None) -> Tuple[List[ImageScore], List[str]]:
    scores, missing = [], []
    for i, (s, stem, category) in enumerate(samples, start=1):
        preds = folder.boxes(s, stem)
        if preds is None:
            missing.append(stem)
            preds = []
        scores.append(ImageScore(stem, category, match_image(preds, s.polygons, s.ignore, iou),
                                 folder.seconds(stem)))
        if progress:
            progress(i, len(samples), scores[-1])
    return scores, missing


def _score_detector(detector: Any, samples: Sequence[Labelled], iou: float,
                    progress: ProgressFn | None) -> List[ImageScore]:
    scores = []
    paths = [str(s.image_path) for s, _, _ in samples]
    results = detector.detect_many(paths, names=paths)
    for i, ((s, stem, category), result) in enumerate(zip(samples, results), start=1):
        preds = [b.astype(np.float64) for b in result.boxes] if result.success else []
        seconds = float(result.timings["total"]) if result.success else None
        scores.append(ImageScore(stem, category, match_image(preds, s.polygons, s.ignore, iou),
                                 seconds, result.error))
        if progress:
            progress(i, len(samples), scores[-1])
    return scores


def _group_seconds(scores: Sequence[ImageScore], groups: Dict[str, Dict[str, Any]]) -> None:
    for name in groups:
        secs = [s.seconds for s in scores if s.seconds is not None and (name == "all" or s.category == name)]
        groups[name]["mean_seconds"] = float(np.mean(secs)) if secs else None


def evaluate(config: EvalConfig, detector: Any = None, progress: ProgressFn | None = None) -> EvalReport:
    """Score ``detector`` (a TextDetector) or ``config.predictions`` on ``config.data``.

    Raises:
        FileNotFoundError: no recognised layout, no labelled images, or no predictions folder.
        ValueError: a malformed ground-truth or result line (file and line named), or
            neither a detector nor a predictions folder given.
    """
    samples, no_gt = collect_samples(config.data)
    if not samples:
        raise FileNotFoundError(f"{config.data}: no image with a ground-truth file (gt_<stem>.txt) found")
    warnings = []
    if no_gt:
        warnings.append(f"{len(no_gt)} image(s) without ground truth were skipped: {', '.join(no_gt[:5])}"
                        + (" ..." if len(no_gt) > 5 else ""))
    if config.predictions is not None:
        folder = PredictionFolder(config.predictions)
        scores, no_pred = _score_predictions(folder, samples, config.iou_thresh, progress)
        if len(no_pred) == len(samples):
            raise FileNotFoundError(f"{folder.txt_dir}: no res_<stem>.txt for any of the {len(samples)} images "
                                    f"(e.g. res_{samples[0][1]}.txt)")
        if no_pred:
            warnings.append(f"{len(no_pred)} image(s) have no result file and count as no detections: "
                            f"{', '.join(no_pred[:5])}" + (" ..." if len(no_pred) > 5 else ""))
        source = f"predictions in {config.predictions}"
    elif detector is not None:
        scores = _score_detector(detector, samples, config.iou_thresh, progress)
        source = f"{detector.model_id} ({detector.backend.name}, {detector.backend.device})"
    else:
        raise ValueError("evaluate() needs a detector or config.predictions")
    failed = [s for s in scores if s.error]
    if failed:
        warnings.append(f"{len(failed)} image(s) could not be read and count as no detections: "
                        + "; ".join(s.error or "" for s in failed[:3]))
    groups = summarize_groups((s.category, s.counts) for s in scores)
    _group_seconds(scores, groups)
    return EvalReport(config, source, scores, groups, warnings)


def write_report(report: EvalReport, out_dir: Path) -> Tuple[Path, Path]:
    """``evaluation.json`` and ``evaluation.md`` under ``out_dir`` (written atomically)."""
    return write_report_files(out_dir, "evaluation", report.to_json(), report.markdown())
