"""One HTML page: pick a template and a scale, render it, and turn the browser's word boxes
into tight text-line (or word) items, like the PIL layouts return."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..fonts import FontBank
from ..layout_boxes import EngineUnavailable, Token, merge_tokens, quad, separate_lines, tighten_box, visible_text
from ..text_sources import TextSource
from ..types import TextItem
from .browser import close_engine, engine
from .style import Style
from .templates import TEMPLATES, page_document

SCALES = (0.75, 1.0, 1.25, 1.5, 2.0)           # device scale factors (CSS px -> image px)


def layout_html(rng: np.random.Generator, src: TextSource, fonts: FontBank, cfg, granularity: str = "line",
                template: Optional[str] = None) -> Tuple[np.ndarray, list]:
    """Render one page; returns ``(RGB image, [TextItem])`` like the PIL layouts.

    Args:
        rng, src, fonts, cfg: as for every layout of :mod:`models.synth.render`.
        granularity: ``"line"`` (the renderer's) or ``"word"``.
        template: force one template by name (tests, previews).
    """
    names = [t.name for t in TEMPLATES]
    p = np.array([t.weight for t in TEMPLATES])
    k = int(rng.choice(len(TEMPLATES), p=p / p.sum()))
    if template is not None:
        k = names.index(template)
    tpl = TEMPLATES[k]
    long_px = int(rng.integers(cfg.long_side[0], cfg.long_side[1] + 1))
    aspect = float(rng.uniform(*tpl.aspect))
    scales = [s for s in SCALES if tpl.long_css[0] <= long_px / s <= tpl.long_css[1]] or [1.0]
    scale = float(scales[int(rng.integers(len(scales)))])
    long_css = long_px / scale
    w_css, h_css = (int(round(long_css)), int(round(long_css / aspect))) if aspect >= 1 else \
        (int(round(long_css * aspect)), int(round(long_css)))
    style = Style(rng, src, fonts)
    css, body = tpl.build(style, w_css, h_css)
    document = page_document(css, body, w_css, h_css)
    try:
        img, bare, raw = engine().render(document, w_css, h_css, scale)
    except EngineUnavailable:
        raise
    except Exception:
        close_engine()
        img, bare, raw = engine().render(document, w_css, h_css, scale)
    H, W = img.shape[:2]
    sx, sy = W / w_css, H / h_css
    tokens = [Token(int(g), x0 * sx, y0 * sy, x1 * sx, y1 * sy, str(t), bool(ign)) for g, x0, y0, x1, y1, t, ign in raw]
    runs = merge_tokens(tokens, granularity)
    separate_lines(runs)
    items = []
    for r in runs:
        if not r.text.strip():
            continue
        box, contrast = tighten_box(img, r.box, ref=bare, thresh=24)
        if box is None:
            continue   # hidden under another element, or outside the page
        text = visible_text(r.box, W, H, r.text)       # None: cut by the page's edge
        ignore = r.ignore or text is None or (box[3] - box[1]) < cfg.min_text_px or contrast < 60
        items.append(TextItem(quad(box), text or r.text, ignore=ignore))
    return img, items
