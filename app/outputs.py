"""Result files: JSON, visualization and ICDAR txt per image, written atomically.

Shared by `python -m app detect`, the WebUI's single and batch tabs. Each file goes to a
temporary name and is renamed into place, so a killed process never leaves a half file;
the JSON is written last and marks the image as done, which is what resuming checks.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List

import cv2
import numpy as np

from models.detector import DetectionResult

from .visualize import draw_boxes

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".jfif"}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def icdar_lines(result: DetectionResult) -> str:
    """One ``x1,y1,x2,y2,x3,y3,x4,y4`` line per box (ICDAR-2015 submission format)."""
    return "".join(",".join(str(v) for v in b) + "\n" for b in result.box_list())


def collect_images(root: Path) -> List[Path]:
    """An image file, or every image below a folder (recursively, sorted)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"input not found: {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def output_stem(path: Path, root: Path) -> str:
    """A unique, flat name per input: ``sub/dir/x.jpg`` -> ``sub__dir__x``."""
    if root.is_file():
        return path.stem
    rel = path.relative_to(root).with_suffix("")
    return "__".join(rel.parts)


@dataclass
class ResultWriter:
    """Writes ``json/``, ``visualization/`` and ``icdar/`` under ``out_dir``."""

    out_dir: Path
    visualize: bool = True
    icdar: bool = True

    def json_path(self, stem: str) -> Path:
        return self.out_dir / "json" / f"{stem}.json"

    def vis_path(self, stem: str) -> Path:
        return self.out_dir / "visualization" / f"{stem}.jpg"

    def icdar_path(self, stem: str) -> Path:
        return self.out_dir / "icdar" / f"res_{stem}.txt"

    def is_done(self, stem: str) -> bool:
        """Done = a readable JSON (written last) and the other files beside it."""
        jp = self.json_path(stem)
        if not jp.is_file():
            return False
        try:
            record = json.loads(jp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not record.get("success", False):
            return False  # failed images are retried on every run (the file may be fixed)
        return ((not self.visualize or self.vis_path(stem).is_file())
                and (not self.icdar or self.icdar_path(stem).is_file()))

    def write(self, stem: str, result: DetectionResult, record: Dict[str, Any],
              image: np.ndarray | None = None) -> None:
        if result.success:
            if self.icdar:
                atomic_write_text(self.icdar_path(stem), icdar_lines(result))
            if self.visualize and image is not None:
                vis = draw_boxes(image, result.boxes)
                ok, buf = cv2.imencode(".jpg", cv2.cvtColor(vis, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
                if ok:
                    atomic_write_bytes(self.vis_path(stem), buf.tobytes())
        atomic_write_text(self.json_path(stem), json.dumps(record, ensure_ascii=False, indent=2))


def summarize(records: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    records = list(records)
    ok = [r for r in records if r.get("success")]
    times = [r.get("inference_time", 0.0) for r in ok]
    return {
        "images": len(records),
        "succeeded": len(ok),
        "failed": len(records) - len(ok),
        "boxes": sum(len(r.get("boxes", [])) for r in ok),
        "mean_seconds": round(sum(times) / len(times), 4) if times else 0.0,
    }
