"""One headless Chromium per process (through Playwright), started on first use: renders a
page twice (with text, and with text made transparent) and measures every word's boxes."""
from __future__ import annotations

import atexit
import os
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from ..layout_boxes import EngineUnavailable

CHROMIUM = os.environ.get("SYNTH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars"]
INSTALL_HINT = ("install the Debian Chromium (apt-get install chromium) and Playwright for Python "
                "(.venv/bin/pip install playwright; `playwright install` is not needed)")

_TOKENS_JS = r"""
() => {
  const CJK = '\u2E80-\u9FFF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF\u3000-\u303F';
  const re = new RegExp('[' + CJK + ']|[^\\s' + CJK + ']+', 'g');
  const groups = new Map();
  const blockOf = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const d = getComputedStyle(e).display;
      if (d !== 'inline' && d !== 'contents') return e;
    }
    return document.body;
  };
  const out = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || !node.data.trim()) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible' || cs.display === 'none') continue;
    const blk = blockOf(el);
    if (!groups.has(blk)) groups.set(blk, groups.size);
    const gid = groups.get(blk);
    const ign = el.closest('[data-ignore]') ? 1 : 0;
    re.lastIndex = 0;
    let m;
    while ((m = re.exec(node.data))) {
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = range.getClientRects();
      for (let k = 0; k < rects.length; k++) {
        const q = rects[k];
        if (q.width > 0 && q.height > 0) out.push([gid, q.left, q.top, q.right, q.bottom, k ? '' : m[0], ign]);
      }
    }
  }
  return out;
}
"""

# Remove repeated rows/items (data-trim) from the end until the content fits the viewport.
_TRIM_JS = r"""
(H) => {
  const bottom = () => {
    let m = 0;
    for (const e of document.body.querySelectorAll('*')) {
      // containers (page, card) may fill the viewport: only leaves and text holders count
      const text = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.data.trim());
      if ((e.children.length && !text) || getComputedStyle(e).position === 'fixed') continue;
      const r = e.getBoundingClientRect();
      if (r.height > 0 && r.bottom > m) m = r.bottom;
    }
    return m;
  };
  const trims = Array.from(document.querySelectorAll('[data-trim]'));
  while (trims.length && bottom() > H) trims.pop().remove();
  return bottom();
}
"""

_HIDE_TEXT_CSS = ("*, *::before, *::after { -webkit-text-fill-color: transparent !important; "
                  "-webkit-text-stroke-width: 0 !important; text-shadow: none !important; }")


class HtmlEngine:
    """One headless Chromium; one tab per device scale factor."""

    def __init__(self, executable: str = CHROMIUM) -> None:
        if not os.path.isfile(executable):
            raise EngineUnavailable(f"the 'html' synth category needs Chromium at {executable}: {INSTALL_HINT}")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise EngineUnavailable(f"the 'html' synth category needs Playwright for Python ({exc}): {INSTALL_HINT}") from exc
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:
            self._pw.stop()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineUnavailable(f"could not start Chromium ({executable}): {first}; "
                                    f"check that `{executable} --headless --no-sandbox --disable-gpu` runs") from None
        self._pages: Dict[float, object] = {}
        self.pid = os.getpid()

    def _page(self, scale: float):
        page = self._pages.get(scale)
        if page is None:
            ctx = self._browser.new_context(viewport={"width": 800, "height": 600}, device_scale_factor=scale,
                                            offline=True, java_script_enabled=True)
            page = ctx.new_page()
            self._pages[scale] = page
        return page

    def render(self, document: str, width: int, height: int, scale: float
               ) -> Tuple[np.ndarray, np.ndarray, List[list]]:
        """Render ``document`` in a ``width`` x ``height`` CSS-px viewport.

        Returns the page (RGB), the same page without text, and the raw tokens
        ``[group, x0, y0, x1, y1, text, ignore]`` in CSS px.
        """
        page = self._page(scale)
        page.set_viewport_size({"width": int(width), "height": int(height)})
        page.set_content(document, wait_until="load")
        page.evaluate("document.fonts.ready.then(() => 1)")
        page.evaluate(_TRIM_JS, int(height))
        tokens = page.evaluate(_TOKENS_JS)
        shot = page.screenshot(type="png", animations="disabled", caret="hide")
        page.add_style_tag(content=_HIDE_TEXT_CSS)
        bare = page.screenshot(type="png", animations="disabled", caret="hide")
        return _decode(shot), _decode(bare), tokens

    def close(self) -> None:
        try:
            self._browser.close()
        except Exception:
            pass
        try:
            self._pw.stop()
        except Exception:
            pass


def _decode(png: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


_ENGINE: Optional[HtmlEngine] = None


def engine() -> HtmlEngine:
    """The process's browser, started on first use and closed at exit."""
    global _ENGINE
    if _ENGINE is None or _ENGINE.pid != os.getpid():
        _ENGINE = HtmlEngine()
    return _ENGINE


def close_engine() -> None:
    global _ENGINE
    if _ENGINE is not None and _ENGINE.pid == os.getpid():
        _ENGINE.close()
    _ENGINE = None


atexit.register(close_engine)


def check_available() -> None:
    """Raise :class:`EngineUnavailable` (saying what to install) unless pages can be rendered."""
    engine()
