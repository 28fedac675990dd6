"""Real photographs as backgrounds for scene text and as text-free negatives.

Procedural backgrounds teach the detector that grass and fences are not text only up to
a point: real street photos have lighting, depth and clutter no generator draws. Debian
ships licence-clean photographs in its wallpaper packages (gnome-backgrounds,
mate-backgrounds, lomiri-wallpapers, ukui-wallpapers, plasma-workspace-wallpapers), so
the renderer uses every photo it finds there, or in the folders named by
``SYNTH_PHOTO_DIRS`` (``:``-separated). Without any, it falls back to procedural scenes.

Wallpapers are up to 5120x2880 PNGs (half a second to decode), so each is decoded once,
shrunk to ``CACHE_LONG_SIDE`` and cached as a JPEG under ``data_cache/photo_cache/``;
renders then read the small copy. The list is sorted, so a seed gives the same images on
machines with the same packages.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np

from ..files import atomic_write_bytes

DEFAULT_PHOTO_DIRS: Tuple[str, ...] = ("/usr/share/backgrounds", "/usr/share/wallpapers")
CACHE_LONG_SIDE = 1600
MIN_SIDE = 480                       # smaller files are icons and previews, not photos
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
_SKIP_WORDS = ("screenshot", "logo", "symbolic", "transparent")   # previews and graphics with text


def photo_dirs() -> List[Path]:
    extra = [p for p in os.environ.get("SYNTH_PHOTO_DIRS", "").split(":") if p]
    return [Path(p) for p in (*extra, *DEFAULT_PHOTO_DIRS)]


def cache_dir() -> Path:
    return Path(os.environ.get("SYNTH_PHOTO_CACHE", "data_cache/photo_cache"))


def _source_files() -> List[Path]:
    files = []
    for d in photo_dirs():
        if d.is_dir():
            for p in d.rglob("*"):
                if p.suffix.lower() in PHOTO_EXTENSIONS and p.is_file() and not any(
                        w in str(p).lower() for w in _SKIP_WORDS):
                    files.append(p.resolve())
    return sorted(set(files))


def _cache_name(src: Path) -> str:
    st = src.stat()
    key = f"{src}:{st.st_size}:{int(st.st_mtime)}:{CACHE_LONG_SIDE}"
    return hashlib.sha1(key.encode()).hexdigest()[:16] + ".jpg"


def prepare_photo_cache() -> List[Path]:
    """Decode and shrink every source photo once; return the cached files (sorted)."""
    sources = _source_files()
    if not sources:
        return []
    out_dir = cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    cached = []
    for src in sources:
        dst = out_dir / _cache_name(src)
        if not dst.exists():
            img = cv2.imread(str(src), cv2.IMREAD_COLOR)
            if img is None or min(img.shape[:2]) < MIN_SIDE:
                continue
            s = CACHE_LONG_SIDE / max(img.shape[:2])
            if s < 1:
                img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])
            if ok:
                atomic_write_bytes(dst, buf.tobytes())
        cached.append(dst)
    return sorted(cached)


@lru_cache(maxsize=1)
def photo_library() -> Tuple[str, ...]:
    """Cached photo files available to this process (empty: use procedural backgrounds)."""
    d = cache_dir()
    if not d.is_dir() or not any(d.glob("*.jpg")):
        try:
            prepare_photo_cache()
        except OSError:
            return ()
    return tuple(str(p) for p in sorted(d.glob("*.jpg")) if not p.name.endswith(".tmp.jpg"))


def random_photo_crop(rng: np.random.Generator, w: int, h: int) -> np.ndarray | None:
    """A ``h``x``w`` RGB crop of a random photo at a random scale, or None without photos."""
    lib = photo_library()
    if not lib:
        return None
    bgr = cv2.imread(lib[int(rng.integers(len(lib)))], cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    ph, pw = bgr.shape[:2]
    # the crop covers 25-100 % of the photo's short side, so details and wide views both occur
    cover = max(w / pw, h / ph)
    zoom = cover * rng.uniform(1.0, 3.0)
    cw, ch = min(pw, int(round(w / zoom))), min(ph, int(round(h / zoom)))
    x0 = int(rng.integers(0, pw - cw + 1))
    y0 = int(rng.integers(0, ph - ch + 1))
    crop = bgr[y0:y0 + ch, x0:x0 + cw]
    crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
