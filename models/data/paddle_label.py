"""PaddleOCR detection label files, as PPOCRLabel writes them.

One image per line: ``relative/path.jpg<TAB>[{"transcription": "...", "points": [[x, y],
...]}, ...]``; ``###`` (or ``"difficult": true``) marks a region to ignore. PPOCRLabel
writes ``Label.txt`` inside the image folder with paths that start with that folder's
name, PaddleOCR's own sets keep ``train_label.txt`` beside the images: both resolve.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import numpy as np

from ..image_types import IMAGE_EXTS
from .regions import IGNORE_TEXT, DatasetError, Region, Sample

TRAIN_NAMES = ("label.txt", "Label.txt")   # a single label file is the train split


def find_label_file(root: Path, split: str) -> Path | None:
    """``<split>_label.txt``, or for the train split ``label.txt`` / ``Label.txt``."""
    names = (f"{split}_label.txt",) + (TRAIN_NAMES if split == "train" else ())
    for name in names:
        p = root / name
        if p.is_file():
            return p
    return None


def _resolve_image(label_file: Path, rel: str) -> Path | None:
    base = label_file.parent
    for cand in (base / rel, base.parent / rel, base / Path(rel).name):
        if cand.is_file():
            return cand
    return None


def parse_regions(payload: str, where: str) -> List[Region]:
    """The JSON list of one label line."""
    try:
        items = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: the annotation is not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(items, list):
        raise DatasetError(f"{where}: expected a JSON list of regions, got {type(items).__name__}")
    regions = []
    for k, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "points" not in item:
            raise DatasetError(f"{where}, region {k}: expected {{\"transcription\": ..., \"points\": [[x, y], ...]}}")
        try:
            pts = np.asarray(item["points"], np.float32).reshape(-1, 2)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{where}, region {k}: points must be [[x, y], ...] numbers ({exc})") from exc
        if len(pts) < 4 and len(pts) != 2:
            raise DatasetError(f"{where}, region {k}: needs at least 4 points (got {len(pts)})")
        if len(pts) == 2:   # a rectangle given by two corners
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
        if not np.isfinite(pts).all():
            raise DatasetError(f"{where}, region {k}: coordinates must be finite numbers")
        text = str(item.get("transcription", ""))
        regions.append(Region(pts, text, ignore=text == IGNORE_TEXT or bool(item.get("difficult", False))))
    return regions


def read_label_file(label_file: Path) -> List[Sample]:
    """Every sample of a label file, validated; raises :class:`DatasetError` naming the line."""
    try:
        text = label_file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"{label_file}: cannot be read ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{label_file}: not UTF-8 text ({exc})") from exc
    samples = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{label_file}, line {n}"
        if "\t" not in line:
            raise DatasetError(f"{where}: expected 'path/to/image.jpg<TAB>[{{...}}]' (PaddleOCR label format)")
        rel, payload = line.split("\t", 1)
        image = _resolve_image(label_file, rel.strip())
        if image is None:
            raise DatasetError(f"{where}: image {rel.strip()} not found next to {label_file.name} or its folder")
        if image.suffix.lower() not in IMAGE_EXTS:
            raise DatasetError(f"{where}: {image.name} is not an image file ({', '.join(IMAGE_EXTS)})")
        samples.append(Sample(image, label_file, parse_regions(payload, where)))
    if not samples:
        raise DatasetError(f"{label_file}: no labelled images")
    return samples
