"""The WebUI: a gr.Blocks that only composes the tabs (each tab renders and wires itself).

``build_ui(ctx)`` makes the page; ``launch(ctx, demo)`` starts it with the server's queue,
limits and auth. Nothing here knows how detection, training or export work.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Tuple

import gradio as gr
from gradio.themes.utils import fonts

from . import wording as W
from .bilingual import page_script
from .context import WebContext
from .guards import is_within
from .tabs import batch, export, single, train

# Local fonts only: the page must render offline (intranet boxes) and show Chinese labels.
FONT = (fonts.LocalFont("Source Sans Pro", weights=(400, 600)), "Noto Sans CJK SC", "PingFang SC",
        "Microsoft YaHei", "system-ui", "sans-serif")
CSS = """
#banner {padding: 4px 0;}
/* Headers wrap between words (x1, score, 中文), never inside one. */
#single-table th, #single-table th * {word-break: keep-all; overflow-wrap: normal; white-space: nowrap;}
/* The export report's long lines (paths, ONNX Runtime messages) wrap instead of scrolling. */
#export-report pre, #export-report code {white-space: pre-wrap; overflow-wrap: anywhere;}
"""


def build_ui(ctx: WebContext) -> gr.Blocks:
    with gr.Blocks(title=W.TITLE, analytics_enabled=False, delete_cache=(3600, 24 * 3600)) as demo:
        gr.Markdown(f"## {W.TITLE}")
        banner = gr.Markdown(ctx.service.banner(), label=W.LABEL_BANNER, elem_id="banner")
        with gr.Tabs():
            with gr.Tab(W.TAB_SINGLE, id="single"):
                single_ui = single.render(ctx)
            with gr.Tab(W.TAB_BATCH, id="batch"):
                batch_ui = batch.render(ctx)
            with gr.Tab(W.TAB_TRAIN, id="train") as train_tab:
                train_ui = train.render(ctx)
            with gr.Tab(W.TAB_EXPORT, id="export"):
                export_ui = export.render()
        single.listen(ctx, single_ui)
        batch.listen(ctx, batch_ui)
        train.listen(ctx, train_ui, banner, demo)
        train_tab.select(lambda: train.listed_datasets(ctx), None, train_ui.datasets, api_visibility="private",
                         queue=False)
        export.listen(ctx, export_ui)
        demo.load(ctx.service.banner, None, banner, api_visibility="private", queue=False)
    return demo


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="blue", font=FONT)


def _reachable_by_gradio(path: Path) -> bool:
    """Gradio may copy result files from the working directory and the temp dir."""
    return any(is_within(path.resolve(), Path(p).resolve()) for p in (os.getcwd(), tempfile.gettempdir()))


def launch(ctx: WebContext, demo: gr.Blocks) -> Tuple[object, str]:
    """Start serving without blocking; returns (app, local url)."""
    s, limits, storage = ctx.settings.server, ctx.settings.limits, ctx.settings.storage
    storage.output_dir.mkdir(parents=True, exist_ok=True)
    demo.queue(default_concurrency_limit=limits.concurrency, max_size=limits.queue_size)
    # Gradio serves allowed_paths to anyone who asks, so the outputs folder is only added
    # when Gradio could not otherwise hand our result files out (outside cwd and /tmp).
    allowed = [] if _reachable_by_gradio(storage.output_dir) else [str(storage.output_dir)]
    app, local_url, _ = demo.launch(
        server_name=s.host, server_port=s.port, auth=s.auth, prevent_thread_lock=True, quiet=True,
        show_error=False, max_file_size=limits.max_file_size, ssr_mode=False, share=False,
        allowed_paths=allowed, blocked_paths=[str(storage.workdir_root)], theme=theme(), css=CSS, js=page_script(),
        auth_message=W.AUTH_MESSAGE, footer_links=["api"])
    return app, local_url
