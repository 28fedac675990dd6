"""单图检测 Single image: upload one picture, get numbered boxes, a table and the JSON.

Also the ``detect`` API endpoint (JSON only) that scripts call with ``gradio_client``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import gradio as gr
import numpy as np
import pandas as pd

from app.io.batch import result_params
from app.io.runs import TABLE_COLUMNS, compact_json, save_single, save_table_csv, table_columns, table_rows
from app.io.visualize import highlight_box
from app.web import wording as W
from app.web.context import WebContext
from app.web.guards import call_with_time_limit, friendly_errors, user_error
from models import DetectorConfig, ImageDecodeError, load_image
from models.detector import scale_boxes

from . import annotate
from .annotate import AnnotatePanel
from .common import (
    box_threshold_slider,
    granularity_radio,
    mirror_checkbox,
    overrides,
    read_image_upload,
    slider,
    threshold_slider,
    zoom_slider,
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = [ROOT / "docs" / "examples" / "receipt_render.jpg", ROOT / "docs" / "real_samples" / "page.png",
            ROOT / "docs" / "real_samples" / "text.png"]
TEXT_HEADERS = [W.TEXT_COLUMN, W.TEXT_SCORE_COLUMN]   # after "#" when recognition is on


@dataclass
class SingleTab:
    image: gr.Image
    thresh: gr.Slider
    box_thresh: gr.Slider
    unclip_ratio: gr.Slider
    limit_side: gr.Slider
    backend: gr.Radio
    recognize: gr.Checkbox
    run: gr.Button
    annotated: gr.Image
    table: gr.Dataframe
    json: gr.JSON
    timing: gr.Markdown
    json_file: gr.DownloadButton
    image_file: gr.DownloadButton
    csv_file: gr.DownloadButton
    shown: gr.State
    examples: gr.Examples | None
    api_trigger: gr.Button
    api_json: gr.JSON
    correct: AnnotatePanel
    json_view: gr.Code        # what people read: the record, one box per line
    granularity: gr.Radio
    mirror: gr.Checkbox
    zoom: gr.Slider

    @property
    def inputs(self) -> List[gr.components.Component]:
        # recognize, granularity, the mirror, then the zoom, last: API callers that pass the
        # first six (or eight, or nine) positionally keep working
        return [self.image, self.thresh, self.box_thresh, self.unclip_ratio, self.limit_side, self.backend,
                self.recognize, self.granularity, self.mirror, self.zoom]


def render(ctx: WebContext) -> SingleTab:
    with gr.Row():
        with gr.Column(scale=1):
            image = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                 label=W.SINGLE_IMAGE, height=360, elem_id="single-image",
                                 placeholder=W.IMAGE_PLACEHOLDER)
            thresh = threshold_slider(elem_id="single-thresh")
            recognize = gr.Checkbox(False, label=W.RECOGNIZE, info=W.RECOGNIZE_INFO, elem_id="single-recognize")
            with gr.Accordion(W.ADVANCED, open=False):
                box_thresh = box_threshold_slider()
                unclip = slider(DetectorConfig, "unclip_ratio", W.UNCLIP, W.UNCLIP_INFO)
                granularity = granularity_radio(elem_id="single-granularity")
                zoom = zoom_slider(elem_id="single-zoom")
                mirror = mirror_checkbox(elem_id="single-mirror")
                limit = slider(DetectorConfig, "limit_side", W.SIZE_LIMIT, W.SIZE_LIMIT_INFO)
                backend = gr.Radio([(W.BACKEND_AUTO, "auto"), ("PyTorch", "torch"), (W.BACKEND_ONNX_FILE, "onnx")], value="auto",
                                   label=W.BACKEND, elem_id="single-backend")
            run = gr.Button(W.DETECT, variant="primary", elem_id="single-run")
            present = [[str(p)] for p in EXAMPLES if p.is_file()]
            examples = gr.Examples(present, [image], label=W.EXAMPLES, elem_id="single-examples",
                                   example_labels=W.EXAMPLE_LABELS[:len(present)]) if present else None
        with gr.Column(scale=1):
            # Fullscreen: a tall receipt is readable only larger than the column.
            annotated = gr.Image(label=W.RESULT, type="filepath", interactive=False, height=480,
                                 buttons=["fullscreen", "download"], elem_id="single-annotated")
            timing = gr.Markdown(label=W.LABEL_TIMING, elem_id="single-timing")
            with gr.Row():
                json_file = gr.DownloadButton(W.DOWNLOAD_JSON, interactive=False, size="sm", elem_id="single-json-file")
                image_file = gr.DownloadButton(W.DOWNLOAD_PICTURE, interactive=False, size="sm")
                csv_file = gr.DownloadButton(W.DOWNLOAD_CSV, interactive=False, size="sm", elem_id="single-csv-file")
    with gr.Row():
        table = gr.Dataframe(headers=TABLE_COLUMNS, label=f"{W.BOXES} · {W.TABLE_HINT}", interactive=False,
                             wrap=True, max_height=420, elem_id="single-table")
    with gr.Accordion(W.CORRECT, open=True, elem_id="single-correct"):
        correct = annotate.render(ctx, "single")
    with gr.Row():
        # The record itself stays a (hidden) JSON value: /detect_visual returns it and the
        # table and the editor read it; people read the compact text view.
        json_out = gr.JSON(label="JSON", visible=False, elem_id="single-record")
        json_view = gr.Code(None, language="json", label="JSON", interactive=False, wrap_lines=True,
                            max_lines=24, buttons=["copy"], elem_id="single-json")
    api_trigger = gr.Button(visible=False)
    api_json = gr.JSON(label=W.LABEL_RESULT_JSON, visible=False)
    return SingleTab(image, thresh, box_thresh, unclip, limit, backend, recognize, run, annotated, table, json_out,
                     timing, json_file, image_file, csv_file, gr.State(None), examples, api_trigger, api_json,
                     correct, json_view, granularity, mirror, zoom)


def detect_and_save(ctx: WebContext, image: str | None, thresh: float, box_thresh: float,
                    unclip_ratio: float, limit_side: float, backend: str,
                    recognize: bool = False, granularity: str | None = None,
                    mirror_words: bool | None = None,
                    zoom_words: float | None = None) -> Tuple[Dict[str, Any], Path, Path]:
    """Run one detection (and recognition when asked) under the time limit and save it;
    returns (record, json, picture)."""
    if not image:
        raise user_error(W.NO_IMAGE, W.TITLE_NO_IMAGE)
    opts = overrides(thresh=thresh, box_thresh=box_thresh, unclip_ratio=unclip_ratio, limit_side=limit_side,
                     granularity=granularity or None, mirror_words=mirror_words, zoom_words=zoom_words)
    detector = ctx.service.detector(backend or "auto")
    recognizer = ctx.service.recognizer() if recognize else None
    name = Path(image).name

    def work():
        result = detector.detect(image, name=name, keep_image=True, **opts)
        return recognizer.annotate(result) if recognizer is not None else result

    result = call_with_time_limit(work, ctx.settings.limits.time_limit_s, W.DETECTION)
    params = result_params(detector, opts, recognizer)
    record = result.to_json(detector.model_id, params)
    record["image_path"] = name
    json_path, vis_path = save_single(ctx.settings.storage.output_dir, name, result, record)
    return record, json_path, vis_path


def _timing(record: Dict[str, Any], json_path: Path) -> str:
    t = record.get("timings", {})
    stages = " · ".join(f"{k} {t[k] * 1000:.0f} ms"
                        for k in ("decode", "preprocess", "inference", "postprocess", "recognition") if k in t)
    text = W.TIMING.format(seconds=record["inference_time"], stages=stages, boxes=len(record["boxes"]),
                           width=record["width"], height=record["height"], folder=json_path.parent.parent)
    return text + (W.NO_BOXES_HINT if not record["boxes"] else "")


def cleared(message: str = "") -> Tuple[Any, ...]:
    """Empty result widgets (picture, table, JSON, timing, downloads), so a new upload, a new
    submission or an error never leaves the previous image's result on screen."""
    off = gr.DownloadButton(value=None, interactive=False)
    return None, pd.DataFrame(columns=TABLE_COLUMNS), None, message, off, off, off, ""


