"""The image file types every reader accepts (dataset folders, `detect` inputs, uploads),
how a folder is searched for them, and the flat name each gets in result folders.

One list for models/ and app/ (standard library only, so a script that cannot import the
models package, like ``bench/pseudo_label.py`` in its own environment, can load it too).
`python -m app detect` names its outputs with :func:`output_stem`, and the evaluation
engine (:mod:`models.evaluation`) looks predictions up by the same names.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".jfif")


def collect_images(root: Path) -> List[Path]:
    """An image file, or every image below a folder (recursively, sorted; hidden parts skipped)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"input not found: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def output_stem(path: Path, root: Path) -> str:
    """A unique, flat name per input: ``sub/dir/x.jpg`` -> ``sub__dir__x``."""
    if root.is_file():
        return path.stem
    rel = path.relative_to(root).with_suffix("")
    return "__".join(rel.parts)
