"""Run folders of the WebUI: where a request's files land, and zipping them for download.

Single images go to ``outputs/outputs_YYYYMMDDHHMMSS/{visualization,json}/`` (the seed's
layout); batch uploads to ``outputs/batch_YYYYMMDDHHMMSS/``; a server folder always to the
same ``outputs/batch_<name>_<hash>/`` so that submitting it again resumes it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

from models.detector import DetectionResult
from models.files import atomic_write_text, atomic_writer

from .outputs import ResultWriter

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def timestamp() -> str:
    return time.strftime("%Y%m%d%H%M%S")


def safe_stem(name: str, fallback: str = "image") -> str:
    """A file-system-safe stem from an uploaded file name (keeps CJK letters)."""
    stem = _UNSAFE.sub("_", Path(name or "").stem).strip("._")
    return stem[:80] or fallback


def unique_stem(folder: Path, stem: str, suffix: str = ".json") -> str:
    """``stem``, or ``stem_2``, ``stem_3``... when a file of that name already exists."""
    candidate, n = stem, 1
    while (folder / f"{candidate}{suffix}").exists():
        n += 1
        candidate = f"{stem}_{n}"
    return candidate


def save_single(out_root: Path, name: str, result: DetectionResult, record: Dict[str, Any]) -> Tuple[Path, Path]:
    """Write one image's JSON and picture; returns (json path, visualization path)."""
    run_dir = out_root / f"outputs_{timestamp()}"
    writer = ResultWriter(run_dir, visualize=True, icdar=False)
    (run_dir / "json").mkdir(parents=True, exist_ok=True)
    stem = unique_stem(run_dir / "json", safe_stem(name))
    writer.write(stem, result, record, result.image)
    return writer.json_path(stem), writer.vis_path(stem)


TABLE_COLUMNS = ["#", "score", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"]
TEXT_COLUMNS = ["text", "text_score"]


def table_columns(record: Dict[str, Any], text_columns: List[str] = TEXT_COLUMNS) -> List[str]:
    """The table's columns: with recognition, the text and its score follow the box number."""
    return TABLE_COLUMNS[:1] + text_columns + TABLE_COLUMNS[1:] if "texts" in record else TABLE_COLUMNS


def table_rows(record: Dict[str, Any]) -> List[List[Any]]:
    """One row per box in :func:`table_columns` order: the single tab's table and its CSV."""
    rows = [[i + 1, round(float(s), 4), *box]
            for i, (box, s) in enumerate(zip(record.get("boxes", []), record.get("scores", [])))]
    if "texts" in record:
        rows = [[row[0], text, round(float(ts), 4), *row[1:]]
                for row, text, ts in zip(rows, record["texts"], record["text_scores"])]
    return rows


def compact_json(record: Dict[str, Any] | None) -> str:
    """``record`` as JSON text a person reads: one key per line, and one box (or polygon) per
    line inside lists of lists, instead of one number per line. ``json.loads`` gives the
    record back unchanged."""
    if not record:
        return ""
    lines = []
    for i, (key, value) in enumerate(record.items()):
        comma = "," if i < len(record) - 1 else ""
        head = f"  {json.dumps(key, ensure_ascii=False)}: "
        if isinstance(value, list) and value and all(isinstance(v, (list, dict)) for v in value):
            items = [f"    {json.dumps(v, ensure_ascii=False)}" for v in value]
            lines.append(head + "[\n" + ",\n".join(items) + "\n  ]" + comma)
        else:
            lines.append(head + json.dumps(value, ensure_ascii=False) + comma)
    return "{\n" + "\n".join(lines) + "\n}"


def save_table_csv(json_path: Path, record: Dict[str, Any]) -> Path:
    """The table as ``<run>/csv/<stem>.csv`` beside ``<run>/json/<stem>.json`` (UTF-8 with
    a BOM, so spreadsheet programs show Chinese text correctly)."""
    columns = table_columns(record)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(table_rows(record))
    path = json_path.parent.parent / "csv" / f"{json_path.stem}.csv"
    atomic_write_text(path, "\ufeff" + buf.getvalue())
    return path


def upload_run_dir(out_root: Path) -> Path:
    """A fresh folder for one batch upload."""
    base = out_root / f"batch_{timestamp()}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}_{n}")
    path.mkdir(parents=True)
    return path


def folder_run_dir(out_root: Path, folder: Path) -> Path:
    """The same folder every time for the same server folder (so re-runs resume)."""
    digest = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:8]
    return out_root / f"batch_{safe_stem(folder.name, 'folder')}_{digest}"


def stage_uploads(files: Iterable[str], dest: Path) -> List[Path]:
    """Copy uploaded files (each in its own Gradio temp folder) into one flat folder.

    ``run_batch`` names outputs relative to one root, and the copies keep the users'
    file names, made unique when two uploads share a name.
    """
    dest.mkdir(parents=True, exist_ok=True)
    staged = []
    for f in files:
        src = Path(f)
        stem = unique_stem(dest, safe_stem(src.name), src.suffix.lower() or ".jpg")
        target = dest / f"{stem}{src.suffix.lower()}"
        shutil.copyfile(src, target)
        staged.append(target)
    return staged


def zip_results(run_dir: Path, parts: Tuple[str, ...] = ("json", "visualization", "icdar")) -> Path:
    """``<run_dir>.zip`` with the result folders and the manifest/summary (not the inputs)."""
    target = run_dir.with_suffix(".zip")
    with atomic_writer(target) as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in ("manifest.json", "summary.json"):
            if (run_dir / name).is_file():
                zf.write(run_dir / name, f"{run_dir.name}/{name}")
        for part in parts:
            folder = run_dir / part
            if folder.is_dir():
                for p in sorted(folder.iterdir()):
                    if p.is_file() and not p.name.startswith("."):
                        zf.write(p, f"{run_dir.name}/{part}/{p.name}")
    return target

