"""Pieces more than one tab uses: the checked image input and the detection controls."""
from __future__ import annotations

import importlib.util
from typing import Any, Dict

import gradio as gr

from models import DetectorConfig

DEFAULTS = DetectorConfig()


class CheckedImage(gr.Image):
    """``gr.Image`` whose bad uploads become a readable ``gr.Error``.

    Gradio opens every upload with PIL before our code runs; a text file or a truncated
    picture would otherwise fail there with a bare traceback. ``is_template`` makes the
    browser use the ordinary image component.
    """

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        try:
            return super().preprocess(payload)
        except gr.Error:
            raise
        except Exception as exc:
            name = getattr(payload, "orig_name", None) or "the upload"
            raise gr.Error(f"无法读取图片 Not a readable image: {name} ({type(exc).__name__}). "
                           f"Upload a JPEG, PNG, BMP, TIFF or WebP picture.", title="图片无效 Bad image") from None


def threshold_slider(**kwargs: Any) -> gr.Slider:
    """The seed's main control: binarisation threshold of the probability map."""
    return gr.Slider(0.0, 1.0, value=DEFAULTS.thresh, step=0.01, label="检测阈值 Detection threshold",
                     info="越低框越多 Lower finds more (and fainter) text", **kwargs)


def box_threshold_slider(**kwargs: Any) -> gr.Slider:
    return gr.Slider(0.0, 1.0, value=DEFAULTS.box_thresh, step=0.01, label="框阈值 Box threshold",
                     info="区域平均概率下限 Minimum mean probability of a box", **kwargs)


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


def module_available(name: str) -> bool:
    """Whether an optional part of models/ (training, export) is installed in this checkout."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
