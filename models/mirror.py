"""A second look at scene photos: the image mirrored left to right, its maps flipped back
and averaged with the first look's (test-time augmentation, ``DetectorConfig.mirror_words``).

Why: on street photos the probability map is under-confident and uneven (weights/MODEL_CARD.md,
"Known weaknesses"), and the network, never trained on mirrored crops, errs differently on
the mirror image; the mean of the two maps is steadier, above all at the gaps between words.
Mirroring every validation image (PyTorch, the shipped file) gave street photos 0.499 -> 0.530
and web graphics 0.502 -> 0.528, while receipts, forms and renders moved by 0.3 points at
most, so only the images read by word pay for the second run: documents cost what they did.
Mirrored Chinese is a script the network never saw, and on the packaging renders it broke
CJK lines apart (0.741 -> 0.683), so an image whose script guard keeps a CJK line whole
runs once. Enlarging 1.25x as a third look added 0.9 points on street photos for 1.56x more
compute; not taken. Numbers per backend: the model card, "The mirror look".

Framework-free, like :mod:`models.postprocess`: every backend, and the tuning bench, share it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .postprocess import Boxes, DBPostProcess
from .preprocess import ResizeInfo

#: A word map given apart, or computed when called (a models.backends.WordMapOnDemand), or none.
Words = np.ndarray | Callable[[], np.ndarray] | None


def mirror_input(tensor: np.ndarray, channels_last: bool = False) -> np.ndarray:
    """One prepared image, (3, H, W) normalised or (H, W, 3) uint8 (``channels_last``),
    mirrored left to right. The padding moves to the left; the maps are flipped back, so
    the boxes land where they would have."""
    if tensor.ndim != 3:
        raise ValueError(f"mirror_input expects one image, (3, H, W) or (H, W, 3); got shape {tensor.shape}")
    return np.ascontiguousarray(tensor[:, ::-1] if channels_last else tensor[..., ::-1])


def all_maps(lines: np.ndarray, words: Words = None) -> np.ndarray:
    """One image's maps as one float32 array: (H, W) lines, or (2, H, W) lines and words
    (``words`` apart, or computed on demand, is stacked under the lines)."""
    lines = np.asarray(lines, dtype=np.float32)
    if lines.ndim == 3 or words is None:
        return lines
    word_map = words() if callable(words) else words
    return np.stack([lines, np.asarray(word_map, dtype=np.float32)])


def average_with_mirror(first: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """The mean of the first look's maps and the mirror image's, flipped back; same shapes."""
    first = np.asarray(first, dtype=np.float32)
    mirrored = np.asarray(mirrored, dtype=np.float32)
    if first.shape != mirrored.shape:
        raise ValueError(f"the mirror image's maps {mirrored.shape} do not match the first look's {first.shape}")
    return (first + mirrored[..., ::-1]) * np.float32(0.5)


def boxes_with_mirror(post: DBPostProcess, lines: np.ndarray, info: ResizeInfo, gray: np.ndarray | None,
                      words: Words, mirrored_maps: Callable[[bool], np.ndarray]) -> tuple[Boxes, bool]:
    """The boxes of one image; where ``mirror_words`` is on and the image was read by word
    with no line kept whole as CJK, those of its maps averaged with the mirror image's.
    ``mirrored_maps(with_words)`` gives :func:`all_maps` of the mirrored input, not flipped
    back, with the word map where ``with_words`` (the post-processing reads it: ``word_map``
    on); it is called only for the images that are mirrored. Returns the boxes and whether the
    mirror image was run."""
    boxes = post(lines, info, gray, words=words)
    if not (post.config.mirror_words and boxes.reading.words) or boxes.reading.cjk:
        return boxes, False
    with_words = post.config.word_map
    both = average_with_mirror(all_maps(lines, words if with_words else None), mirrored_maps(with_words))
    return post(both, info, gray), True
