"""Random but reproducible page styles: language, font faces (by their fontconfig names),
CSS sizes and colours, and seed-only dates and ID numbers."""
from __future__ import annotations

import html as _html
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..fonts import FontBank
from ..layout_boxes import EngineUnavailable
from ..text_sources import TextSource

_WEIGHTS = (("thin", 100), ("extralight", 200), ("ultralight", 200), ("light", 300), ("medium", 500),
            ("semibold", 600), ("demibold", 600), ("extrabold", 800), ("black", 900), ("heavy", 900),
            ("bold", 700))


@dataclass(frozen=True)
class Face:
    family: str
    weight: int
    italic: bool

    def css(self, fallback: Optional["Face"] = None) -> str:
        fam = f'"{self.family}"' + (f', "{fallback.family}"' if fallback else "") + ", sans-serif"
        return f"font-family:{fam};font-weight:{self.weight};font-style:{'italic' if self.italic else 'normal'};"


@lru_cache(maxsize=4)
def faces(fonts: FontBank) -> Tuple[Tuple[Face, ...], Tuple[Face, ...]]:
    """(CJK faces, Latin faces) of the font bank, by the names fontconfig knows them by."""
    from PIL import ImageFont

    def face(path: str) -> Optional[Face]:
        try:
            family, style = ImageFont.truetype(path, 12).getname()
        except OSError:
            return None
        if family.startswith(("Noto Sans CJK", "Noto Serif CJK")):
            family = family.rsplit(" ", 1)[0] + " SC"    # the collection holds SC; the name is JP
        s = (style or "").lower().replace(" ", "").replace("-", "")
        weight = next((w for k, w in _WEIGHTS if k in s), 400)
        return Face(family, weight, "italic" in s or "oblique" in s)

    def collect(paths: Sequence[str]) -> Tuple[Face, ...]:
        out: List[Face] = []
        for p in paths:
            f = face(p)
            if f is not None and f not in out:
                out.append(f)
        return tuple(out)

    return collect(fonts.cjk), collect(fonts.latin)


def hex_color(c: Sequence[int]) -> str:
    return "#%02x%02x%02x" % tuple(int(max(0, min(255, v))) for v in c)


class Style:
    """Random choices for one page: language, faces, sizes and colours."""

    def __init__(self, rng: np.random.Generator, src: TextSource, fonts: FontBank) -> None:
        self.rng, self.src = rng, src
        self.cjk, self.latin = faces(fonts)
        if not self.cjk:
            raise EngineUnavailable("no CJK font found: apt-get install fonts-noto-cjk fonts-wqy-microhei")
        self.latin = self.latin or self.cjk
        self.mono = tuple(f for f in self.latin if "mono" in f.family.lower()) or self.latin
        self.lang = str(rng.choice(["zh", "en", "mix"], p=[0.55, 0.25, 0.2]))

    # language
    def zh(self) -> bool:
        return self.lang == "zh" or (self.lang == "mix" and self.rng.random() < 0.5)

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh() else en

    # fonts
    def font(self, mono: bool = False, plain: bool = False) -> str:
        """CSS for a random face; CJK text falls back to a CJK face."""
        cjk = self.cjk[int(self.rng.integers(len(self.cjk)))]
        if plain:   # regular weight, upright
            cjk = next((f for f in self.cjk if f.family == cjk.family and f.weight == 400), cjk)
        if mono:
            face = self.mono[int(self.rng.integers(len(self.mono)))]
            return (Face(face.family, 400, False) if plain else face).css(cjk)
        if self.lang == "zh" and self.rng.random() < 0.5:
            return cjk.css()
        latin = self.latin[int(self.rng.integers(len(self.latin)))]
        if plain:
            latin = Face(latin.family, 400, False)
        return latin.css(cjk)

    def px(self, lo: float, hi: float) -> int:
        """Log-uniform size in CSS px (small text is common and must be learnt)."""
        return int(round(math.exp(self.rng.uniform(math.log(lo), math.log(hi)))))

    # colours
    def ink(self) -> str:
        base = int(self.rng.integers(0, 80))
        tint = self.rng.integers(-25, 26, 3) * (self.rng.random() < 0.4)
        return hex_color([base + t for t in tint])

    def paper(self) -> str:
        base = int(self.rng.integers(225, 256))
        warm = int(self.rng.integers(0, 16))
        return hex_color((base, base - warm // 2, base - warm))

    def accent(self, dark: bool = True) -> str:
        lo, hi = (20, 150) if dark else (150, 250)
        return hex_color(self.rng.integers(lo, hi, 3))

    def line(self) -> str:
        return hex_color([int(self.rng.integers(60, 190))] * 3) if self.rng.random() < 0.6 else self.accent()

    def pick(self, items: Sequence):
        return items[int(self.rng.integers(len(items)))]

    # Faker's dates and zh_CN ID numbers depend on today's date: these depend on the seed only.
    def date(self, time: bool = True) -> str:
        y, m, d = int(self.rng.integers(1960, 2031)), int(self.rng.integers(1, 13)), int(self.rng.integers(1, 29))
        hh, mm, ss = (int(v) for v in self.rng.integers(0, [24, 60, 60]))
        forms = [f"{y}-{m:02d}-{d:02d}", f"{y}/{m:02d}/{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{y}年{m}月{d}日"]
        if time:
            forms.append(f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}")
        return self.pick(forms)

    def ssn(self) -> str:
        """An 18-digit PRC resident ID number with a valid check digit."""
        digits = [int(self.rng.integers(1, 7))] + [int(v) for v in self.rng.integers(0, 10, 5)]
        digits += [int(c) for c in f"{int(self.rng.integers(1950, 2010))}{int(self.rng.integers(1, 13)):02d}"
                   f"{int(self.rng.integers(1, 29)):02d}"] + [int(v) for v in self.rng.integers(0, 10, 3)]
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(a * b for a, b in zip(digits, weights)) % 11]
        return "".join(map(str, digits)) + check


def esc(s: str) -> str:
    return _html.escape(str(s), quote=True)
