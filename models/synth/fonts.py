"""Font discovery for the renderer: every TrueType/OpenType font the system has,
split into CJK-capable fonts and Latin-only fonts (sorted, so renders are reproducible
on machines with the same fonts installed)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

from PIL import ImageFont

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
CJK_HINTS = ("cjk", "wqy", "ukai", "uming", "droidsansfallback", "notosanssc", "notoserifsc", "hei", "song")
SKIP_HINTS = ("math", "symbol", "dingbat", "emoji", "d050000l", "standardsymbols", "opensymbol")
# fonts-noto-core ships one font per script; only these families cover Latin letters.
NOTO_LATIN = re.compile(r"^noto(sans|serif)(mono|display)?-", re.IGNORECASE)


@dataclass(frozen=True)
class FontBank:
    cjk: Tuple[str, ...]
    latin: Tuple[str, ...]

    def pick(self, rng, text: str) -> str:
        """A font path able to draw ``text`` (CJK fonts for any non-ASCII text)."""
        needs_cjk = any(ord(c) > 0x2E7F for c in text)
        pool = self.cjk if needs_cjk or not self.latin else (self.latin if rng.random() < 0.75 else self.cjk)
        return pool[int(rng.integers(len(pool)))]


@lru_cache(maxsize=1)
def font_bank() -> FontBank:
    cjk: List[str] = []
    latin: List[str] = []
    for d in FONT_DIRS:
        root = Path(d)
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() not in (".ttf", ".otf", ".ttc"):
                continue
            name = p.name.lower()
            if any(h in name for h in SKIP_HINTS):
                continue
            if any(h in name for h in CJK_HINTS):
                cjk.append(str(p))
            elif not name.startswith("noto") or NOTO_LATIN.match(name):
                latin.append(str(p))
    if not cjk:
        raise RuntimeError("no CJK font found: install fonts-noto-cjk or fonts-wqy-microhei "
                           "(apt-get install fonts-noto-cjk fonts-wqy-microhei)")
    return FontBank(tuple(cjk), tuple(latin))


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)