def check_upload(ctx: WebContext, component: gr.Image, payload: Any) -> str | None:
    """Why the uploaded file cannot be detected on (None when it can): decoded here with the
    detector's own reader and limits, so a bad file is named the moment it is dropped."""
    if payload is None:
        return None
    try:
        path = read_image_upload(component, payload)
        name = (payload.get("orig_name") if isinstance(payload, dict) else None) or Path(path).name
        load_image(path, ctx.service.config.max_megapixels, name=name)
    except gr.Error as exc:
        return exc.message
    except ImageDecodeError as exc:
        return str(exc)
    return None


def highlighted(record: Dict[str, Any] | None, shown: str | None, row: Any) -> Any:
    """The drawn result with table row ``row``'s box highlighted (None when the row, the
    record or the picture is not there any more, e.g. after a new upload)."""
    boxes = (record or {}).get("boxes") or []
    if not shown or not isinstance(row, int) or not 0 <= row < len(boxes) or not Path(shown).is_file():
        return None
    picture = load_image(shown)   # drawn at the decoded size: smaller than the original for large JPEGs
    size = (record.get("height") or picture.shape[0], record.get("width") or picture.shape[1])
    return highlight_box(picture, scale_boxes(np.asarray(boxes[row]).reshape(1, 4, 2), size, picture.shape[:2])[0])


