"""校正并加入数据集 Correct and add: a box editor under a detection result, and "Add to dataset".

A panel that a tab renders under its result (the single tab, and the batch tab for the
image picked in its folder). The editor is ``gradio_image_annotation``'s rectangle editor;
:mod:`app.io.corrections` turns its boxes back into quads (untouched tilted boxes exactly)
and :class:`models.data.writer.DatasetWriter` appends the image to an ICDAR-2015 folder
inside the allowed roots.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import gradio as gr
from gradio_image_annotation import image_annotator

from app.io.corrections import corrected_labels, editor_boxes
from app.io.dataset_folders import find_datasets, summarize_dataset
from app.web import wording as W
from app.web.context import WebContext
from app.web.guards import friendly_errors, resolve_new_folder, user_error
from models import load_image
from models.data.writer import DatasetWriter


@dataclass
class AnnotatePanel:
    editor: image_annotator
    source: gr.State          # {"path": image file, "record": result JSON, "name": upload name}
    dataset: gr.Dropdown
    split: gr.Radio
    name: gr.Textbox
    add: gr.Button
    summary: gr.Markdown


def dataset_choices(ctx: WebContext) -> List[str]:
    return [str(p) for p in find_datasets(ctx.settings.storage.allowed_roots)]


def render(ctx: WebContext, prefix: str) -> AnnotatePanel:
    """The panel's components; ``prefix`` names their elem_ids (``<prefix>-editor``...)."""
    roots = ctx.settings.storage.allowed_roots
    first = f"`{roots[0]}`" if roots else W.NO_ALLOWED_ROOTS
    gr.Markdown(W.EDITOR_HINT)
    editor = image_annotator(None, image_type="numpy", sources=[], label=W.EDITOR, boxes_alpha=0.15,
                             box_min_size=3, show_remove_button=True, show_clear_button=False,
                             show_download_button=False, height=560, elem_id=f"{prefix}-editor")
    with gr.Row():
        dataset = gr.Dropdown(dataset_choices(ctx), value=None, allow_custom_value=True, label=W.DATASET_TARGET,
                              info=W.DATASET_TARGET_INFO.format(root=first), elem_id=f"{prefix}-dataset", scale=3)
        split = gr.Radio(W.SPLIT_CHOICES, value="train", label=W.SPLIT, elem_id=f"{prefix}-split", scale=1)
        name = gr.Textbox(label=W.IMAGE_NAME, info=W.IMAGE_NAME_INFO, elem_id=f"{prefix}-name", scale=2)
    add = gr.Button(W.ADD_TO_DATASET, variant="primary", elem_id=f"{prefix}-add")
    summary = gr.Markdown("", label=W.TITLE_DATASET, elem_id=f"{prefix}-dataset-summary")
    return AnnotatePanel(editor, gr.State(None), dataset, split, name, add, summary)


def editor_value(path: str | Path, record: Dict[str, Any]) -> Dict[str, Any]:
    """What the editor shows for a result: the upright picture and its boxes."""
    return {"image": load_image(str(path)), "boxes": editor_boxes(record)}


def loaded(path: str | Path | None, record: Dict[str, Any] | None, name: str) -> Tuple[Any, Any, Any]:
    """(editor, source state, image name) for a result; all empty when there is none."""
    if not path or not record or not record.get("success", True):
        return None, None, ""
    return editor_value(path, record), {"path": str(path), "record": record, "name": name}, Path(name).stem


def cleared() -> Tuple[Any, Any, Any]:
    return None, None, ""


def summary_text(root: Path) -> str:
    """The dataset's images and boxes per split, or its problem, as one Markdown line."""
    try:
        s = summarize_dataset(root)
    except (ValueError, OSError) as exc:
        return W.DATASET_BAD.format(root=root, error=exc)
    splits = "; ".join(W.DATASET_SPLIT.format(split=k, images=s.splits[k], boxes=s.regions[k]) for k in s.splits)
    return W.DATASET_SUMMARY.format(root=root, splits=splits or W.DATASET_EMPTY)


def unscaled(box: Dict[str, Any]) -> Dict[str, Any]:
    """An editor box in picture pixels: the editor reports display pixels and its display
    scale (as the component's own preprocessing reads them); a malformed box is passed on
    unchanged, for :func:`corrected_labels` to name it."""
    try:
        scale = float(box.get("scaleFactor") or 1)
        if scale <= 0:
            return box
        return {**box, **{k: float(box[k]) / scale for k in ("xmin", "ymin", "xmax", "ymax")}}
    except (KeyError, TypeError, ValueError):
        return box


def add_to_dataset(ctx: WebContext, editor: Any, source: Dict[str, Any] | None, dataset: str, split: str,
                   name: str) -> Tuple[Path, str]:
    """Write the edited boxes with the source picture into ``dataset``; (dataset, message)."""
    if not source or not isinstance(editor, dict):
        raise user_error(W.NOTHING_TO_ADD, W.TITLE_DATASET)
    if int(editor.get("orientation") or 0) % 4:
        raise user_error(W.EDITOR_ROTATED, W.TITLE_DATASET)
    root = resolve_new_folder(dataset, ctx.settings.storage.allowed_roots)
    path = Path(source["path"])
    if not path.is_file():
        raise user_error(W.UPLOAD_GONE, W.TITLE_DATASET)
    boxes = [unscaled(b) for b in editor.get("boxes") or [] if isinstance(b, dict)]
    labels = corrected_labels(source["record"], boxes)
    added = DatasetWriter(root).add(path, labels, split or "train", name=(name or "").strip() or source["name"])
    return root, W.ADDED_TO_DATASET.format(image=added.image.relative_to(root), boxes=added.regions, split=split,
                                           summary=summary_text(root))


def listen(ctx: WebContext, panel: AnnotatePanel) -> Any:
    """Wire the panel; returns the "Add to dataset" event (a tab may chain a step after it)."""
    @friendly_errors
    def on_add(editor, source, dataset, split, name):
        root, message = add_to_dataset(ctx, editor, source, dataset, split, name)
        gr.Info(message.split("  \n")[0])
        return message, gr.Dropdown(choices=dataset_choices(ctx), value=str(root))

    @friendly_errors
    def on_dataset(dataset):
        if not (dataset or "").strip():
            return ""
        try:
            root = resolve_new_folder(dataset, ctx.settings.storage.allowed_roots)
        except (ValueError, PermissionError, FileNotFoundError, NotADirectoryError) as exc:
            return W.DATASET_BAD.format(root=dataset, error=exc)
        return summary_text(root) if root.exists() else W.DATASET_SUMMARY.format(root=root, splits=W.DATASET_EMPTY)

    private = dict(api_visibility="private", show_progress="hidden")
    # preprocess=False: the boxes are read as sent (the picture is the source file, never a re-encoded copy)
    added = panel.add.click(on_add, [panel.editor, panel.source, panel.dataset, panel.split, panel.name],
                            [panel.summary, panel.dataset], preprocess=False, concurrency_id="dataset", **private)
    # .input, not .change: "Add" sets the dropdown to the resolved folder, and a .change there
    # replaced its "Added ..." confirmation with the plain summary (a race the browser tests lost)
    panel.dataset.input(on_dataset, [panel.dataset], [panel.summary], queue=False, **private)
    return added
