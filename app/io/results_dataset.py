"""A processed folder's results as a labelled dataset, to fix in another tool or train on.

Reads the per-image JSON of a ``detect --output`` folder (or a WebUI batch folder) and adds
each successful image with its boxes to a dataset folder through
:class:`models.data.writer.DatasetWriter` (ICDAR-2015, or PaddleOCR labels for PPOCRLabel).
Texts come from recognition when the results have them, else are left empty (the
detector's training reads only the boxes; ``###`` would mean "don't care").
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from models.data.writer import LAYOUTS, SPLITS, AddedImage, DatasetWriter, Labels, NewImage
from models.settings import check_settings, setting


@dataclass(frozen=True)
class ResultsDatasetConfig:
    """Which results become which dataset."""

    results: Path = setting(help="a processed folder: `detect --output` DIR (its json/ results)", cli_required=True)
    output: Path = setting(help="dataset folder to write (created, or appended to)", cli_required=True,
                           cli_short="-o")
    layout: str = setting("icdar2015", "icdar2015: train_images/, train_gts/, train_list.txt; paddle: images/ "
                                       "with images/Label.txt (open the images folder in PPOCRLabel)",
                          choices=LAYOUTS)
    split: str = setting("train", "which split the images join (icdar2015 only)", choices=SPLITS)
    min_score: float = setting(0.0, "leave out boxes scored below this (0 keeps every box)", min=0.0, max=1.0)

    def __post_init__(self) -> None:
        check_settings(self, "dataset export")


@dataclass
class ResultsDatasetReport:
    added: List[AddedImage] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)     # "<json>: why"

    @property
    def boxes(self) -> int:
        return sum(a.regions for a in self.added)


def result_records(results: Path) -> Iterator[Tuple[Path, Dict[str, Any]]]:
    """(json path, record) of every readable per-image result, in name order."""
    folder = Path(results) / "json"
    if not folder.is_dir():
        raise FileNotFoundError(f"{results}: no json/ folder (expected the output folder of `python -m app detect`)")
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            yield path, record


def source_image(record: Dict[str, Any], results: Path) -> Path | None:
    """The image a record was made from: its ``image_path`` as written, or relative to the
    run's root (``manifest.json``) or to the results folder; None when it is gone."""
    text = str(record.get("image_path") or "")
    if not text:
        return None
    path = Path(text)
    candidates = [path]
    if not path.is_absolute():
        try:
            root = json.loads((Path(results) / "manifest.json").read_text(encoding="utf-8")).get("root")
        except (OSError, ValueError):
            root = None
        if root:
            candidates += [Path(root) / path, Path(root).parent / path]
        candidates.append(Path(results) / path)
    return next((c for c in candidates if c.is_file()), None)


def record_labels(record: Dict[str, Any], min_score: float = 0.0) -> Labels:
    """(quad, text) per box of a record, dropping boxes scored below ``min_score``."""
    boxes = record.get("boxes") or []
    scores = record.get("scores") or [1.0] * len(boxes)
    texts = record.get("texts") or [""] * len(boxes)
    return [(b, str(t)) for b, s, t in zip(boxes, scores, texts) if float(s) >= min_score]   # the writer checks b


def export_results(cfg: ResultsDatasetConfig, chunk: int = 200) -> ResultsDatasetReport:
    """Add every successful result of ``cfg.results`` to the dataset ``cfg.output``, ``chunk``
    images per lock and list update (the list is rewritten whole each time: atomic)."""
    writer = DatasetWriter(cfg.output, cfg.layout)
    report = ResultsDatasetReport()
    todo: List[NewImage] = []
    for path, record in result_records(cfg.results):
        image = source_image(record, cfg.results) if record.get("success") else None
        if not record.get("success"):
            report.skipped.append(f"{path.name}: detection failed ({record.get('error', 'no error message')})")
        elif image is None:
            report.skipped.append(f"{path.name}: image {record.get('image_path')} not found")
        else:
            todo.append(NewImage(image, record_labels(record, cfg.min_score), name=path.stem))

    def refused(item: NewImage, exc: Exception) -> None:
        report.skipped.append(f"{item.name}.json: {exc}")

    for start in range(0, len(todo), chunk):
        report.added += writer.add_many(todo[start:start + chunk], cfg.split, on_error=refused)
    return report


def processed_folders(out_root: Path) -> List[Path]:
    """Folders under ``out_root`` holding per-image results (``json/``), newest first."""
    if not Path(out_root).is_dir():
        return []
    found = [p for p in Path(out_root).iterdir() if p.is_dir() and (p / "json").is_dir()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def result_names(results: Path) -> List[str]:
    """The stems of the successful results in a processed folder, in name order."""
    return [path.stem for path, record in result_records(results) if record.get("success")]


def read_result(results: Path, stem: str) -> Tuple[Dict[str, Any], Path | None]:
    """(record, source image or None) of one result, by a stem :func:`result_names` gave."""
    if stem not in result_names(results):
        raise FileNotFoundError(f"no result {stem!r} in {results}")
    record = json.loads((Path(results) / "json" / f"{stem}.json").read_text(encoding="utf-8"))
    return record, source_image(record, results)
