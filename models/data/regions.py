"""What a labelled image is, whatever format it was read from: the training reader, the
PaddleOCR reader, the mixer and the evaluator all speak these types."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import numpy as np

IGNORE_TEXT = "###"


class DatasetError(ValueError):
    """A malformed dataset; the message names the file (and line) and the problem."""


@dataclass
class Region:
    points: np.ndarray      # (K, 2) float32, K >= 4
    text: str
    ignore: bool


@dataclass
class Sample:
    image_path: Path
    gt_path: Path
    regions: List[Region] = field(default_factory=list)

    @property
    def polygons(self) -> List[np.ndarray]:
        return [r.points for r in self.regions]

    @property
    def ignore(self) -> List[bool]:
        return [r.ignore for r in self.regions]
