"""Resumable batch detection over files, shared by the CLI and the WebUI's batch tab.

An image counts as done when its JSON exists (written last, atomically), so a run that
was killed (even with ``kill -9``) resumes where it stopped and handles every image
exactly once. One run at a time owns an output folder (an advisory lock, released by the
kernel when the process dies), which is what makes clearing a dead run's temporary files
at the start safe. ``manifest.json`` records what a run was asked to do and with which
model and parameters; ``summary.json`` what it did.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, Iterator, List, Sequence, Tuple

from app.web import wording as W  # the batch tab shows this runner's messages
from models import DetectionResult, TextDetector
from models.files import atomic_write_text
from models.progress import ProgressFn
from models.recognition import TextRecognizer

from .outputs import FolderSink, ResultWriter, output_stems, summarize

try:
    import fcntl
except ImportError:   # not POSIX: no lock; one run per folder is then the user's job
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class FolderBusyError(RuntimeError):
    """Another run is writing into the same output folder right now."""


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock`` exclusively for the block, or raise :class:`FolderBusyError`.

    ``flock`` locks die with their process, so a killed run never leaves the folder
    locked; the lock file itself stays (removing it would race with the next run).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(W.FOLDER_BUSY.format(folder=out_dir)) from None
        yield
    finally:
        os.close(fd)   # also releases the lock


@dataclass
class BatchReport:
    total: int
    skipped: int
    records: List[Dict[str, Any]] = field(default_factory=list)       # processed by this run
    cancelled: bool = False
    earlier: List[Dict[str, Any]] = field(default_factory=list)       # done before, same model and settings
    redone: int = 0                     # had results from another model or other settings
    engine: Dict[str, Any] = field(default_factory=dict)              # an engine's own figures (Ray)

    @property
    def summary(self) -> Dict[str, Any]:
        """This run's counts, plus ``folder``: the whole output folder (earlier runs + this one)."""
        s = summarize(self.records)
        s.update(total=self.total, skipped=self.skipped, redone=self.redone, cancelled=self.cancelled,
                 folder=summarize(self.earlier + self.records))
        if self.engine:
            s["engine"] = self.engine
        return s


def plan_batch(writer: ResultWriter, files: Sequence[Path], root: Path, model: str,
               params: Dict[str, Any], overwrite: bool) -> Tuple[List[Tuple[Path, str]], BatchReport]:
    """Split ``files`` into (file, output stem) pairs still to do and a report holding the
    results already done by ``model`` with ``params``; one resume rule for every engine."""
    stems = output_stems(files, root)
    params_json = json.loads(json.dumps(params))      # tuples as lists, as the records hold them
    todo, earlier, redone = [], [], 0
    for f, s in zip(files, stems):
        record = None if overwrite else writer.done_record(s, f)
        if record is not None and writer.made_with(record, model, params_json):
            earlier.append(record)
            continue
        todo.append((f, s))
        redone += record is not None          # done, but by another model or with other settings
    return todo, BatchReport(total=len(files), skipped=len(earlier), earlier=earlier, redone=redone)


def write_manifest(out_dir: Path, root: Path, model: str, params: Dict[str, Any], files: Sequence[Path],
                   report: BatchReport, to_do: int, stale: int, extra: Dict[str, Any] | None = None) -> None:
    """``manifest.json``: what this run was asked to do, with which model and settings."""
    atomic_write_text(out_dir / "manifest.json", json.dumps({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "root": str(root), "model": model,
        "params": params, "total": len(files), "already_done": report.skipped, "to_do": to_do,
        "redone_for_new_settings": report.redone,
        "stale_temp_files_removed": stale, **(extra or {}), "images": [str(f) for f in files]},
        ensure_ascii=False, indent=2))


def run_batch(detector: TextDetector, files: Sequence[Path], root: Path, out_dir: Path,
              overrides: Dict[str, Any] | None = None, overwrite: bool = False,
              progress: ProgressFn | None = None, cancel: threading.Event | None = None,
              write_backlog: int = 4, recognizer: TextRecognizer | None = None,
              runner: Any = None) -> BatchReport:
    """Detect ``files`` (found under ``root``) and write results under ``out_dir``.

    ``progress(done, total, record)`` is called after each image is written, in input
    order; setting ``cancel`` stops after the images already detected are written, leaving
    a consistent, resumable folder. At most ``write_backlog`` results wait for the writer
    thread (their decoded images are held in memory until then). With ``recognizer``, each
    record also gets ``texts`` and ``text_scores``, and its ``params`` a ``recognition`` entry
    (so results made with and without recognition never count as each other's). ``runner``
    detects instead of ``detector.detect_many``: a :class:`models.gpu_stream.GpuStream` over it
    (``--engine gpu``) writes the files of its successful images in its own processes
    (:class:`FolderSink`, pictures drawn on a reduced CPU decode).

    Raises:
        FolderBusyError: another run is writing into ``out_dir``.
    """
    if runner is not None and recognizer is not None:
        raise ValueError("recognition needs the decoded images on the CPU: run it with the local engine")
    with folder_lock(out_dir):
        return _run_locked(detector, files, root, out_dir, overrides, overwrite, progress, cancel, write_backlog,
                           recognizer, runner)


