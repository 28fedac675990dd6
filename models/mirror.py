"""More looks at scene photos: the image mirrored left to right, its maps flipped back and
averaged with the first look's (test-time augmentation, ``DetectorConfig.mirror_words``, off by
default), after the zoom look of :mod:`models.zoom` (``zoom_words``).

Why: on street photos the probability map is under-confident and uneven (weights/TRAINING_LOG.md,
"Known weaknesses of release 2"), and the network, never trained on mirrored crops, errs differently on
the mirror image. Mirroring every validation image (PyTorch, the shipped file) gave street photos
0.499 -> 0.530 and web graphics 0.502 -> 0.528, so it was the default from the eighteenth stop; on
399 more street photos it lost instead (all 499: 0.511 against 0.519 for one look), and since
2026-11-28 the zoom look (:mod:`models.zoom`, 0.539) is the default and this one an option
(:func:`boxes_with_looks` runs both, the zoom look first). Only the images read by word pay for
a second run: documents cost what they did.
Mirrored Chinese is a script the network never saw, and on the packaging renders it broke
CJK lines apart (0.741 -> 0.683), so an image whose script guard keeps a CJK line whole
runs once (the zoom look reads it still). Numbers per backend: the training log, "The mirror
look" and "The zoom look".

The mirror image is read only in a window (since the twentieth stop; :mod:`models.window`):
the rectangle around every pixel where the first look's maps pass its cue,
``DetectorConfig.mirror_margin`` pixels wider, grown to a quarter, half, three quarters or all
of each side; outside it the first look's maps stand alone (they are below the cue there, so
no box can come from them). The validation boxes are those of the whole mirror image within 0.5 points
on every path, and a folder of street photos runs 24 % (OpenVINO) to 36 % (ONNX Runtime)
faster (training log, "The mirror look in a window"). A fixed-shape model reads the whole
mirror image.

Framework-free, like :mod:`models.postprocess`: every backend, and the tuning bench, share it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .postprocess import Boxes, DBPostProcess
from .preprocess import ResizeInfo
from .window import Window, average_in_window, text_window

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


def average_with_mirror(first: np.ndarray, mirrored: np.ndarray, window: Window | None = None) -> np.ndarray:
    """The first look's maps, averaged inside ``window`` (default: everywhere) with the maps
    of the mirrored window, flipped back; ``mirrored`` has the window's shape."""
    return average_in_window(first, np.asarray(mirrored)[..., ::-1], window)


def boxes_with_looks(post: DBPostProcess, lines: np.ndarray, info: ResizeInfo, gray: np.ndarray | None,
                     words: Words, mirrored_maps: Callable[[bool, Window], np.ndarray],
                     whole: bool = False,
                     zoomed_maps: Callable[[bool, Window, float], np.ndarray | None] | None = None) -> tuple[Boxes, bool]:
    """The boxes of one image; where the image was read by word, those of its maps averaged
    with more looks at it: the zoom look (``zoom_words`` above 1; :mod:`models.zoom`), then
    the mirror look (``mirror_words``, not for an image with a line kept whole as CJK), each in
    the :func:`~models.window.text_window` of the maps so far (``zoom_margin``, ``mirror_margin``;
    ``whole``: everywhere, for fixed-shape models; an image with a CJK line: everywhere, at most
    ``zoom_cjk``). ``zoomed_maps(with_words, window, factor)`` gives :func:`all_maps` of that
    window of the input, enlarged ``factor`` times, shrunk back to the window's shape (None: this
    backend or size cannot zoom); ``mirrored_maps(with_words, window)`` gives them
    for that window of the input, mirrored, not flipped back. The word map
    is in them where ``with_words`` (the post-processing reads it: ``word_map`` on). Each is
    called only for the images that get that look. Returns the boxes and whether another look ran."""
    boxes = post(lines, info, gray, words=words)
    cfg = post.config
    if not boxes.reading.words:
        return boxes, False
    zoom = zoomed_maps is not None and cfg.zoom_words > 1.0
    mirror = cfg.mirror_words and not boxes.reading.cjk
    if not (zoom or mirror):
        return boxes, False
    with_words = cfg.word_map
    maps = all_maps(lines, words if with_words else None)
    looked = False
    if zoom:
        # an image with a line kept whole as CJK is read as before 2026-11-28's twenty-fifth stop,
        # the whole of it at most 1.25x (zoom_cjk): larger looks cut mixed Chinese and Latin lines
        cjk = boxes.reading.cjk
        factor = min(cfg.zoom_words, cfg.zoom_cjk) if cjk else cfg.zoom_words
        window = Window.whole(maps.shape) if whole or cjk else text_window(maps, info, cfg.zoom_margin)
        zoomed = zoomed_maps(with_words, window, factor) if window is not None and factor > 1.0 else None
        if zoomed is not None:
            maps = average_in_window(maps, zoomed, window)
            looked = True
    if mirror:
        window = Window.whole(maps.shape) if whole else text_window(maps, info, cfg.mirror_margin)
        if window is not None:
            maps = average_with_mirror(maps, mirrored_maps(with_words, window), window)
            looked = True
    return (post(maps, info, gray), True) if looked else (boxes, False)
