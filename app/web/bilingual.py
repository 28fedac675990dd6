"""Gradio's built-in English texts made bilingual in the browser (toast titles, upload hints).

Why a page script: Gradio 6.31 renders a toast's title from its level ("Warning"), not from
the ``title`` the code passes, and ``gr.I18n`` translations cannot replace its built-in
strings. The script swaps text nodes whose whole text is one of
:data:`app.web.wording.GRADIO_TEXTS` and keeps doing so for nodes Gradio adds or rewrites
later; anything else on the page is left alone. Replacements keep the English words, so
nothing that looks for them stops finding them.
"""
from __future__ import annotations

import json

from . import wording as W

_SCRIPT = """
() => {
  const texts = %s;
  const swap = (root) => {
    if (!root) return;
    if (root.nodeType === Node.TEXT_NODE) {
      const t = root.nodeValue.trim();
      if (Object.prototype.hasOwnProperty.call(texts, t)) root.nodeValue = root.nodeValue.replace(t, texts[t]);
      return;
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) swap(n);
  };
  swap(document.body);
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.type === "characterData") swap(c.target);
      else c.addedNodes.forEach(swap);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


def page_script() -> str:
    """The ``js`` for ``launch()``: one function Gradio runs when the page loads."""
    return _SCRIPT % json.dumps(W.GRADIO_TEXTS, ensure_ascii=False)
