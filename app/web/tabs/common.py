"""Pieces more than one tab uses: reading image uploads safely and the detection controls."""
from __future__ import annotations

from typing import Any, Dict

import gradio as gr

from app.web import wording as W
from models import DetectorConfig

DEFAULTS = DetectorConfig()


def read_image_upload(component: gr.Image, payload: Any) -> Any:
    """Gradio's own preprocessing of an image upload, with a readable error for non-images.

    Gradio opens every upload with PIL before a handler runs, and a text file or a
    truncated picture fails there with a developer message (hidden as a bare "Error").
    Events that take an image are registered with ``preprocess=False`` and call this
    instead. (A ``gr.Image`` subclass would do the same, but Gradio writes a ``.pyi`` stub
    next to any module that subclasses a component.)
    """
    if payload is None:
        return None
    try:
        data = component.data_model.model_validate(payload) if isinstance(payload, dict) else payload
        return component.preprocess(data)
    except gr.Error:
        raise
    except Exception as exc:
        name = (payload.get("orig_name") if isinstance(payload, dict) else None) or "the upload"
        raise gr.Error(W.BAD_IMAGE.format(name=name, kind=type(exc).__name__), title=W.TITLE_BAD_IMAGE) from None


def threshold_slider(**kwargs: Any) -> gr.Slider:
    """The seed's main control: binarisation threshold of the probability map."""
    return gr.Slider(0.0, 1.0, value=DEFAULTS.thresh, step=0.01, label=W.THRESHOLD,
                     info=W.THRESHOLD_INFO, **kwargs)


def box_threshold_slider(**kwargs: Any) -> gr.Slider:
    return gr.Slider(0.0, 1.0, value=DEFAULTS.box_thresh, step=0.01, label=W.BOX_THRESHOLD,
                     info=W.BOX_THRESHOLD_INFO, **kwargs)


def overrides(thresh: float | None = None, box_thresh: float | None = None,
              unclip_ratio: float | None = None, limit_side: float | None = None) -> Dict[str, Any]:
    """Detector overrides from UI values (``None`` keeps the default); config validates them."""
    out: Dict[str, Any] = {
        "thresh": None if thresh is None else float(thresh),
        "box_thresh": None if box_thresh is None else float(box_thresh),
        "unclip_ratio": None if unclip_ratio is None else float(unclip_ratio),
        "limit_side": None if limit_side is None else int(round(float(limit_side))),
    }
    DEFAULTS.with_overrides(**out)   # raises ValueError with every problem named
    return {k: v for k, v in out.items() if v is not None}
