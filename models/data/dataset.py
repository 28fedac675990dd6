"""Torch dataset: an ICDAR-2015 split -> augmented crops with DB target maps."""
from __future__ import annotations

from typing import Dict, List

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import IMAGENET_MEAN, IMAGENET_STD
from .augment import AugmentConfig, augment
from .icdar import Sample
from .targets import make_border_map, make_shrink_map


class DetectionDataset(Dataset):
    """Each access draws a fresh augmentation from (seed, epoch, index): reproducible, never repeated."""

    def __init__(self, samples: List[Sample], aug: AugmentConfig, seed: int = 0) -> None:
        self.samples = samples
        self.aug = aug
        self.seed = seed
        self.epoch = 0
        self._mean = np.asarray(IMAGENET_MEAN, np.float32) * 255
        self._inv_std = 1.0 / (np.asarray(IMAGENET_STD, np.float32) * 255)

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> Dict[str, torch.Tensor]:
        s = self.samples[i]
        bgr = cv2.imread(str(s.image_path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise RuntimeError(f"{s.image_path}: cannot be decoded")
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rng = np.random.default_rng([self.seed, self.epoch, i])
        crop, polys, ignore = augment(rng, img, s.polygons, s.ignore, self.aug)
        shape = crop.shape[:2]
        shrink, shrink_mask = make_shrink_map(shape, polys, ignore)
        thresh, thresh_mask = make_border_map(shape, polys, ignore)
        x = ((crop.astype(np.float32) - self._mean) * self._inv_std).transpose(2, 0, 1)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(x)),
            "shrink_map": torch.from_numpy(shrink),
            "shrink_mask": torch.from_numpy(shrink_mask),
            "thresh_map": torch.from_numpy(thresh),
            "thresh_mask": torch.from_numpy(thresh_mask),
        }
