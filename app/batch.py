"""Resumable batch detection over files, shared by the CLI and the WebUI's batch tab.

An image counts as done when its JSON exists (written last, atomically), so a run that
was killed resumes where it stopped and handles every image exactly once.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

from models import TextDetector

from .outputs import ResultWriter, atomic_write_text, output_stem, summarize

ProgressFn = Callable[[int, int, Dict[str, Any]], None]


@dataclass
class BatchReport:
    total: int
    skipped: int
    records: List[Dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False

    @property
    def summary(self) -> Dict[str, Any]:
        s = summarize(self.records)
        s.update(total=self.total, skipped=self.skipped, cancelled=self.cancelled)
        return s


def run_batch(detector: TextDetector, files: Sequence[Path], root: Path, out_dir: Path,
              overrides: Dict[str, Any] | None = None, overwrite: bool = False,
              progress: ProgressFn | None = None, cancel: threading.Event | None = None,
              chunk: int = 8) -> BatchReport:
    """Detect ``files`` (found under ``root``) and write results under ``out_dir``.

    ``progress(done, total, record)`` is called after each image; setting ``cancel``
    stops after the current image, leaving a consistent, resumable folder.
    """
    writer = ResultWriter(out_dir)
    overrides = overrides or {}
    stems = [output_stem(f, root) for f in files]
    todo = [(f, s) for f, s in zip(files, stems) if overwrite or not writer.is_done(s)]
    report = BatchReport(total=len(files), skipped=len(files) - len(todo))
    params = detector.config.with_overrides(**overrides).params()
    atomic_write_text(out_dir / "manifest.json", json.dumps({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "root": str(root), "model": detector.model_id,
        "params": params, "images": [str(f) for f in files]}, ensure_ascii=False, indent=2))
    done = report.skipped
    for start in range(0, len(todo), chunk):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        part = todo[start:start + chunk]
        results = detector.detect_many([str(f) for f, _ in part], names=[str(f) for f, _ in part],
                                       keep_image=True, **overrides)
        for (f, stem), result in zip(part, results):
            record = result.to_json(detector.model_id, params)
            record["image_path"] = str(f)
            writer.write(stem, result, record, result.image)
            result.image = None
            report.records.append(record)
            done += 1
            if progress is not None:
                progress(done, len(files), record)
            if cancel is not None and cancel.is_set() and done < len(files):
                report.cancelled = True
                break
        if report.cancelled:
            break
    atomic_write_text(out_dir / "summary.json", json.dumps(report.summary, ensure_ascii=False, indent=2))
    return report
