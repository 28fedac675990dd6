"""Adding labelled images to a dataset folder that the trainer (and PPOCRLabel) reads.

Two layouts, both read back by :mod:`models.data.icdar`:

* ``icdar2015``: ``<split>_images/<name>``, ``<split>_gts/gt_<stem>.txt`` (one region per
  line, ``x1,y1,...,x4,y4,text``) and ``<split>_list.txt`` (one image name per line);
* ``paddle``: PPOCRLabel's own, ``images/<name>`` with ``images/Label.txt`` holding
  ``images/<name><TAB>[{"transcription": ..., "points": [[x, y], ...]}]`` lines; open the
  ``images`` folder in PPOCRLabel, or train on it with ``--data DIR/images``.

Every file is written atomically (labels, then the image, then the list that makes the
image part of the dataset), under a lock, so a crash or a second writer never leaves a
half-written dataset; adding to an existing folder appends and never renames or
overwrites what is there (a name already taken gets ``_2``, ``_3``...).
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageOps

from ..files import atomic_write_bytes, atomic_write_text, exclusive_lock
from ..image_types import IMAGE_EXTS
from .icdar import format_gt
from .paddle_label import find_label_file
from .regions import DatasetError

LAYOUTS = ("icdar2015", "paddle")
SPLITS = ("train", "test")
PADDLE_FOLDER = "images"
PADDLE_LABEL = "Label.txt"
LOCK_NAME = ".dataset.lock"
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)

Labels = Sequence[Tuple[np.ndarray, str]]   # (K x 2 points, transcription; "###" = don't care)


@dataclass(frozen=True)
class NewImage:
    """One image to add: its file, its labels, and optionally the name it gets."""

    source: Path
    labels: Labels
    name: str | None = None


@dataclass(frozen=True)
class AddedImage:
    """Where one added image went."""

    image: Path
    labels: Path
    regions: int


def clean_stem(name: str, fallback: str = "image") -> str:
    """A file-system-safe stem (keeps CJK letters) from a user's or a file's name."""
    stem = _UNSAFE.sub("_", Path(name or "").stem).strip("._")
    return stem[:80] or fallback


def _image_bytes(source: Path) -> Tuple[bytes, str]:
    """(bytes to store, extension): the file as is, or, when EXIF asks for a rotation, the
    upright pixels as PNG, so boxes measured on the upright image fit every reader."""
    data = source.read_bytes()
    ext = source.suffix.lower()
    with Image.open(source) as im:
        orientation = im.getexif().get(274, 1)
        if orientation in (None, 1) and ext in IMAGE_EXTS:
            return data, ext
        upright = ImageOps.exif_transpose(im).convert("RGB")
    buf = io.BytesIO()
    upright.save(buf, format="PNG")
    return buf.getvalue(), ".png"


def _check_labels(labels: Labels, where: str) -> List[Tuple[np.ndarray, str]]:
    out = []
    for k, (pts, text) in enumerate(labels, start=1):
        try:
            p = np.asarray(pts, np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            p = np.zeros((0, 2))
        if len(p) < 4 or not np.isfinite(p).all():
            raise DatasetError(f"{where}, box {k}: needs at least 4 finite points x, y (got {pts!r:.200})")
        if "\n" in str(text) or "\r" in str(text) or "\t" in str(text):
            raise DatasetError(f"{where}, box {k}: the text may not contain line breaks or tabs")
        out.append((np.rint(p).astype(np.int64), str(text)))
    return out


def _unique_name(stem: str, ext: str, taken: Callable[[str], bool]) -> str:
    """``stem+ext``, or ``stem_2+ext``, ``stem_3+ext``... the first name ``taken`` refuses."""
    name, n = f"{stem}{ext}", 1
    while taken(name):
        n += 1
        name = f"{stem}_{n}{ext}"
    return name


def _append_lines(path: Path, lines: Sequence[str]) -> None:
    """Rewrite ``path`` atomically with ``lines`` added (a partial append cannot happen)."""
    old = path.read_bytes().decode("utf-8-sig") if path.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    atomic_write_text(path, old + "".join(f"{line}\n" for line in lines))


def _prepared(item: NewImage) -> Tuple[bytes, str, Labels]:
    """(bytes to store, extension, checked labels) of an item, or the reason it cannot be added."""
    if not item.source.is_file():
        raise FileNotFoundError(f"image {item.source} not found")
    labels = _check_labels(item.labels, str(item.source))
    try:
        data, ext = _image_bytes(item.source)
    except (OSError, Image.DecompressionBombError) as exc:
        raise DatasetError(f"{item.source}: not a readable image ({exc})") from None
    return data, ext, labels


def paddle_line(rel: str, labels: Labels) -> str:
    """One PaddleOCR label line: ``rel<TAB>[{"transcription", "points"}, ...]``."""
    items = [{"transcription": text, "points": np.asarray(pts).reshape(-1, 2).astype(int).tolist(),
              "difficult": text == "###"} for pts, text in labels]
    return f"{rel}\t{json.dumps(items, ensure_ascii=False)}"


class DatasetWriter:
    """Appends labelled images to ``root`` in one of :data:`LAYOUTS`.

    The caller decides whether ``root`` may be written (the WebUI checks the allowed
    roots); the writer creates it when missing.
    """

    def __init__(self, root: str | Path, layout: str = "icdar2015") -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"dataset layout must be one of {', '.join(LAYOUTS)} (got {layout!r})")
        self.root = Path(root)
        self.layout = layout
        if layout == "icdar2015":
            label = self.root / PADDLE_FOLDER / PADDLE_LABEL
            label = label if label.is_file() else find_label_file(self.root, "train")
            if label is not None:   # ICDAR folders beside it would hide its labels from the reader
                raise DatasetError(f"{self.root} holds a PaddleOCR label file ({label.name}); add to it with "
                                   "the paddle layout, or choose another folder")

    def add(self, source: str | Path, labels: Labels, split: str = "train", name: str | None = None) -> AddedImage:
        """Store the image file ``source`` with ``labels`` (points in its upright pixels).

        Args:
            name: the stored image's stem (default: ``source``'s); made safe and unique.
            split: ``train`` or ``test`` (the PaddleOCR layout has one split, train).
        """
        return self.add_many([NewImage(Path(source), labels, name)], split)[0]

    def add_many(self, items: Iterable[NewImage], split: str = "train",
                 on_error: Callable[[NewImage, Exception], None] | None = None) -> List[AddedImage]:
        """Store several images under one lock and one update of the list (or label) file.

        An item that cannot be added (missing or unreadable image, bad labels) raises, or,
        with ``on_error``, is reported to it and skipped. A write error (disk full) raises.
        Either way every image written before is listed: the dataset stays whole.
        """
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)} (got {split!r})")
        if self.layout == "paddle" and split != "train":
            raise ValueError("the PaddleOCR layout holds one split (train); use icdar2015 for a test split")
        if self.layout == "paddle":
            folder = self.root / PADDLE_FOLDER
            label_file = folder / PADDLE_LABEL
        else:
            folder, label_file = self.root / f"{split}_images", self.root / f"{split}_list.txt"
        added: List[AddedImage] = []
        lines: List[str] = []
        with exclusive_lock(self.root / LOCK_NAME):   # one writer per dataset folder
            # An ICDAR folder without a list is read by listing it: a new list would hide its images.
            listed = self.layout == "paddle" or label_file.is_file() or not (folder.is_dir() and any(folder.iterdir()))
            try:
                for item in items:
                    try:
                        data, ext, labels = _prepared(item)
                    except (OSError, ValueError) as exc:
                        if on_error is None:
                            raise
                        on_error(item, exc)
                        continue
                    stem = clean_stem(item.name or item.source.name)
                    if self.layout == "paddle":
                        done, line = self._write_paddle(data, ext, stem, labels)
                    else:
                        done, line = self._write_icdar(data, ext, stem, labels, split)
                    added.append(done)
                    lines.append(line)
            finally:
                if lines and listed:
                    _append_lines(label_file, lines)
        return added

    def _write_icdar(self, data: bytes, ext: str, stem: str, labels: Labels, split: str) -> Tuple[AddedImage, str]:
        images, gts = self.root / f"{split}_images", self.root / f"{split}_gts"
        # Any file of that stem (an image of another type, a stray gt) is never overwritten.
        name = _unique_name(stem, ext, lambda n: any(images.glob(f"{Path(n).stem}.*"))
                            or (gts / f"gt_{Path(n).stem}.txt").exists() or (gts / f"{Path(n).stem}.txt").exists())
        image, gt = images / name, gts / f"gt_{Path(name).stem}.txt"
        atomic_write_text(gt, format_gt(labels))   # before the image: a listless folder never shows one without
        atomic_write_bytes(image, data)
        return AddedImage(image, gt, len(labels)), name

    def _write_paddle(self, data: bytes, ext: str, stem: str, labels: Labels) -> Tuple[AddedImage, str]:
        folder = self.root / PADDLE_FOLDER
        name = _unique_name(stem, ext, lambda n: any(folder.glob(f"{Path(n).stem}.*")))
        atomic_write_bytes(folder / name, data)
        return AddedImage(folder / name, folder / PADDLE_LABEL, len(labels)), paddle_line(f"{PADDLE_FOLDER}/{name}",
                                                                                          labels)


def training_folder(root: str | Path, layout: str) -> Path:
    """The folder to pass as ``train --data`` for a dataset written in ``layout``."""
    return Path(root) / PADDLE_FOLDER if layout == "paddle" else Path(root)
