"""Torch dataset: an ICDAR-2015 split -> augmented crops with DB target maps.

Samples leave the loader workers compact: the crop as uint8 (C, H, W), the binary maps as
uint8 and the threshold map as float16, 3.3 MB per 640 px sample instead of 11.5 MB in
float32. Every byte crosses the worker queue and the main process's collate, which bound a
GPU run (137 img/s on 14 workers); :func:`to_device` normalises on the training device.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import IMAGENET_MEAN, IMAGENET_STD
from .augment import AugmentConfig, augment
from .copy_paste import WordBanks, paste_words
from .icdar import Sample
from .targets import make_border_map, make_shrink_map


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8, or a clear error naming the file."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise RuntimeError(f"{path}: cannot be decoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class DetectionDataset(Dataset):
    """Each access draws a fresh augmentation from (seed, epoch, index): reproducible, never repeated."""

    def __init__(self, samples: List[Sample], aug: AugmentConfig, seed: int = 0,
                 word_labelled: Sequence[bool] | None = None,
                 paste_groups: Sequence[int | None] | None = None) -> None:
        """``word_labelled`` (one flag per sample: are its labels words?) adds ``word_labels``
        to each sample, for a loss that trains a word map on those crops alone.
        ``paste_groups`` (one per sample: its source's number, or None) lets ``aug.paste_prob``
        paste words cut from the other samples of the same group into a sample of that group."""
        for name, flags in (("word-label flags", word_labelled), ("paste groups", paste_groups)):
            if flags is not None and len(flags) != len(samples):
                raise ValueError(f"{len(flags)} {name} for {len(samples)} samples")
        self.samples = samples
        self.aug = aug
        self.seed = seed
        self.epoch = 0
        self.word_labelled = list(word_labelled) if word_labelled is not None else None
        self.paste_groups = list(paste_groups) if paste_groups is not None else None
        self.banks = (WordBanks(samples, self.paste_groups, read_rgb)
                      if self.paste_groups is not None and aug.paste_prob > 0 else None)

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> Dict[str, torch.Tensor]:
        s = self.samples[i]
        img = read_rgb(s.image_path)
        rng = np.random.default_rng([self.seed, self.epoch, i])
        polygons, ignore = s.polygons, s.ignore
        group = self.paste_groups[i] if self.paste_groups is not None else None
        if self.banks is not None and group is not None:
            paste_rng = np.random.default_rng([self.seed, self.epoch, i, 1])   # leaves the crop's draws alone
            if paste_rng.random() < self.aug.paste_prob:
                img, polygons, ignore = self._paste(paste_rng, img, polygons, ignore, group)
        crop, polys, ignore = augment(rng, img, polygons, ignore, self.aug)
        shape = crop.shape[:2]
        shrink, shrink_mask = make_shrink_map(shape, polys, ignore)
        thresh, thresh_mask = make_border_map(shape, polys, ignore)
        sample = {
            "image": torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))),
            "shrink_map": torch.from_numpy(shrink.astype(np.uint8)),
            "shrink_mask": torch.from_numpy(shrink_mask.astype(np.uint8)),
            "thresh_map": torch.from_numpy(thresh.astype(np.float16)),
            "thresh_mask": torch.from_numpy(thresh_mask.astype(np.uint8)),
        }
        if self.word_labelled is not None:
            sample["word_labels"] = torch.tensor(self.word_labelled[i], dtype=torch.bool)
        return sample

    def _paste(self, rng: np.random.Generator, img: np.ndarray, polygons: Sequence[np.ndarray],
               ignore: Sequence[bool], group: int) -> Tuple[np.ndarray, List[np.ndarray], List[bool]]:
        """Paste 1..paste_words words of ``group``'s bank, sized for the scale inference reads
        this image at (its long side brought to ``infer_long_side``, never enlarged)."""
        h, w = img.shape[:2]
        to_image = 1.0 / min(1.0, self.aug.infer_long_side / max(h, w))
        lo, hi = self.aug.paste_height
        count = int(rng.integers(1, self.aug.paste_words + 1))
        return paste_words(rng, img, polygons, ignore, self.banks.bank(group), count, (lo * to_image, hi * to_image))


def to_device(batch: Dict[str, torch.Tensor], device: str | torch.device) -> Dict[str, torch.Tensor]:
    """A collated batch of :class:`DetectionDataset` samples as the network and the loss take
    it, on ``device``: the image normalised (ImageNet mean and std) in float32, the maps in float32.

    A float image (already normalised, e.g. a benchmark's random batch) passes unchanged."""
    out = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    image = out["image"]
    if image.dtype == torch.uint8:
        mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32, device=image.device).view(1, 3, 1, 1) * 255
        inv_std = 1.0 / (torch.tensor(IMAGENET_STD, dtype=torch.float32, device=image.device).view(1, 3, 1, 1) * 255)
        out["image"] = (image.float() - mean) * inv_std
    for key in ("shrink_map", "shrink_mask", "thresh_map", "thresh_mask"):
        if key in out:
            out[key] = out[key].float()
    return out
