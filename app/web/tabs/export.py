"""ONNX 导出 Export: the served weights to a verified ``model_<H>x<W>.onnx``.

The export engine (``models.export``) verifies every file against PyTorch; this tab
checks the sizes first (with the reason), shows the parity report, offers the file and
a short ONNX Runtime sample, and lets the single tab's ONNX backend use the new file.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from app.io.runs import timestamp
from app.web import wording as W
from app.web.context import WebContext
from app.web.guards import call_with_time_limit, friendly_errors
from models.export.config import ExportConfig, check_size
from models.export.exporter import ExportVerificationError, export_onnx
from models.settings import default_of

from .common import DEFAULTS, checkbox, number, radio, widget_range


@dataclass
class ExportTab:
    height: gr.Number
    width: gr.Number
    dynamic: gr.Checkbox
    precision: gr.Radio
    run: gr.Button
    report: gr.Markdown
    download: gr.DownloadButton
    sample: gr.Code


def render() -> ExportTab:
    lo, hi, step = widget_range(ExportConfig, "height")
    size_info = W.SIZE_INFO.format(lo=lo, hi=hi, step=step)
    # Unbounded boxes: a wrong size gets the export's own explanation (nearest allowed sizes).
    side = dict(precision=0, bounded=False)
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                height = number(ExportConfig, "height", W.HEIGHT, size_info, elem_id="export-height", **side)
                width = number(ExportConfig, "width", W.WIDTH, size_info, elem_id="export-width", **side)
            dynamic = checkbox(ExportConfig, "dynamic", W.DYNAMIC, W.DYNAMIC_INFO)
            precision = radio(ExportConfig, "precision", W.PRECISION, W.PRECISION_INFO)
            run = gr.Button(W.EXPORT, variant="primary", elem_id="export-run")
        with gr.Column(scale=1):
            report = gr.Markdown(W.EXPORT_REPORT_EMPTY, label=W.LABEL_EXPORT_REPORT, elem_id="export-report")
            download = gr.DownloadButton(W.DOWNLOAD_ONNX, interactive=False)
    h, w = default_of(ExportConfig, "height"), default_of(ExportConfig, "width")
    sample = gr.Code(code_sample(ExportConfig(height=h, width=w).output_path.name, h, w, False), language="python",
                     label=W.CODE_SAMPLE_LABEL, interactive=False)
    return ExportTab(height, width, dynamic, precision, run, report, download, sample)


def _side(value: Any, name: str) -> int:
    """An integer pixel count, or a readable error (the engine checks the range too)."""
    if value is None or value == "":
        raise ValueError(W.ENTER_SIDE.format(name=name, side=name.split()[-1].lower()))
    pixels = float(value)
    if not pixels.is_integer():
        raise ValueError(f"{name} must be a whole number of pixels (got {value}).")
    side = int(pixels)
    check_size(name, side)   # raises with the reason and the nearest allowed sizes
    return side


def code_sample(file_name: str, height: int, width: int, dynamic: bool) -> str:
    """A short, runnable example for the exported file (ours and plain ONNX Runtime)."""
    if dynamic:
        resize = (f"scale = min(1.0, {DEFAULTS.limit_side} / max(img.shape[:2]))   # long side <= limit_side\n"
                  "img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)))\n"
                  "h, w = -(-img.shape[0] // 32) * 32, -(-img.shape[1] // 32) * 32   # pad up to multiples of 32")
    else:
        resize = (f"h, w = {height}, {width}                                  # the file's fixed input size\n"
                  "scale = min(1.0, h / img.shape[0], w / img.shape[1])\n"
                  "img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)))")
    return W.CODE_SAMPLE.format(file_name=file_name, resize=resize)


def _report_markdown(report: Any) -> str:
    ok = bool(getattr(report, "passed", False))
    head = W.VERIFIED if ok else W.NOT_VERIFIED
    diff = getattr(report, "max_abs_diff", None)
    diff_line = W.MAX_DIFF.format(diff=diff) if diff is not None else ""
    return f"{head}{diff_line}\n\n```\n{report.summary()}\n```"


def listen(ctx: WebContext, ui: ExportTab) -> None:
    @friendly_errors
    def export(height, width, dynamic, precision):
        h, w = _side(height, W.HEIGHT), _side(width, W.WIDTH)
        weights = ctx.service.require_weights()
        cfg = ExportConfig(height=h, width=w, dynamic=bool(dynamic),
                           precision=precision or default_of(ExportConfig, "precision"), weights=weights)
        out_dir = ctx.settings.storage.output_dir / f"export_{timestamp()}"
        out_dir.mkdir(parents=True, exist_ok=True)
        cfg = dataclasses.replace(cfg, output=out_dir / cfg.output_path.name)
        try:
            report = call_with_time_limit(lambda: export_onnx(cfg), ctx.settings.limits.long_time_limit_s,
                                          W.EXPORT_JOB)
        except ExportVerificationError as exc:
            gr.Warning(W.EXPORT_MISMATCH)
            return _report_markdown(exc.report), gr.DownloadButton(value=None, interactive=False), ui_sample(cfg)
        served = ctx.service.use_onnx(report.path, weights)
        if not served:
            gr.Warning(W.EXPORT_STALE)
        note = (W.EXPORT_NOW_SERVED if served else "") + (
            "" if cfg.dynamic else W.EXPORT_FIXED_SIZE.format(height=cfg.height, width=cfg.width))
        return (_report_markdown(report) + note, gr.DownloadButton(value=str(report.path), interactive=True),
                ui_sample(cfg, Path(report.path).name))

    def ui_sample(cfg: Any, name: str | None = None) -> str:
        return code_sample(name or cfg.output_path.name, cfg.height, cfg.width, cfg.dynamic)

    ui.run.click(export, [ui.height, ui.width, ui.dynamic, ui.precision], [ui.report, ui.download, ui.sample],
                 api_name="export_onnx", concurrency_id="export", concurrency_limit=1, show_progress_on=[ui.report])
