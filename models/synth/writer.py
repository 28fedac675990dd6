"""Writing a rendered set in the ICDAR-2015 layout (images, ground truth, list file, the
category of each image and the settings), resumable: images already present are kept."""
from __future__ import annotations

import json
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, Tuple

import cv2

from ..data.icdar import IGNORE_TEXT, format_gt
from ..files import atomic_write_bytes, atomic_write_text
from ..progress import ProgressFn
from .photos import prepare_photo_cache
from .render import render_sample
from .types import DEFAULT_CONFIG, SynthConfig


def _write_one(args: Tuple[int, SynthConfig, str, str, int]) -> Tuple[str, str, int]:
    index, cfg, root, split, quality = args
    name = f"img_{index:06d}"
    img_path = Path(root) / f"{split}_images" / f"{name}.jpg"
    gt_path = Path(root) / f"{split}_gts" / f"gt_{name}.txt"
    if img_path.is_file() and gt_path.is_file():      # cached: deterministic, so reuse
        return name, "", 0
    s = render_sample(index, cfg)
    gt = format_gt((it.quad, IGNORE_TEXT if it.ignore else it.text.replace("\n", " ")) for it in s.items)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    atomic_write_bytes(img_path, buf.tobytes())
    atomic_write_text(gt_path, gt)     # last: an image counts as rendered once its gt exists
    return name, s.category, len(s.items)


def write_dataset(root, count: int, cfg: SynthConfig = DEFAULT_CONFIG, split: str = "train",
                  workers: int = 1, quality: int = 95, start: int = 0,
                  progress: ProgressFn | None = None) -> Dict[str, int]:
    """Render ``count`` images into ``root`` in the ICDAR-2015 layout (``split`` + list file).

    Images already present are kept (renders are deterministic), so an interrupted run or
    a missing cache is completed by running the same command again. Returns counts per category.
    """
    root = Path(root)
    (root / f"{split}_images").mkdir(parents=True, exist_ok=True)
    (root / f"{split}_gts").mkdir(parents=True, exist_ok=True)
    if cfg.real_photo_prob > 0 and any(c in ("scene", "negative") and w > 0 for c, w in cfg.mix):
        prepare_photo_cache()   # decode the wallpapers once, before the workers start
    jobs = [(i, cfg, str(root), split, quality) for i in range(start, start + count)]
    results = []
    if workers > 1:
        with get_context("spawn").Pool(workers) as pool:
            for k, r in enumerate(pool.imap(_write_one, jobs, chunksize=8), start=1):
                results.append(r)
                if progress:
                    progress(k, count, r[0])
    else:
        for k, job in enumerate(jobs, start=1):
            results.append(_write_one(job))
            if progress:
                progress(k, count, results[-1][0])
    names = [f"img_{i:06d}.jpg" for i in range(start, start + count)]
    list_path = root / f"{split}_list.txt"
    existing = list_path.read_text(encoding="utf-8").split() if list_path.is_file() else []
    merged = sorted(set(existing) | set(names))
    list_path.write_text("\n".join(merged) + "\n", encoding="utf-8")
    categories: Dict[str, int] = {}
    meta_path = root / f"{split}_categories.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    for name, cat, _ in results:
        if cat:
            meta[name] = cat
    meta_path.write_text(json.dumps(meta, indent=0, sort_keys=True), encoding="utf-8")
    for cat in meta.values():
        categories[cat] = categories.get(cat, 0) + 1
    (root / f"{split}_synth_config.json").write_text(json.dumps(
        {"seed": cfg.seed, "mix": cfg.mix, "long_side": cfg.long_side, "photo_prob": cfg.photo_prob,
         "real_photo_prob": cfg.real_photo_prob,
         "min_text_px": cfg.min_text_px}, indent=2), encoding="utf-8")
    return categories
