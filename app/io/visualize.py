"""Drawing detections: numbered quadrilaterals on the image (for people, not for models), and
with recognition a panel beside it with each box's text where the box was."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (0, 128, 128), (170, 110, 40)]


def draw_boxes(image: np.ndarray, boxes: np.ndarray, numbered: bool = True) -> np.ndarray:
    """Return an RGB copy of ``image`` with each box outlined and labelled 1..N."""
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thickness = max(1, round(max(h, w) / 600))
    font_scale = max(0.35, max(h, w) / 2000)     # small tags: they sit beside the text
    for i, box in enumerate(np.asarray(boxes).reshape(-1, 4, 2).astype(np.int32)):
        color = PALETTE[i % len(PALETTE)]
        cv2.polylines(out, [box], True, color, thickness, cv2.LINE_AA)
        if numbered:
            _label(out, str(i + 1), box, color, font_scale, thickness)
    return out


def _label(out: np.ndarray, label: str, box: np.ndarray, color: tuple, font_scale: float, thickness: int) -> None:
    """A small number tag beside the box, never on its text: left of the box's top-left
    corner; above it when the box touches the left edge; inside the corner only when the box
    also touches the top (dense receipts keep their neighbouring lines readable)."""
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    x, y = int(box[:, 0].min()), int(box[0, 1])
    w_tag, h_tag = tw + 2, th + base
    if x - w_tag - 1 >= 0:                       # left of the box
        x0, y0 = x - w_tag - 1, min(max(0, y), out.shape[0] - h_tag)
    elif y - h_tag >= 0:                         # above the box
        x0, y0 = max(0, x), y - h_tag
    else:                                        # inside its top-left corner
        x0, y0 = max(0, x), max(0, y)
    cv2.rectangle(out, (x0, y0), (x0 + w_tag, y0 + h_tag), color, -1)
    cv2.putText(out, label, (x0 + 1, y0 + th), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), thickness,
                cv2.LINE_AA)


def highlight_box(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``image`` with everything outside ``box`` dimmed and the box outlined thickly: the
    box a user picked in the table stands out even among hundreds on a receipt."""
    quad = np.asarray(box).reshape(4, 2).astype(np.int32)
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [quad], 255)
    out = (image.astype(np.float32) * 0.45).astype(np.uint8)
    out[mask > 0] = image[mask > 0]
    h, w = image.shape[:2]
    cv2.polylines(out, [quad], True, (255, 215, 0), max(2, round(max(h, w) / 300)), cv2.LINE_AA)
    return out


@lru_cache(maxsize=1)
def _text_font_path() -> str | None:
    """A font that draws Chinese and Latin (OpenCV's own fonts draw neither CJK nor accents)."""
    try:
        from models.synth.fonts import font_bank

        return font_bank().cjk[0]
    except (RuntimeError, IndexError, OSError):
        return None


def _font(size: int) -> ImageFont.ImageFont:
    path = _text_font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def draw_texts_beside(picture: np.ndarray, boxes: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """``picture`` (the drawn boxes) with a white panel of the same size on its right, where each
    box is outlined again in its colour with its recognised text written inside, sized to fit
    (PaddleOCR's ``draw_ocr_box_txt`` layout: text never covers the image)."""
    h, w = picture.shape[:2]
    panel = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(panel)
    for i, (box, text) in enumerate(zip(np.asarray(boxes).reshape(-1, 4, 2), texts)):
        color = PALETTE[i % len(PALETTE)]
        draw.polygon([(int(x), int(y)) for x, y in box], outline=color)
        if not text:
            continue
        (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
        size = max(8, int((y1 - y0) * 0.8))
        font = _font(size)
        width = draw.textlength(text, font=font)
        if width > max(x1 - x0, 1):          # shrink to the box's width
            size = max(8, int(size * (x1 - x0) / width))
            font = _font(size)
        draw.text((int(x0) + 1, int((y0 + y1) / 2)), text, fill=(0, 0, 0), font=font, anchor="lm")
    return np.hstack([picture, np.asarray(panel)])
