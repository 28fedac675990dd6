"""批量检测 Batch: many uploads or one server folder, through the resumable batch writer.

Uses ``app.io.batch.run_batch`` exactly like `python -m app detect`, so a cancelled or timed
out submission leaves a consistent folder, and submitting the same server folder again
continues where it stopped.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import gradio as gr

from app.io.batch import BatchReport, run_batch
from app.io.outputs import ResultWriter, collect_images, output_stems
from app.io.results_dataset import processed_folders, read_result, result_names
from app.io.runs import folder_run_dir, stage_uploads, upload_run_dir, zip_results
from app.web import wording as W
from app.web.context import WebContext
from app.web.guards import friendly_errors, is_within, resolve_allowed, user_error
from models import ImageDecodeError, load_image
from models.image_types import IMAGE_EXTS

from . import annotate
from .annotate import AnnotatePanel
from .common import (
    api_example,
    box_threshold_slider,
    granularity_radio,
    mirror_checkbox,
    overrides,
    threshold_slider,
    zoom_slider,
)


@dataclass
class BatchTab:
    files: gr.File
    folder: gr.Textbox
    thresh: gr.Slider
    box_thresh: gr.Slider
    recognize: gr.Checkbox
    granularity: gr.Radio
    mirror: gr.Checkbox
    zoom: gr.Slider
    run: gr.Button
    cancel: gr.Button
    summary: gr.Markdown
    gallery: gr.Gallery
    archive: gr.DownloadButton
    correct_panel: gr.Accordion
    results: gr.Dropdown
    pick: gr.Dropdown
    previous: gr.Button
    next: gr.Button
    correct: AnnotatePanel


def render(ctx: WebContext) -> BatchTab:
    settings = ctx.settings
    roots = ", ".join(f"`{r}`" for r in settings.storage.allowed_roots) or W.NO_ALLOWED_ROOTS
    cap = settings.limits.batch_cap
    with gr.Row():
        with gr.Column(scale=1):
            files = gr.File(file_count="multiple", file_types=sorted(IMAGE_EXTS), type="filepath",
                            label=W.BATCH_FILES.format(cap=cap), elem_id="batch-files")
            folder = api_example(gr.Textbox(label=W.BATCH_FOLDER,
                                            placeholder="/data/scans", info=W.ALLOWED_ROOTS.format(roots=roots),
                                            elem_id="batch-folder"), "/data/scans")
            thresh = threshold_slider()
            box_thresh = box_threshold_slider()
            recognize = gr.Checkbox(False, label=W.RECOGNIZE, info=W.RECOGNIZE_INFO, elem_id="batch-recognize")
            granularity = granularity_radio(elem_id="batch-granularity")
            zoom = zoom_slider(elem_id="batch-zoom")
            mirror = mirror_checkbox(elem_id="batch-mirror")
            with gr.Row():
                run = gr.Button(W.RUN_BATCH, variant="primary", elem_id="batch-run")
                cancel = gr.Button(W.CANCEL, variant="stop", elem_id="batch-cancel")
        with gr.Column(scale=1):
            summary = gr.Markdown(W.BATCH_SUMMARY_EMPTY, label=W.LABEL_SUMMARY, elem_id="batch-summary")
            archive = gr.DownloadButton(W.DOWNLOAD_RESULTS, interactive=False, elem_id="batch-archive")
    gallery = gr.Gallery(label=W.RESULTS, columns=4, height=420, elem_id="batch-gallery")
    with gr.Accordion(W.CORRECT, open=False, elem_id="batch-correct") as correct_panel:
        with gr.Row():
            results = gr.Dropdown(_folder_choices(ctx), value=None, label=W.PROCESSED_FOLDER,
                                  info=W.PROCESSED_FOLDER_INFO, elem_id="batch-results", scale=3)
            pick = gr.Dropdown([], value=None, label=W.RESULT_IMAGE, elem_id="batch-pick", scale=2)
            previous = gr.Button(W.PREVIOUS, size="sm", elem_id="batch-previous", scale=0, min_width=120)
            nxt = gr.Button(W.NEXT, size="sm", elem_id="batch-next", scale=0, min_width=120)
        correct = annotate.render(ctx, "batch")
    return BatchTab(files, folder, thresh, box_thresh, recognize, granularity, mirror, zoom, run, cancel, summary, gallery,
                    archive,
                    correct_panel, results, pick, previous, nxt, correct)


# ---------------------------------------------------------------------- correcting a processed folder
def _folder_choices(ctx: WebContext) -> List[str]:
    return [str(p) for p in processed_folders(ctx.settings.storage.output_dir)]


def processed_folder(ctx: WebContext, folder: str) -> Path:
    """A processed folder the browser named, accepted only inside this server's outputs folder."""
    out_root = ctx.settings.storage.output_dir.resolve()
    path = Path(folder or "").resolve()
    if not folder or path == out_root or not is_within(path, out_root) or not (path / "json").is_dir():
        raise user_error(W.NOT_A_RESULTS_FOLDER.format(folder=folder))
    return path


