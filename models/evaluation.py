"""The one evaluation engine: labelled images + predicted boxes -> ICDAR-2015 counts -> totals.

The trainer's periodic validation (:mod:`models.validation`) and `python -m app evaluate`
(:mod:`app.measure.evaluation`, which only adds report files and tables) both score with
:func:`score` and read ground truth through the dataset readers' one lookup
(:func:`models.data.icdar.find_gt`, PaddleOCR label files), so a training log and an
evaluate table print the same numbers for the same weights and images.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Sequence, Tuple

import numpy as np

from .data.icdar import find_gt, read_gt
from .data.paddle_label import find_label_file, read_label_file
from .data.regions import Sample
from .image_types import collect_images, output_stem
from .metrics import IOU_THRESH, ImageCounts, match_image, summarize_groups
from .progress import ProgressFn

# (images folder, ground-truth folder) pairs an evaluation folder may use, in order of preference.
LAYOUTS: Tuple[Tuple[str, str], ...] = (("test_images", "test_gts"), ("images", "gts"))
TOP_LEVEL = "(top level)"   # category of images lying directly in the images folder


class Labelled(NamedTuple):
    """A labelled image: the sample (ground truth read), its flat output name as
    `python -m app detect` writes it (``sub__dir__name``), and its category."""

    sample: Sample
    name: str
    category: str


@dataclass
class Prediction:
    """What a detector (or a folder of result files) said about one image."""

    boxes: Sequence[Any]               # point lists (quads or polygons)
    seconds: float | None = None
    error: str | None = None


@dataclass
class ImageScore:
    stem: str
    category: str
    counts: ImageCounts
    seconds: float | None = None
    error: str | None = None


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


def find_labelled(root: Path) -> Tuple[List[Labelled], List[str]]:
    """Labelled images under ``root`` and the images that have no ground-truth file.

    Images may be grouped in category subfolders; their ground truth is found by
    :func:`models.data.icdar.find_gt` (nested or flat, ``gt_<stem>.txt`` or ``<stem>.txt``).
    """
    paddle = _paddle_labelled(root)
    if paddle is not None:
        return paddle, []
    images_dir, gts_dir = find_layout(root)
    labelled: List[Labelled] = []
    missing: List[str] = []
    for image in collect_images(images_dir):
        rel = image.relative_to(images_dir)
        stem = output_stem(image, images_dir)
        gt = find_gt(gts_dir, rel, (stem,))
        if gt is None:
            missing.append(str(rel))
            continue
        category = rel.parts[0] if len(rel.parts) > 1 else TOP_LEVEL
        if category == "all":           # "all" is the overall row
            category = "all/"
        labelled.append(Labelled(Sample(image, gt, read_gt(gt)), stem, category))
    return labelled, missing


def _paddle_labelled(root: Path) -> List[Labelled] | None:
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
            labelled.append(Labelled(s, s.image_path.stem, TOP_LEVEL))
            continue
        rel = s.image_path.relative_to(root)
        category = rel.parts[-2] if len(rel.parts) > 2 else TOP_LEVEL
        labelled.append(Labelled(s, output_stem(s.image_path, root), category))
    return labelled


def labelled_samples(samples: Sequence[Sample], category: str) -> List[Labelled]:
    """Samples already read (a training source's validation split) under one category."""
    return [Labelled(s, s.image_path.stem, category) for s in samples]


# ---------------------------------------------------------------------------- scoring
def detector_predictions(detector: Any, labelled: Sequence[Labelled]) -> Iterator[Prediction]:
    """Boxes of a :class:`~models.detector.TextDetector` for each image, in order; an
    unreadable image gives no boxes and its error."""
    paths = [str(item.sample.image_path) for item in labelled]
    for result in detector.detect_many(paths, names=paths):
        if result.success:
            yield Prediction([b.astype(np.float64) for b in result.boxes], float(result.timings["total"]))
        else:
            yield Prediction([], None, result.error)


def score(labelled: Sequence[Labelled], predictions: Iterable[Prediction], iou: float = IOU_THRESH,
          progress: ProgressFn | None = None) -> List[ImageScore]:
    """Match each image's predictions with its ground truth (ICDAR-2015: one-to-one, IoU
    above ``iou``, ``###`` regions don't care); the one loop of every evaluation."""
    scores: List[ImageScore] = []
    for i, (item, pred) in enumerate(zip(labelled, predictions), start=1):
        s = item.sample
        scores.append(ImageScore(item.name, item.category, match_image(pred.boxes, s.polygons, s.ignore, iou),
                                 pred.seconds, pred.error))
        if progress:
            progress(i, len(labelled), scores[-1])
    return scores


def evaluate_detector(detector: Any, labelled: Sequence[Labelled], iou: float = IOU_THRESH,
                      progress: ProgressFn | None = None) -> List[ImageScore]:
    """Run ``detector`` on the labelled images and score it."""
    return score(labelled, detector_predictions(detector, labelled), iou, progress)


def summarize(scores: Sequence[ImageScore]) -> Dict[str, Dict[str, Any]]:
    """Totals per category in first-seen order, plus ``all``: precision, recall, hmean,
    counts, detection and false detection rates, and mean seconds per image."""
    groups: Dict[str, Dict[str, Any]] = summarize_groups((s.category, s.counts) for s in scores)
    for name in groups:
        secs = [s.seconds for s in scores if s.seconds is not None and (name == "all" or s.category == name)]
        groups[name]["mean_seconds"] = float(np.mean(secs)) if secs else None
    return groups
