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

The mirror image is read only in a window (since the twentieth stop): the rectangle around
every pixel where the first look's maps pass :data:`WINDOW_CUE`, ``DetectorConfig.mirror_margin``
pixels wider, grown to a quarter, half, three quarters or all of each side (:func:`_span`);
outside it the first look's maps stand alone (they are below the cue there, so no box can
come from them). The validation boxes are those of the whole mirror image within 0.5 points
on every path, and a folder of street photos runs 24 % (OpenVINO) to 36 % (ONNX Runtime)
faster (training log, "The mirror look in a window"). A fixed-shape model reads the whole
mirror image.

Framework-free, like :mod:`models.postprocess`: every backend, and the tuning bench, share it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .postprocess import Boxes, DBPostProcess
from .preprocess import STRIDE, ResizeInfo

#: A word map given apart, or computed when called (a models.backends.WordMapOnDemand), or none.
Words = np.ndarray | Callable[[], np.ndarray] | None

#: The window of the mirror look holds every pixel where the first look's line or word map
#: passes this: below the detection threshold (0.3), so what the mean could lift into a box is in.
WINDOW_CUE = 0.2


@dataclass(frozen=True)
class Window:
    """Rows ``y0:y1`` and columns ``x0:x1`` of the padded input (multiples of the stride, or
    the input's own edges)."""

    y0: int
    y1: int
    x0: int
    x1: int

    @classmethod
    def whole(cls, shape: tuple) -> "Window":
        return cls(0, int(shape[-2]), 0, int(shape[-1]))

    def crop(self, tensor: np.ndarray, channels_last: bool = False) -> np.ndarray:
        """This window of one prepared image, (3, H, W) or (H, W, 3) (``channels_last``)."""
        if channels_last:
            return tensor[self.y0:self.y1, self.x0:self.x1]
        return tensor[..., self.y0:self.y1, self.x0:self.x1]


def mirror_window(maps: np.ndarray, info: ResizeInfo, margin: int) -> Window | None:
    """Where the mirror look reads: around every pixel of the image (not its padding) where
    ``maps`` ((H, W) or (C, H, W), the first look's) pass :data:`WINDOW_CUE`, ``margin`` pixels
    wider, in each direction a quarter, half, three quarters or all of the padded input
    (:func:`_span`). None: nothing passes, no second look."""
    maps = np.asarray(maps)
    h, w = maps.shape[-2:]
    content = maps[..., :info.resized_h, :info.resized_w]
    hot = (content > WINDOW_CUE).any(axis=0) if content.ndim == 3 else content > WINDOW_CUE
    rows, cols = np.flatnonzero(hot.any(axis=1)), np.flatnonzero(hot.any(axis=0))
    if not len(rows):
        return None
    (y0, y1), (x0, x1) = _span(int(rows[0]), int(rows[-1]), h, margin), _span(int(cols[0]), int(cols[-1]), w, margin)
    return Window(y0, y1, x0, x1)


def _span(first: int, last: int, size: int, margin: int) -> tuple:
    """``first``..``last`` widened by ``margin``, then grown to the smallest of a quarter, a half,
    three quarters or all of ``size`` that holds it (centred, kept inside, edges on the stride).
    Why so few sizes: OpenVINO compiles its kernels for every new input shape (60 ms for a
    320 x 640 input here, which then runs in 15 ms), and a folder of photos of one size gives
    at most 16 window shapes; ONNX Runtime has no such cost, and reads a few more pixels."""
    s = STRIDE     # window edges on the network's stride, as every input's size is
    lo, hi = max(0, first - margin), min(size, last + 1 + margin)
    for quarters in (1, 2, 3):
        length = -(-size * quarters // (4 * s)) * s
        earliest, latest = -(-max(0, hi - length) // s) * s, min(lo // s * s, size - length)
        if length < size and earliest <= latest:       # an aligned start that holds lo..hi
            centred = (lo - (length - (hi - lo)) // 2) // s * s
            start = min(max(centred, earliest), latest)
            return start, start + length
    return 0, size


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
    first = np.asarray(first, dtype=np.float32)
    mirrored = np.asarray(mirrored, dtype=np.float32)
    window = window or Window.whole(first.shape)
    inside = window.crop(first)
    if inside.shape != mirrored.shape:
        raise ValueError(f"the mirror image's maps {mirrored.shape} do not match the first look's {inside.shape}")
    out = first.copy()
    window.crop(out)[...] = (inside + mirrored[..., ::-1]) * np.float32(0.5)
    return out


def boxes_with_looks(post: DBPostProcess, lines: np.ndarray, info: ResizeInfo, gray: np.ndarray | None,
                     words: Words, mirrored_maps: Callable[[bool, Window], np.ndarray],
                     whole: bool = False,
                     zoomed_maps: Callable[[bool], np.ndarray | None] | None = None) -> tuple[Boxes, bool]:
    """The boxes of one image; where the image was read by word, those of its maps averaged
    with more looks at it: the zoom look (``zoom_words`` above 1; :mod:`models.zoom`), then
    the mirror look (``mirror_words``, not for an image with a line kept whole as CJK) in
    :func:`mirror_window` (``whole``: everywhere, for fixed-shape models).
    ``zoomed_maps(with_words)`` gives :func:`all_maps` of the enlarged input shrunk back to
    the first look's shape (None: this backend or size cannot zoom); ``mirrored_maps(with_words,
    window)`` gives them for that window of the input, mirrored, not flipped back. The word map
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
        zoomed = zoomed_maps(with_words)
        if zoomed is not None:
            maps = average_looks(maps, zoomed)
            looked = True
    if mirror:
        window = Window.whole(maps.shape) if whole else mirror_window(maps, info, cfg.mirror_margin)
        if window is not None:
            maps = average_with_mirror(maps, mirrored_maps(with_words, window), window)
            looked = True
    return (post(maps, info, gray), True) if looked else (boxes, False)


def average_looks(first: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The mean of two looks' maps of the same shape."""
    first, other = np.asarray(first, dtype=np.float32), np.asarray(other, dtype=np.float32)
    if first.shape != other.shape:
        raise ValueError(f"the other look's maps {other.shape} do not match the first look's {first.shape}")
    return (first + other) * np.float32(0.5)