def listen(ctx: WebContext, ui: SingleTab) -> None:
    # preprocess=False: the image is read by read_image_upload (readable errors), and the
    # numbers are checked by DetectorConfig (which names every bad value).
    @friendly_errors
    def detect_visual(image, thresh, box_thresh, unclip_ratio, limit_side, backend, recognize=False,
                      granularity=None, mirror_words=None, zoom_words=None):
        image = read_image_upload(ui.image, image)
        record, json_path, vis_path = detect_and_save(ctx, image, thresh, box_thresh, unclip_ratio,
                                                      limit_side, backend, bool(recognize), granularity,
                                                      mirror_words, zoom_words)
        csv_path = save_table_csv(json_path, record)
        table = gr.Dataframe(value=table_rows(record), headers=table_columns(record, TEXT_HEADERS))
        return (str(vis_path), table, record, _timing(record, json_path),
                gr.DownloadButton(value=str(json_path), interactive=True),
                gr.DownloadButton(value=str(vis_path), interactive=True),
                gr.DownloadButton(value=str(csv_path), interactive=True), str(vis_path))

    @friendly_errors
    def detect(image, thresh, box_thresh, unclip_ratio, limit_side, backend, recognize=False, granularity=None,
               mirror_words=None, zoom_words=None):
        """Detect text in one image; returns the per-image JSON (boxes, scores, inference_time...;
        with recognize, also texts and text_scores aligned with boxes; granularity: auto, lines
        or words; zoom_words: scene photos also read enlarged by this factor, 1.75 by default,
        1 = once; mirror_words: scene photos also read mirrored, off by default)."""
        image = read_image_upload(ui.image, image)
        return detect_and_save(ctx, image, thresh, box_thresh, unclip_ratio, limit_side, backend,
                               bool(recognize), granularity, mirror_words, zoom_words)[0]

    def on_new_image(image):
        """A new upload, paste or clear: the old result goes; an unreadable file is refused
        now (the picture is removed and the reason shown where the result would be)."""
        problem = check_upload(ctx, ui.image, image)
        if problem is None:
            return (gr.skip(), *cleared())
        gr.Warning(problem, title=W.TITLE_BAD_IMAGE)
        return (None, *cleared(W.UPLOAD_REJECTED.format(message=problem)))

    def on_row(record, shown, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        picture = highlighted(record, shown, row)
        return gr.skip() if picture is None else picture

    def to_editor(image, record):
        """The result into the box editor (the upright picture and its boxes)."""
        if not image or not record:
            return annotate.cleared()
        path = read_image_upload(ui.image, image)
        name = (image.get("orig_name") if isinstance(image, dict) else None) or Path(path).name
        return annotate.loaded(path, record, name)

    outputs = [ui.annotated, ui.table, ui.json, ui.timing, ui.json_file, ui.image_file, ui.csv_file]
    shown = [*outputs, ui.json_view]          # what a clear empties
    editing = [ui.correct.editor, ui.correct.source, ui.correct.name]
    private = dict(api_visibility="private", queue=False, show_progress="hidden")
    # queued (not queue=False): Gradio shows gr.Warning toasts only from queued events
    ui.image.input(on_new_image, [ui.image], [ui.image, *shown], preprocess=False, api_visibility="private",
                   show_progress="hidden", concurrency_limit=None)
    ui.image.input(annotate.cleared, None, editing, **private)
    if ui.examples is not None and getattr(ui.examples, "load_input_event", None) is not None:
        ui.examples.load_input_event.then(cleared, None, shown, **private).then(
            annotate.cleared, None, editing, **private)
    detected = ui.run.click(cleared, None, shown, **private).then(annotate.cleared, None, editing, **private).then(
        detect_visual, ui.inputs, [*outputs, ui.shown], api_name="detect_visual", concurrency_id="detect",
        preprocess=False)
    detected.success(compact_json, [ui.json], [ui.json_view], api_visibility="private", queue=False,
                     show_progress="hidden")
    detected.success(friendly_errors(to_editor), [ui.image, ui.json], editing, preprocess=False,
                     api_visibility="private", show_progress="hidden")
    ui.table.select(on_row, [ui.json, ui.shown], [ui.annotated], **private)
    annotate.listen(ctx, ui.correct)
    ui.api_trigger.click(detect, ui.inputs, [ui.api_json], api_name="detect", concurrency_id="detect",
                         preprocess=False)
