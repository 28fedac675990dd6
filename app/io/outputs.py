"""Result files: JSON, visualization and ICDAR txt per image, written atomically.

Shared by `python -m app detect`, the WebUI's single and batch tabs. Each file goes to a
temporary name and is renamed into place, so a killed process never leaves a half file;
the JSON is written last and marks the image as done, which is what resuming checks.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import cv2
import numpy as np

from models.detector import DetectionResult
from models.files import atomic_write_bytes, atomic_write_text, remove_stale_temp_files

# collect_images and output_stem live beside the image types (models/ needs them too);
# app code keeps importing them from here.
from models.image_types import collect_images, output_stem  # noqa: F401
from models.preprocess import load_image_at_least

from .visualize import draw_boxes, draw_texts_beside


def icdar_lines(result: DetectionResult) -> str:
    """One ``x1,y1,x2,y2,x3,y3,x4,y4`` line per box (ICDAR-2015 submission format)."""
    return "".join(",".join(str(v) for v in b) + "\n" for b in result.box_list())


def output_stems(files: Sequence[Path], root: Path) -> List[str]:
    """:func:`output_stem` for each of ``files``, made unique within the run.

    ``scan.jpg`` and ``scan.png`` in one folder would both write ``json/scan.json``, and
    the second image would then count as done without ever being processed. Files whose
    plain stems collide get their extension appended (``scan_jpg``, ``scan_png``), then a
    counter if even that collides; for the same file list the names are always the same.
    """
    plain = [output_stem(f, root) for f in files]
    counts = Counter(plain)
    taken = {s for s in plain if counts[s] == 1}
    stems = []
    for f, stem in zip(files, plain):
        if counts[stem] > 1:
            base = f"{stem}_{f.suffix.lstrip('.')}" if f.suffix else stem
            stem, n = base, 1
            while stem in taken:
                n += 1
                stem = f"{base}_{n}"
            taken.add(stem)
        stems.append(stem)
    return stems


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

    def is_done(self, stem: str, image: Path | None = None) -> bool:
        return self.done_record(stem, image) is not None

    def done_record(self, stem: str, image: Path | None = None) -> Dict[str, Any] | None:
        """The finished result of ``stem``, or None when it must be (re)done.

        Done = a readable, successful JSON (written last) and the other files beside it.
        With ``image``, the JSON must also be about a file of that name: a result written
        for another file under the same output name does not count. Whether it was made
        by the current model and settings is :func:`made_with`.
        """
        jp = self.json_path(stem)
        if not jp.is_file():
            return None
        try:
            record = json.loads(jp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not record.get("success", False):
            return None  # failed images are retried on every run (the file may be fixed)
        if image is not None and Path(str(record.get("image_path", ""))).name != image.name:
            return None
        if (self.visualize and not self.vis_path(stem).is_file()) or (self.icdar and not self.icdar_path(stem).is_file()):
            return None
        return record

    @staticmethod
    def made_with(record: Dict[str, Any], model: str, params_json: Dict[str, Any]) -> bool:
        """A result of this model with these settings (``params_json``: the params as the
        JSON records store them); a rerun with a new threshold must redo the image."""
        return record.get("model") == model and record.get("params") == params_json

    def folders(self) -> List[Path]:
        """The run folder and the per-kind folders the writer puts files in."""
        return [self.out_dir, self.out_dir / "json", self.out_dir / "visualization", self.out_dir / "icdar"]

    def remove_stale_temp_files(self) -> int:
        """Clear what a killed run left half-written (see :func:`models.files.remove_stale_temp_files`)."""
        return sum(remove_stale_temp_files(folder) for folder in self.folders())

    def write(self, stem: str, result: DetectionResult, record: Dict[str, Any],
              image: np.ndarray | None = None) -> None:
        """Write the picture and ICDAR file of a success, then the JSON (last: it marks done).

        A failure writes only its JSON and removes a picture or ICDAR file left from an
        earlier success of the same name, so the folder never pairs a failure with boxes.
        """
        if not result.success:
            for stale in (self.vis_path(stem), self.icdar_path(stem)):
                stale.unlink(missing_ok=True)
        else:
            if self.icdar:
                atomic_write_text(self.icdar_path(stem), icdar_lines(result))
            if self.visualize and image is not None:
                boxes = result.boxes_in(image)   # a large JPEG was decoded (and is drawn) smaller
                vis = draw_boxes(image, boxes)
                if result.texts is not None:     # only with recognition: the picture is unchanged otherwise
                    vis = draw_texts_beside(vis, boxes, result.texts)
                ok, buf = cv2.imencode(".jpg", cv2.cvtColor(vis, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
                if ok:
                    atomic_write_bytes(self.vis_path(stem), buf.tobytes())
        atomic_write_text(self.json_path(stem), json.dumps(record, ensure_ascii=False, indent=2))


#: ``--engine gpu`` draws its pictures on the image decoded at least this long (libjpeg decodes
#: a JPEG at 1/2, 1/4 or 1/8 scale for free: a 1280 x 720 photo's picture is 640 x 360).
PICTURE_SIDE = 640


def picture_of(path: str | Path) -> np.ndarray:
    """The image to draw a picture on, decoded as the local engine decodes (EXIF, alpha on
    white, 16-bit), but small where the format allows.

    Why: ``--engine gpu`` decodes on the GPU, so the pictures need a CPU decode of their own;
    at reduced scale it costs a few milliseconds, not the network's share of a core."""
    return load_image_at_least(path, PICTURE_SIDE)


@dataclass(frozen=True)
class FolderSink:
    """Writes one image's files where its boxes are made: in the post-processing processes of
    ``GpuStream`` (``--engine gpu``): the same three files as the local engine's. Picklable: it
    holds only the folder, the model id and the run's params; ``key`` is the image's (output
    stem, path)."""

    out_dir: str
    model: str
    params: Dict[str, Any]

    def write(self, result: DetectionResult, key: Tuple[str, str]) -> None:
        stem, image_path = key
        record = result.to_json(self.model, self.params)
        record["image_path"] = image_path
        try:
            image = picture_of(image_path)
        except Exception:   # decoded on the GPU but not here: the boxes still count, the picture
            image = None    # is missing, so a rerun redoes the image
        ResultWriter(Path(self.out_dir)).write(stem, result, record, image)


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
