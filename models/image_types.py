"""The image file types every reader accepts: dataset folders, `detect` inputs, uploads.

One list for models/ and app/ (it has no imports, so a script that cannot import the
models package, like ``bench/pseudo_label.py`` in its own environment, can load it too).
"""
from __future__ import annotations

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".jfif")