def neighbour(names: Sequence[str], current: str | None, step: int) -> str | None:
    """The name ``step`` places from ``current`` (clamped at the ends)."""
    if not names:
        return None
    if current not in names:
        return names[0]
    return names[min(max(names.index(current) + step, 0), len(names) - 1)]


def _inputs(ctx: WebContext, files: Sequence[str] | None, folder: str | None) -> Tuple[List[Path], Path, Path]:
    """(images, their root, the run folder) for an upload or an allowed server folder."""
    files = [f for f in (files or []) if f]
    folder = (folder or "").strip()
    limits, storage = ctx.settings.limits, ctx.settings.storage
    if files and folder:
        raise ValueError(W.CHOOSE_ONE)
    if files:
        if len(files) > limits.batch_cap:
            raise ValueError(W.TOO_MANY_FILES.format(cap=limits.batch_cap, got=len(files)))
        run_dir = upload_run_dir(storage.output_dir)
        staged = stage_uploads(files, run_dir / "inputs")
        return staged, run_dir / "inputs", run_dir
    if not folder:
        raise ValueError(W.NOTHING_TO_DO)
    root = resolve_allowed(folder, storage.allowed_roots)
    # rglob may walk through symlinks: keep only files that really live under the folder.
    images = [p for p in collect_images(root) if p.resolve().is_relative_to(root)]
    if not images:
        raise ValueError(W.NO_IMAGES_IN.format(folder=root, extensions=", ".join(sorted(e.lstrip(".") for e in IMAGE_EXTS))))
    return images, root, folder_run_dir(storage.output_dir, root)


def _summary(report: BatchReport, run_dir: Path, stopped: str | None) -> str:
    s = report.summary
    folder = s["folder"]
    lines = [W.SUMMARY_HEADER,
             "|---|---|---|---|---|---|",
             f"| {s['total']} | {s['images']} | {s['skipped']} | {folder['boxes']} | {folder['failed']} | "
             f"{folder['mean_seconds']:.3f} s |",
             "", W.RESULTS_FOLDER.format(folder=run_dir)]
    if s["redone"]:
        lines.append(W.REDONE.format(n=s["redone"]))
    if stopped:
        lines.append(W.STOPPED.format(why=stopped))
    failures = [r for r in report.records if not r.get("success")]
    if failures:
        lines.append(W.FAILED_IMAGES)
        lines += [f"- `{Path(r.get('image_path', '')).name}`: {r.get('error')}" for r in failures[:10]]
        if len(failures) > 10:
            lines.append(f"- ... and {len(failures) - 10} more (see the JSON files)")
    return "\n".join(lines)


def _gallery(files: Sequence[Path], root: Path, run_dir: Path, limit: int) -> List[Tuple[str, str]]:
    writer = ResultWriter(run_dir)
    items = []
    for f, stem in zip(files, output_stems(files, root)):
        vis = writer.vis_path(stem)
        if vis.is_file():
            items.append((str(vis), f.name))
            if len(items) >= limit:
                break
    return items


def cleared(message: str = W.BATCH_SUMMARY_EMPTY) -> Tuple[Any, ...]:
    """Empty summary, gallery and download: a new upload, folder or submission never shows
    the previous run's results (or a working download of them) beside the new input."""
    return message, [], gr.DownloadButton(value=None, interactive=False)


def check_uploads(files: Sequence[str] | None, max_megapixels: float) -> str:
    """The summary text for freshly uploaded files: each decoded with the detector's reader,
    the unreadable ones named with the reason (they would be reported as failed)."""
    files = [f for f in (files or []) if f]
    if not files:
        return W.BATCH_SUMMARY_EMPTY
    bad = []
    for f in files:
        try:
            load_image(f, max_megapixels, name=Path(f).name)
        except ImageDecodeError as exc:
            bad.append(f"- {exc}")
    if not bad:
        return W.BATCH_UPLOAD_CHECKED.format(n=len(files))
    return "\n".join([W.BATCH_UPLOAD_BAD.format(bad=len(bad), n=len(files)), *bad[:10]])


