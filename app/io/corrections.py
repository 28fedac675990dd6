"""A detection result as boxes for the WebUI's box editor, and the edited boxes back as labels.

The editor (``gradio_image_annotation``) knows only axis-aligned rectangles, while the
detector gives rotated quads. Each detected box goes to the editor as its bounding
rectangle with a colour that encodes its number, and the editor hands colours back
unchanged, so every edited box is traced to the quad it came from:

* untouched (same rectangle, within a pixel): the original quad, exactly;
* moved or resized: the original quad mapped by the same move and scale (a tilted line
  stays tilted);
* drawn by the user (or recoloured): the rectangle itself;
* deleted: gone.

The label of an editor box is the line's text (recognised, or typed by the user; ``###``
marks a region to ignore in training).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from models.data.writer import Labels

_GREEN = 80              # colour (0, 80 + i // 256, i % 256) marks detected box i
_MAX_BOXES = (256 - _GREEN) * 256
_RGB = re.compile(r"rgb\((\d+),\s*(\d+),\s*(\d+)\)")
TOLERANCE_PX = 1         # the editor rounds through its display scale


def box_color(index: int) -> Tuple[int, int, int]:
    return (0, _GREEN + index // 256, index % 256)


def color_index(color: Any) -> int | None:
    """The detected-box number a colour encodes (None for any other colour)."""
    if isinstance(color, str):
        m = _RGB.fullmatch(color.strip())
        color = tuple(int(v) for v in m.groups()) if m else None
    if not isinstance(color, (tuple, list)) or len(color) != 3:
        return None
    r, g, b = (int(v) for v in color)
    if r != 0 or not _GREEN <= g < 256 or not 0 <= b < 256:
        return None
    return (g - _GREEN) * 256 + b


def bounding_rect(quad: Any) -> Tuple[int, int, int, int]:
    pts = np.asarray(quad, np.float64).reshape(-1, 2)
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))


def editor_boxes(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The record's boxes as editor boxes (rectangle, text label, identifying colour)."""
    boxes = (record.get("boxes") or [])[:_MAX_BOXES]
    texts = record.get("texts") or [""] * len(boxes)
    out = []
    for i, (quad, text) in enumerate(zip(boxes, texts)):
        x0, y0, x1, y1 = bounding_rect(quad)
        out.append(dict(xmin=x0, ymin=y0, xmax=x1, ymax=y1, label=str(text), color=box_color(i)))
    return out


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def _moved(quad: np.ndarray, old: Tuple[int, int, int, int], new: Tuple[int, int, int, int]) -> np.ndarray:
    """``quad`` under the move and scale that take rectangle ``old`` to ``new``."""
    ox0, oy0, ox1, oy1 = old
    nx0, ny0, nx1, ny1 = new
    sx = (nx1 - nx0) / max(ox1 - ox0, 1)
    sy = (ny1 - ny0) / max(oy1 - oy0, 1)
    return np.stack([nx0 + (quad[:, 0] - ox0) * sx, ny0 + (quad[:, 1] - oy0) * sy], axis=1)


def _close(a: Sequence[int], b: Sequence[int]) -> bool:
    return all(abs(int(u) - int(v)) <= TOLERANCE_PX for u, v in zip(a, b))


def corrected_labels(record: Dict[str, Any], boxes: Sequence[Dict[str, Any]]) -> Labels:
    """(quad, text) for each edited box, in the editor's order (see the module docstring).

    Raises:
        ValueError: a box with no area or outside the picture.
    """
    quads = [np.asarray(b, np.float64).reshape(-1, 2) for b in record.get("boxes") or []]
    width, height = int(record.get("width") or 0), int(record.get("height") or 0)
    used: set[int] = set()
    labels = []
    for k, box in enumerate(boxes, start=1):
        try:
            new = tuple(int(round(float(box[key]))) for key in ("xmin", "ymin", "xmax", "ymax"))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"box {k}: needs numeric xmin, ymin, xmax, ymax (got {box})") from None
        x0, y0, x1, y1 = new
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box {k}: has no area ({x0}, {y0}) - ({x1}, {y1})")
        if width and height and (x0 < -TOLERANCE_PX or y0 < -TOLERANCE_PX or x1 > width + TOLERANCE_PX
                                 or y1 > height + TOLERANCE_PX):
            raise ValueError(f"box {k}: ({x0}, {y0}) - ({x1}, {y1}) is outside the {width} x {height} picture")
        index = color_index(box.get("color"))
        if index is None or index >= len(quads) or index in used:     # recoloured: an untouched twin?
            index = next((i for i, q in enumerate(quads) if i not in used and _close(bounding_rect(q), new)), None)
        text = str(box.get("label") or "").strip()
        if index is None:
            quad = _rect(x0, y0, x1, y1)
        else:
            used.add(index)
            old = bounding_rect(quads[index])
            quad = quads[index] if _close(old, new) else _moved(quads[index], old, new)
        if width and height:
            quad = np.clip(quad, 0, [width - 1, height - 1])
        labels.append((np.rint(quad).astype(np.int64), text))
    return labels
