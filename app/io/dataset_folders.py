"""Which labelled datasets live in the allowed folders, and what each holds.

The single tab adds to them and the training tab lists them; both read this one listing.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

from models.data.icdar import DatasetSummary, has_split, validate_dataset
from models.data.writer import SPLITS

MAX_LISTED = 200


def is_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a split in any layout the trainer reads."""
    return folder.is_dir() and any(has_split(folder, s) for s in SPLITS)


def find_datasets(roots: Sequence[Path], depth: int = 2) -> List[Path]:
    """Dataset folders at most ``depth`` levels below each root (hidden folders skipped),
    sorted, at most :data:`MAX_LISTED`."""
    found: List[Path] = []
    level = [Path(r) for r in roots if Path(r).is_dir()]
    for _ in range(depth):
        below: List[Path] = []
        for folder in level:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
            except OSError:
                continue
            for child in children:
                (found if is_dataset(child) else below).append(child)
        level = below
        if len(found) >= MAX_LISTED:
            break
    return sorted(found)[:MAX_LISTED]


def summarize_dataset(root: Path) -> DatasetSummary:
    """Images and boxes per split (any split may be missing); raises ``DatasetError`` naming
    the first problem."""
    return validate_dataset(root, splits=SPLITS, required=())
