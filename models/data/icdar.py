"""ICDAR-2015 dataset layout: reading, validating and writing.

Layout (the seed WebUI's)::

    DIR/train_images/  DIR/train_gts/  DIR/train_list.txt
    DIR/test_images/   DIR/test_gts/   DIR/test_list.txt

List files hold one image name per line, or ``train_images/x.jpg train_gts/gt_x.txt``
per line. Ground truth is ``gt_<stem>.txt`` or ``<stem>.txt``, UTF-8 with or without
BOM, one region per line: ``x1,y1,...,xn,yn,transcription`` (n >= 4; more than 4 points
is a polygon; the transcription may itself contain commas; ``###`` marks a region to
ignore). ICDAR 2013 lines, ``left, top, right, bottom, "text"`` (commas or spaces), are
read in the same folders as axis-aligned quads. A folder with a PaddleOCR label file
instead (``label.txt``, ``Label.txt`` or ``<split>_label.txt``) is read by
:mod:`models.data.paddle_label`. Every problem is reported with the file and line number
before training starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

from ..image_types import IMAGE_EXTS
from .paddle_label import find_label_file, read_label_file
from .regions import IGNORE_TEXT, DatasetError, Region, Sample


@dataclass
class DatasetSummary:
    root: Path
    splits: Dict[str, int]          # split -> number of images
    regions: Dict[str, int]         # split -> number of regions (ignored included)

    def __str__(self) -> str:
        parts = [f"{s}: {self.splits[s]} images, {self.regions[s]} regions" for s in self.splits]
        return f"{self.root} — " + "; ".join(parts)


def _rect_region(coords: List[float], text: str, where: str) -> Region:
    """An ICDAR 2013 ``left, top, right, bottom`` box as a clockwise quad."""
    left, top, right, bottom = coords
    if not all(np.isfinite(coords)):
        raise DatasetError(f"{where}: coordinates must be finite numbers")
    if right < left or bottom < top:
        raise DatasetError(f"{where}: ICDAR 2013 box 'left, top, right, bottom' needs right >= left and "
                           f"bottom >= top (got {left:g}, {top:g}, {right:g}, {bottom:g})")
    pts = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32)
    # A zero-width box (a lone stroke in the official labels) cannot be learnt: don't care.
    return Region(pts, text, ignore=(text == IGNORE_TEXT or right == left or bottom == top))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':   # quoted: commas or quotes inside
        return text[1:-1].replace('""', '"').replace('\\"', '"')
    return text


def _parse_icdar2013_spaces(line: str) -> Tuple[List[float], str] | None:
    """``38 43 920 215 "Tiredness"`` (ICDAR 2013 focused scene text); None if not that form."""
    parts = line.split(None, 4)
    if len(parts) < 4:
        return None
    try:
        coords = [float(v) for v in parts[:4]]
    except ValueError:
        return None
    return coords, (parts[4].strip() if len(parts) > 4 else "")


def parse_gt_line(line: str, where: str) -> Region | None:
    """Parse one ground-truth line (ICDAR 2015 points or ICDAR 2013 box); ``None`` for blank lines."""
    line = line.strip().lstrip("\ufeff")
    if not line:
        return None
    spaced = _parse_icdar2013_spaces(line) if "," not in line.split(None, 1)[0] else None
    if spaced is not None:
        return _rect_region(spaced[0], _unquote(spaced[1]), where)
    fields = line.split(",")
    coords: List[float] = []
    for f in fields:
        try:
            coords.append(float(f))
        except ValueError:
            break
    k = len(coords)   # index of the first field that is not a number
    if k == len(fields) and len(coords) > 9:
        # Every field numeric and more than 4 points: an ICDAR line always ends with its
        # transcription, so a number written with commas ("12,345.00") is the text of a
        # quad, not a polygon's extra points.
        coords, k = coords[:8], 8
    elif len(coords) % 2 == 1:
        # An odd count means the transcription starts with a number: give it back.
        coords.pop()
        k -= 1
    if len(coords) == 4:
        return _rect_region(coords, _unquote(",".join(fields[k:]).strip()), where)
    if len(coords) < 8:
        raise DatasetError(f"{where}: expected at least 4 points 'x1,y1,...,x4,y4,text' (ICDAR 2015) or "
                           f"'left, top, right, bottom, \"text\"' (ICDAR 2013), found {len(coords)} number(s) "
                           f"in {line[:80]!r}")
    text = _unquote(",".join(fields[k:]).strip())
    pts = np.asarray(coords, np.float32).reshape(-1, 2)
    if not np.isfinite(pts).all():
        raise DatasetError(f"{where}: coordinates must be finite numbers")
    return Region(pts, text, ignore=(text == IGNORE_TEXT))


def read_gt(path: Path) -> List[Region]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc})") from exc
    regions = []
    for n, line in enumerate(text.splitlines(), start=1):
        r = parse_gt_line(line, f"{path}, line {n}")
        if r is not None:
            regions.append(r)
    return regions


def find_gt(gt_dir: Path, rel: Path, flat_stems: Sequence[str] = ()) -> Path | None:
    """The ground-truth file of the image at ``rel`` (relative to its images folder): the one
    lookup of the training reader and the evaluator.

    ``gt_<stem>.txt`` or ``<stem>.txt``, first beside the image's relative path under
    ``gt_dir`` (``gts/invoices/gt_a.txt``), then flat in it; ``flat_stems`` adds flat names
    (the evaluator's ``sub__dir__a``).
    """
    names = (f"gt_{rel.stem}.txt", f"{rel.stem}.txt")
    candidates = [gt_dir / rel.parent / n for n in names] + [gt_dir / n for n in names]
    candidates += [gt_dir / f"{prefix}{stem}.txt" for stem in flat_stems for prefix in ("gt_", "")]
    return next((p for p in candidates if p.is_file()), None)


def _list_entries(root: Path, split: str) -> List[Tuple[Path, Path | None, str]]:
    """(image path, gt path or None, where) from the list file, or the folder when absent."""
    img_dir = root / f"{split}_images"
    list_file = root / f"{split}_list.txt"
    entries: List[Tuple[Path, Path | None, str]] = []
    if list_file.is_file():
        text = list_file.read_bytes().decode("utf-8-sig", errors="replace")
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            where = f"{list_file}, line {n}"
            parts = line.split()
            if len(parts) >= 2 and ("/" in parts[0] or "\\" in parts[0]) and parts[-1].endswith(".txt"):
                # `train_images/x.jpg train_gts/gt_x.txt` (the gt may not contain spaces)
                img_rel = line[: line.rfind(parts[-1])].strip()
                entries.append((root / img_rel, root / parts[-1], where))
            else:
                img = img_dir / line
                entries.append((img, None, where))
    else:
        for p in sorted(img_dir.iterdir()):
            if p.suffix.lower() in IMAGE_EXTS:
                entries.append((p, None, str(p)))
    return entries


def has_split(root: str | Path, split: str) -> bool:
    """Whether the folder holds this split in any layout we read."""
    root = Path(root)
    return (root / f"{split}_images").is_dir() or find_label_file(root, split) is not None


def read_split(root: str | Path, split: str = "train") -> List[Sample]:
    """All samples of a split, validated. Raises :class:`DatasetError` on any problem."""
    root = Path(root)
    img_dir, gt_dir = root / f"{split}_images", root / f"{split}_gts"
    label_file = None if img_dir.is_dir() else find_label_file(root, split)
    if label_file is not None:
        return read_label_file(label_file)
    if not img_dir.is_dir():
        raise DatasetError(f"{root}: missing folder {split}_images/ (expected the ICDAR-2015 layout: "
                           f"{split}_images/, {split}_gts/, {split}_list.txt; or a PaddleOCR label file "
                           f"{'label.txt or ' if split == 'train' else ''}{split}_label.txt)")
    if not gt_dir.is_dir():
        raise DatasetError(f"{root}: missing folder {split}_gts/ beside {split}_images/")
    samples = []
    for img, gt, where in _list_entries(root, split):
        if not img.is_file():
            raise DatasetError(f"{where}: image {img} does not exist")
        if img.suffix.lower() not in IMAGE_EXTS:
            raise DatasetError(f"{where}: {img.name} is not an image file ({', '.join(IMAGE_EXTS)})")
        gt = gt or find_gt(gt_dir, img.relative_to(img_dir) if img.is_relative_to(img_dir) else Path(img.name))
        if gt is None or not gt.is_file():
            raise DatasetError(f"{where}: no ground truth for {img.name} (expected {gt_dir}/gt_{img.stem}.txt "
                               f"or {gt_dir}/{img.stem}.txt)")
        samples.append(Sample(img, gt, read_gt(gt)))
    if not samples:
        raise DatasetError(f"{root}: the {split} split has no images")
    return samples


def validate_dataset(root: str | Path, splits: Sequence[str] = ("train", "test"),
                     required: Sequence[str] = ("train",)) -> DatasetSummary:
    """Check a dataset folder before training; the test split is optional."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found")
    counts, regions = {}, {}
    for split in splits:
        if split not in required and not has_split(root, split):
            continue
        samples = read_split(root, split)
        counts[split] = len(samples)
        regions[split] = sum(len(s.regions) for s in samples)
    return DatasetSummary(root, counts, regions)


def format_gt(regions: Iterable[Tuple[np.ndarray, str]]) -> str:
    """Ground-truth file text for (points, transcription) pairs."""
    lines = []
    for pts, text in regions:
        coords = ",".join(str(int(round(v))) for v in np.asarray(pts).reshape(-1))
        if "," in text or (text.startswith('"') and text.endswith('"')):
            # quoted, so "1,200,000 元" cannot be read back as two more polygon points
            text = '"' + text.replace('"', '""') + '"'
        lines.append(f"{coords},{text}")
    return "\n".join(lines) + ("\n" if lines else "")
