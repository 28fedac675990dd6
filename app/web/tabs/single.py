"""单图检测 Single image: upload one picture, get numbered boxes, a table and the JSON.

Also the ``detect`` API endpoint (JSON only) that scripts call with ``gradio_client``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import gradio as gr

from app.io.runs import save_single
from app.web import wording as W
from app.web.context import WebContext
from app.web.guards import call_with_time_limit, friendly_errors
from models import DetectorConfig

from .common import box_threshold_slider, overrides, read_image_upload, slider, threshold_slider

TABLE_HEADERS = ["#", "score", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"]
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
    api_trigger: gr.Button
    api_json: gr.JSON

    @property
    def inputs(self) -> List[gr.components.Component]:
        # recognize last: API callers that pass the first six positionally keep working
        return [self.image, self.thresh, self.box_thresh, self.unclip_ratio, self.limit_side, self.backend,
                self.recognize]


def render() -> SingleTab:
    with gr.Row():
        with gr.Column(scale=1):
            image = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                 label=W.SINGLE_IMAGE, height=360, elem_id="single-image")
            thresh = threshold_slider(elem_id="single-thresh")
            recognize = gr.Checkbox(False, label=W.RECOGNIZE, info=W.RECOGNIZE_INFO, elem_id="single-recognize")
            with gr.Accordion(W.ADVANCED, open=False):
                box_thresh = box_threshold_slider()
                unclip = slider(DetectorConfig, "unclip_ratio", W.UNCLIP, W.UNCLIP_INFO)
                limit = slider(DetectorConfig, "limit_side", W.SIZE_LIMIT, W.SIZE_LIMIT_INFO)
                backend = gr.Radio([(W.BACKEND_AUTO, "auto"), ("PyTorch", "torch"), (W.BACKEND_ONNX_FILE, "onnx")], value="auto",
                                   label=W.BACKEND)
            run = gr.Button(W.DETECT, variant="primary", elem_id="single-run")
        with gr.Column(scale=1):
            annotated = gr.Image(label=W.RESULT, type="filepath", interactive=False, height=360,
                                 elem_id="single-annotated")
            timing = gr.Markdown(elem_id="single-timing")
            with gr.Row():
                json_file = gr.DownloadButton(W.DOWNLOAD_JSON, interactive=False, size="sm")
                image_file = gr.DownloadButton(W.DOWNLOAD_PICTURE, interactive=False, size="sm")
    with gr.Row():
        table = gr.Dataframe(headers=TABLE_HEADERS, label=W.BOXES, interactive=False, wrap=True)
    with gr.Row():
        json_out = gr.JSON(label="JSON", elem_id="single-json")
    api_trigger = gr.Button(visible=False)
    api_json = gr.JSON(visible=False)
    return SingleTab(image, thresh, box_thresh, unclip, limit, backend, recognize, run, annotated, table, json_out,
                     timing, json_file, image_file, api_trigger, api_json)


def detect_and_save(ctx: WebContext, image: str | None, thresh: float, box_thresh: float,
                    unclip_ratio: float, limit_side: float, backend: str,
                    recognize: bool = False) -> Tuple[Dict[str, Any], Path, Path]:
    """Run one detection (and recognition when asked) under the time limit and save it;
    returns (record, json, picture)."""
    if not image:
        raise gr.Error(W.NO_IMAGE, title=W.TITLE_NO_IMAGE)
    opts = overrides(thresh=thresh, box_thresh=box_thresh, unclip_ratio=unclip_ratio, limit_side=limit_side)
    detector = ctx.service.detector(backend or "auto")
    recognizer = ctx.service.recognizer() if recognize else None
    name = Path(image).name

    def work():
        result = detector.detect(image, name=name, keep_image=True, **opts)
        return recognizer.annotate(result) if recognizer is not None else result

    result = call_with_time_limit(work, ctx.settings.limits.time_limit_s, W.DETECTION)
    params = detector.config.with_overrides(**opts).params()
    if recognizer is not None:
        params["recognition"] = recognizer.params()
    record = result.to_json(detector.model_id, params)
    record["image_path"] = name
    json_path, vis_path = save_single(ctx.settings.storage.output_dir, name, result, record)
    return record, json_path, vis_path


def _headers(record: Dict[str, Any]) -> List[str]:
    """The table's columns: with recognition, the text and its score follow the box number."""
    return TABLE_HEADERS[:1] + TEXT_HEADERS + TABLE_HEADERS[1:] if "texts" in record else TABLE_HEADERS


def _rows(record: Dict[str, Any]) -> List[List[Any]]:
    rows = [[i + 1, round(s, 4), *box] for i, (box, s) in enumerate(zip(record["boxes"], record["scores"]))]
    if "texts" in record:
        rows = [[row[0], text, round(ts, 4), *row[1:]]
                for row, text, ts in zip(rows, record["texts"], record["text_scores"])]
    return rows


def _timing(record: Dict[str, Any], json_path: Path) -> str:
    t = record.get("timings", {})
    stages = " · ".join(f"{k} {t[k] * 1000:.0f} ms"
                        for k in ("decode", "preprocess", "inference", "postprocess", "recognition") if k in t)
    text = W.TIMING.format(seconds=record["inference_time"], stages=stages, boxes=len(record["boxes"]),
                           width=record["width"], height=record["height"], folder=json_path.parent.parent)
    return text + (W.NO_BOXES_HINT if not record["boxes"] else "")


def listen(ctx: WebContext, ui: SingleTab) -> None:
    # preprocess=False: the image is read by read_image_upload (readable errors), and the
    # numbers are checked by DetectorConfig (which names every bad value).
    @friendly_errors
    def detect_visual(image, thresh, box_thresh, unclip_ratio, limit_side, backend, recognize=False):
        image = read_image_upload(ui.image, image)
        record, json_path, vis_path = detect_and_save(ctx, image, thresh, box_thresh, unclip_ratio,
                                                      limit_side, backend, bool(recognize))
        table = gr.Dataframe(value=_rows(record), headers=_headers(record))
        return (str(vis_path), table, record, _timing(record, json_path),
                gr.DownloadButton(value=str(json_path), interactive=True),
                gr.DownloadButton(value=str(vis_path), interactive=True))

    @friendly_errors
    def detect(image, thresh, box_thresh, unclip_ratio, limit_side, backend, recognize=False):
        """Detect text in one image; returns the per-image JSON (boxes, scores, inference_time...;
        with recognize, also texts and text_scores aligned with boxes)."""
        image = read_image_upload(ui.image, image)
        return detect_and_save(ctx, image, thresh, box_thresh, unclip_ratio, limit_side, backend,
                               bool(recognize))[0]

    outputs = [ui.annotated, ui.table, ui.json, ui.timing, ui.json_file, ui.image_file]
    ui.run.click(detect_visual, ui.inputs, outputs, api_name="detect_visual", concurrency_id="detect",
                 preprocess=False)
    ui.api_trigger.click(detect, ui.inputs, [ui.api_json], api_name="detect", concurrency_id="detect",
                         preprocess=False)