def _stream_to_files(stream: Any, detector: TextDetector, todo: Sequence[Tuple[Path, str]], writer: ResultWriter,
                     params: Dict[str, Any], overrides: Dict[str, Any], report: BatchReport, done: int, total: int,
                     progress: ProgressFn | None, cancel: threading.Event | None) -> int:
    """The folder through a GpuStream whose processes write each successful image's files
    (:class:`FolderSink`); this thread writes the failures and keeps the report. Returns the
    count of images done."""
    sink = FolderSink(str(writer.out_dir), detector.model_id, params)
    paths = [str(f) for f, _ in todo]
    keys = [(stem, str(f)) for f, stem in todo]
    results = stream.detect_files(paths, names=paths, sink=sink, keys=keys, **overrides)
    try:
        for (f, stem), result in zip(todo, results):
            record = result.to_json(detector.model_id, params)
            record["image_path"] = str(f)
            if not result.success:
                writer.write(stem, result, record)     # a failure has no picture
            report.records.append(record)
            done += 1
            if progress is not None:
                progress(done, total, record)
            if cancel is not None and cancel.is_set():
                break
    finally:
        results.close()        # files already handed to the processes are written (atomically) or not at all
    return done


def result_params(detector: TextDetector, overrides: Dict[str, Any] | None,
                  recognizer: TextRecognizer | None = None) -> Dict[str, Any]:
    """The ``params`` of a result record: the detector's settings with this call's overrides,
    plus the recogniser's when it reads the text. One rule for the single tab and folder runs,
    since resuming compares them."""
    params = detector.config.with_overrides(**(overrides or {})).params()
    if recognizer is not None:
        params["recognition"] = recognizer.params()
    return params


def _run_locked(detector: TextDetector, files: Sequence[Path], root: Path, out_dir: Path,
                overrides: Dict[str, Any] | None, overwrite: bool, progress: ProgressFn | None,
                cancel: threading.Event | None, write_backlog: int,
                recognizer: TextRecognizer | None = None, runner: Any = None) -> BatchReport:
    writer = ResultWriter(out_dir)
    stale = writer.remove_stale_temp_files()   # a killed run's half-written files
    # a runner that fixes some settings (GpuStream reads every image once) records them as run
    overrides = {**(overrides or {}), **getattr(runner, "FIXED_SETTINGS", {})}
    params = result_params(detector, overrides, recognizer)
    todo, report = plan_batch(writer, files, root, detector.model_id, params, overwrite)
    write_manifest(out_dir, root, detector.model_id, params, files, report, len(todo), stale)
    done = report.skipped
    pending: Deque[Tuple[Future, Dict[str, Any]]] = deque()

    def finish_oldest() -> None:
        nonlocal done
        future, record = pending.popleft()
        future.result()            # a write error (disk full) stops the run here, loudly
        report.records.append(record)
        done += 1
        if progress is not None:
            progress(done, len(files), record)

    def write(stem: str, result, record: Dict[str, Any]) -> None:
        writer.write(stem, result, record, result.image)
        result.image = None

    if runner is not None:
        done = _stream_to_files(runner, detector, todo, writer, params, overrides, report, done, len(files),
                                progress, cancel)
    else:
        # One stream through detect_many (decoding and post-processing overlap inference there)
        # and one writer thread, so drawing, JPEG encoding and fsync never leave the backend idle.
        paths = [str(f) for f, _ in todo]
        results = detector.detect_many(paths, names=paths, keep_image=True, **overrides)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-write") as pool:
            try:
                for (f, stem), result in zip(todo, results):
                    if recognizer is not None and result.success:
                        try:
                            recognizer.annotate(result)
                        except Exception as exc:   # ORT raises its own types; one image fails, the run goes on
                            result = DetectionResult.failure(f"text recognition failed: {exc}", result.image_path)
                    record = result.to_json(detector.model_id, params)
                    record["image_path"] = str(f)
                    pending.append((pool.submit(write, stem, result, record), record))
                    while len(pending) > write_backlog or (pending and pending[0][0].done()):
                        finish_oldest()
                    if cancel is not None and cancel.is_set():
                        break
            finally:
                results.close()          # stop decoding ahead
                while pending:
                    finish_oldest()      # images already detected are written, never half
    report.cancelled = cancel is not None and cancel.is_set() and done < len(files)
    atomic_write_text(out_dir / "summary.json", json.dumps(report.summary, ensure_ascii=False, indent=2))
    return report