def listen(ctx: WebContext, ui: BatchTab) -> None:
    @friendly_errors
    def run(files, folder, thresh, box_thresh, recognize=False, granularity=None, mirror_words=None,
            zoom_words=None, request: gr.Request = None, progress=gr.Progress()):  # noqa: B008 (Gradio's way)
        opts = overrides(thresh=thresh, box_thresh=box_thresh, granularity=granularity or None,
                         mirror_words=mirror_words, zoom_words=zoom_words)
        detector = ctx.service.detector("auto")
        recognizer = ctx.service.recognizer() if recognize else None
        images, root, run_dir = _inputs(ctx, files, folder)
        session = request.session_hash if request is not None else "api"
        cancel = ctx.batch_cancels.fresh(session)
        deadline = time.monotonic() + ctx.settings.limits.long_time_limit_s
        timed_out = False

        def on_image(done: int, total: int, record: Dict[str, Any]) -> None:
            nonlocal timed_out
            progress((done, total), desc=f"{Path(record.get('image_path', '')).name}", unit="images")
            if time.monotonic() > deadline and not cancel.is_set():
                timed_out = True
                cancel.set()

        progress((0, len(images)), desc=W.STARTING, unit="images")
        try:
            report = run_batch(detector, images, root, run_dir, overrides=opts, progress=on_image, cancel=cancel,
                               recognizer=recognizer)
        finally:
            ctx.batch_cancels.release(session, cancel)
        stopped = None
        if timed_out:
            stopped = W.STOPPED_AT_LIMIT.format(seconds=ctx.settings.limits.long_time_limit_s)
        elif report.cancelled:
            stopped = W.CANCELLED
        gallery = _gallery(images, root, run_dir, ctx.settings.limits.gallery_max)
        archive = zip_results(run_dir)
        return (_summary(report, run_dir, stopped), gallery,
                gr.DownloadButton(value=str(archive), interactive=True))

    def offer_run():
        """The run just made, first in the processed-folder list, picked, with its images."""
        choices = _folder_choices(ctx)
        names = result_names(Path(choices[0])) if choices else []
        return (gr.Dropdown(choices=choices, value=choices[0] if choices else None),
                gr.Dropdown(choices=names, value=names[0] if names else None))

    def cancel(request: gr.Request):
        session = request.session_hash if request is not None else "api"
        if ctx.batch_cancels.cancel(session):
            gr.Info(W.CANCELLING_BATCH)
        else:
            gr.Info(W.NO_BATCH_RUNNING)

    outputs = [ui.summary, ui.gallery, ui.archive]
    private = dict(api_visibility="private", show_progress="hidden")
    ui.files.change(lambda files: cleared(check_uploads(files, ctx.service.config.max_megapixels)), [ui.files],
                    outputs, concurrency_limit=None, **private)
    ui.folder.change(lambda: cleared(), None, outputs, queue=False, **private)
    ui.run.click(lambda: cleared(W.STARTING), None, outputs, queue=False, **private).then(
        run, [ui.files, ui.folder, ui.thresh, ui.box_thresh, ui.recognize, ui.granularity, ui.mirror, ui.zoom], outputs,
        api_name="detect_batch",
        concurrency_id="detect", show_progress_on=[ui.summary]).success(
        offer_run, None, [ui.results, ui.pick], api_visibility="private", queue=False)
    ui.cancel.click(cancel, None, None, api_name="cancel_batch", concurrency_limit=None)
    listen_correct(ctx, ui)


def listen_correct(ctx: WebContext, ui: BatchTab) -> None:
    """A processed folder's results, image by image, into the box editor."""
    editing = [ui.correct.editor, ui.correct.source, ui.correct.name]

    @friendly_errors
    def on_folder(folder):
        if not folder:
            return gr.Dropdown(choices=[], value=None)
        names = result_names(processed_folder(ctx, folder))
        return gr.Dropdown(choices=names, value=names[0] if names else None)

    @friendly_errors
    def on_pick(folder, name):
        if not folder or not name:
            return annotate.cleared()
        try:
            record, image = read_result(processed_folder(ctx, folder), name)
        except FileNotFoundError:
            raise user_error(W.NO_SUCH_RESULT.format(name=name)) from None
        if image is None:
            raise user_error(W.UPLOAD_GONE, W.TITLE_DATASET)
        return annotate.loaded(image, record, name)

    @friendly_errors
    def on_step(folder, name, step):
        names = result_names(processed_folder(ctx, folder)) if folder else []
        return gr.Dropdown(value=neighbour(names, name, step))

    private = dict(api_visibility="private", show_progress="hidden")
    ui.correct_panel.expand(lambda: gr.Dropdown(choices=_folder_choices(ctx)), None, [ui.results], queue=False,
                            **private)
    ui.results.change(on_folder, [ui.results], [ui.pick], **private)
    ui.pick.change(on_pick, [ui.results, ui.pick], editing, **private)
    ui.previous.click(lambda f, n: on_step(f, n, -1), [ui.results, ui.pick], [ui.pick], **private)
    ui.next.click(lambda f, n: on_step(f, n, 1), [ui.results, ui.pick], [ui.pick], **private)
    # added: on to the next picture of the folder (the last one stays)
    annotate.listen(ctx, ui.correct).success(lambda f, n: on_step(f, n, 1), [ui.results, ui.pick], [ui.pick],
                                              **private)
