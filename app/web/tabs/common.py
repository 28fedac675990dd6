"""Pieces more than one tab uses: reading image uploads safely, and widgets made from the
settings dataclasses (range, step and default from each field's metadata: one line per
control, and a changed bound or default shows up in the UI by itself)."""
from __future__ import annotations

import typing
from typing import Any, Dict, Tuple

import gradio as gr

from app.web import wording as W
from app.web.guards import user_error
from models import DetectorConfig
from models.settings import default_of, meta_of

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
        raise user_error(W.BAD_IMAGE.format(name=name, kind=type(exc).__name__), W.TITLE_BAD_IMAGE) from None


C = typing.TypeVar("C", bound=gr.components.Component)


def api_example(component: C, value: Any) -> C:
    """Show ``value`` as the example in "Use via API" instead of Gradio's generic one
    (a Textbox says "Hello!!"). Set on the instance: a subclass would make Gradio write
    a ``.pyi`` stub next to our module."""
    component.example_payload = lambda: value    # type: ignore[method-assign]
    component.example_value = lambda: value      # type: ignore[method-assign]
    return component


# ---------------------------------------------------------------------------- widgets from settings
def widget_range(cls: Any, name: str) -> Tuple[Any, Any, Any]:
    """(minimum, maximum, step) of a setting's widget: its ``ui_min``/``ui_max`` where the
    useful range is narrower than the valid one, else its bounds (:mod:`models.settings`)."""
    meta = meta_of(cls, name)
    lo = meta.get("ui_min", meta.get("min", meta.get("gt")))
    hi = meta.get("ui_max", meta.get("max"))
    return lo, hi, meta.get("step")


def slider(cls: Any, name: str, label: str, info: str | None = None, **kwargs: Any) -> gr.Slider:
    """A slider for setting ``name`` of ``cls``: range, step and value from its metadata."""
    lo, hi, step = widget_range(cls, name)
    return gr.Slider(lo, hi, value=default_of(cls, name), step=step, label=label, info=info, **kwargs)


def number(cls: Any, name: str, label: str, info: str | None = None, bounded: bool = True,
           **kwargs: Any) -> gr.Number:
    """A number box for setting ``name``; ``bounded=False`` leaves range errors to the
    settings' own (more helpful) messages instead of Gradio's."""
    lo, hi, step = widget_range(cls, name)
    if bounded:
        kwargs.update(minimum=lo, maximum=hi)
    if step is not None:
        kwargs.setdefault("step", step)
    return gr.Number(default_of(cls, name), label=label, info=info, **kwargs)


def radio(cls: Any, name: str, label: str, info: str | None = None, **kwargs: Any) -> gr.Radio:
    """One choice among the setting's ``choices``."""
    return gr.Radio(list(meta_of(cls, name)["choices"]), value=default_of(cls, name), label=label, info=info,
                    **kwargs)


def checkbox(cls: Any, name: str, label: str, info: str | None = None, **kwargs: Any) -> gr.Checkbox:
    return gr.Checkbox(default_of(cls, name), label=label, info=info, **kwargs)


def granularity_radio(**kwargs: Any) -> gr.Radio:
    """Boxes per line or per word (DetectorConfig.granularity), with bilingual labels."""
    choices = [c for c in W.GRANULARITY_CHOICES if c[1] in meta_of(DetectorConfig, "granularity")["choices"]]
    return gr.Radio(choices, value=default_of(DetectorConfig, "granularity"), label=W.GRANULARITY,
                    info=W.GRANULARITY_INFO, **kwargs)


def zoom_slider(**kwargs: Any) -> gr.Slider:
    """Scene photos read a second time enlarged (DetectorConfig.zoom_words; 1 = once)."""
    return slider(DetectorConfig, "zoom_words", W.ZOOM, W.ZOOM_INFO, **kwargs)


def mirror_checkbox(**kwargs: Any) -> gr.Checkbox:
    """Scene photos also read mirrored (DetectorConfig.mirror_words)."""
    return checkbox(DetectorConfig, "mirror_words", W.MIRROR, W.MIRROR_INFO, **kwargs)


def threshold_slider(**kwargs: Any) -> gr.Slider:
    """The seed's main control: binarisation threshold of the probability map."""
    return slider(DetectorConfig, "thresh", W.THRESHOLD, W.THRESHOLD_INFO, **kwargs)


def box_threshold_slider(**kwargs: Any) -> gr.Slider:
    return slider(DetectorConfig, "box_thresh", W.BOX_THRESHOLD, W.BOX_THRESHOLD_INFO, **kwargs)


def _as_field_type(cls: Any, name: str, value: Any) -> Any:
    """A UI value (sliders send floats) as the setting's type: ints rounded, floats as float."""
    kind = typing.get_type_hints(cls)[name]
    if kind is int:
        return int(round(float(value)))
    if kind is float:
        return float(value)
    return value


def overrides(**values: Any) -> Dict[str, Any]:
    """Detector overrides from UI values by setting name (``None`` keeps the default);
    DetectorConfig validates them and names every bad value."""
    out = {k: None if v is None else _as_field_type(DetectorConfig, k, v) for k, v in values.items()}
    DEFAULTS.with_overrides(**out)   # raises ValueError with every problem named
    return {k: v for k, v in out.items() if v is not None}
