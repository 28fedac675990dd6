"""Real document pages: PDF manuals shipped by Debian packages, rendered by poppler.

Pages come from the PDFs installed under ``/usr/share/doc`` and
``/usr/share/debian-reference`` (``.pdf`` and gzip-compressed ``.pdf.gz``; or the folders
in ``SYNTH_PDF_DIRS``, separated by ``:``). Chinese and English manuals that ship PDFs
in Debian 12: ``debian-reference-zh-cn``, ``debian-reference-en``, ``maint-guide-zh-cn``,
``maint-guide``, ``linuxcnc-doc-zh-cn``, ``debian-faq``, ``python-reportlab-doc``,
``gri-pdf-doc``, ``docbook-xsl-doc-pdf`` (see README).

A page is drawn from the seed (document, then page; near-blank pages are skipped), then
rendered by ``pdftoppm`` at a random resolution, either whole (the page photographed from
afar) or as a window around some text (a close-up). Boxes come from
``pdftotext -bbox-layout``: its text **lines**, split at wide gaps and at dot leaders
(table-of-contents rows), scaled to the pixel grid and shrunk to their ink; words with
``granularity="word"``. Embedded raster images (screenshots, photos: text without a text
layer) become ``###`` regions so that the detector is not taught to ignore their text.
``photographic()`` degradation is applied by ``render_sample``.
"""
from __future__ import annotations

import gzip
import html
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..files import atomic_write_bytes, sha256_file
from .layout_boxes import EngineUnavailable, Token, merge_tokens, quad, separate_lines, tighten_box, visible_text
from .types import TextItem

PDF_DIRS = ("/usr/share/doc", "/usr/share/debian-reference")
DOC_PACKAGES = ("debian-reference-zh-cn", "debian-reference-en", "maint-guide-zh-cn", "maint-guide",
                "linuxcnc-doc-zh-cn", "debian-faq", "python-reportlab-doc", "gri-pdf-doc")
TOOLS = ("pdftoppm", "pdftotext", "pdfinfo", "pdfimages", "pdftohtml")
MIN_LINES = 5          # pages with fewer text lines count as blank (and one-page placeholders)
MAX_TRIES = 12


@dataclass(frozen=True)
class PdfDoc:
    source: str        # the installed file (.pdf or .pdf.gz)
    path: str          # a readable .pdf (the source, or its decompressed copy)
    pages: int


def pdf_dirs() -> Tuple[str, ...]:
    env = os.environ.get("SYNTH_PDF_DIRS", "")
    return tuple(d for d in env.split(os.pathsep) if d) or PDF_DIRS


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "cv_resnet18_ocr" / "pdf"


def _run(args: Sequence[str], timeout: float = 60) -> bytes:
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True,
                          timeout=timeout).stdout


def _readable(src: Path) -> Optional[Path]:
    """The file itself, or for .pdf.gz a decompressed copy in the cache (written atomically)."""
    if not src.name.endswith(".gz"):
        return src
    out = _cache_dir() / f"{sha256_file(src)[:20]}.pdf"
    if not out.is_file():
        try:
            data = gzip.decompress(src.read_bytes())
        except (OSError, EOFError):
            return None
        atomic_write_bytes(out, data)
    return out


def check_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        raise EngineUnavailable(f"the 'pdf' synth category needs poppler-utils ({', '.join(missing)} not found): "
                                f"apt-get install poppler-utils")


def catalog(dirs: Optional[Sequence[str]] = None) -> Tuple[PdfDoc, ...]:
    """Every readable PDF under ``dirs`` (default :func:`pdf_dirs`), sorted by path, duplicates
    (symlinks, copies shipped by several packages) removed. Computed once per process."""
    check_tools()
    return _catalog(tuple(dirs) if dirs else pdf_dirs())


@lru_cache(maxsize=8)
def _catalog(dirs: Tuple[str, ...]) -> Tuple[PdfDoc, ...]:
    found = []
    for d in dirs:
        root = Path(d)
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.name.lower().endswith((".pdf", ".pdf.gz")) and p.is_file()]
    docs: List[PdfDoc] = []
    seen = set()
    for p in sorted(set(found), key=str):
        try:
            key = (p.stat().st_size, sha256_file(p, limit=1 << 20))
        except OSError:
            continue
        if key in seen:
            continue
        seen.add(key)
        try:
            path = _readable(p)
            if path is None:
                continue
            info = _run(["pdfinfo", str(path)], timeout=30).decode("utf-8", "replace")
        except (subprocess.SubprocessError, OSError):
            continue
        m = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
        # one-page PDFs in doc packages are placeholders ("not available in this language")
        if m and int(m.group(1)) > 1 and "Encrypted:       yes" not in info:
            docs.append(PdfDoc(str(p), str(path), int(m.group(1))))
    return tuple(docs)


def check_available(dirs: Optional[Sequence[str]] = None) -> None:
    """Raise :class:`EngineUnavailable` (saying what to install) unless pages can be rendered."""
    if not catalog(dirs):
        raise EngineUnavailable(
            f"the 'pdf' synth category found no PDF under {', '.join(dirs or pdf_dirs())}: install Debian manuals that ship "
            f"PDFs, e.g. apt-get install {' '.join(DOC_PACKAGES)} (or set SYNTH_PDF_DIRS to folders of PDFs)")


# --------------------------------------------------------------------------- text layout
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', re.S)
_LEADER = re.compile(r"^[.·…․‥]+$")


@dataclass
class PageText:
    width: float       # points
    height: float
    lines: List[List[Tuple[float, float, float, float, str]]]   # words per line, in points


def page_text(doc: PdfDoc, page: int) -> PageText:
    """Words of one page grouped in the lines found by ``pdftotext -bbox-layout``."""
    out = _run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), doc.path, "-"]).decode("utf-8", "replace")
    m = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', out)
    if not m:
        return PageText(0, 0, [])
    lines = []
    for chunk in re.findall(r"<line [^>]*>(.*?)</line>", out, re.S):
        words = [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in _WORD.findall(chunk)]
        words = [w for w in words if w[4].strip() and w[2] > w[0] and w[3] > w[1]]
        if words:
            lines.append(words)
    return PageText(float(m.group(1)), float(m.group(2)), lines)


def _text_lines(pt: PageText) -> int:
    return sum(1 for ln in pt.lines if any(not _LEADER.match(w[4]) for w in ln))


def page_images(doc: PdfDoc, page: int) -> List[Tuple[float, float, float, float]]:
    """Rectangles (points) of the raster images drawn on a page."""
    listing = _run(["pdfimages", "-list", "-f", str(page), "-l", str(page), doc.path]).decode("utf-8", "replace")
    if len(listing.strip().splitlines()) <= 2:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        xml = _run(["pdftohtml", "-xml", "-zoom", "1", "-q", "-f", str(page), "-l", str(page), doc.path,
                    os.path.join(tmp, "p")])
        try:
            xml = Path(tmp, "p.xml").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
    rects = []
    for top, left, w, h in re.findall(r'<image top="([-\d.]+)" left="([-\d.]+)" width="([-\d.]+)" height="([-\d.]+)"', xml):
        rects.append((float(left), float(top), float(left) + float(w), float(top) + float(h)))
    return rects


def render_page(doc: PdfDoc, page: int, dpi: float, crop: Tuple[int, int, int, int], antialias: bool = True) -> np.ndarray:
    """RGB pixels of ``crop`` = (x, y, w, h) of a page rendered at ``dpi``."""
    x, y, w, h = crop
    args = ["pdftoppm", "-f", str(page), "-l", str(page), "-r", f"{dpi:.3f}", "-x", str(x), "-y", str(y),
            "-W", str(w), "-H", str(h), "-singlefile", "-png"]
    if not antialias:
        args += ["-aa", "no", "-aaVector", "no"]
    png = _run(args + [doc.path], timeout=120)
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError(f"pdftoppm rendered nothing for {doc.source} page {page}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


# --------------------------------------------------------------------------- layout
def _choose_page(rng: np.random.Generator, docs: Sequence[PdfDoc]) -> Tuple[PdfDoc, int, PageText]:
    best = None
    for _ in range(MAX_TRIES):
        doc = docs[int(rng.integers(len(docs)))]
        page = int(rng.integers(1, doc.pages + 1))
        try:
            pt = page_text(doc, page)
        except (subprocess.SubprocessError, OSError):
            continue
        n = _text_lines(pt)
        if pt.width > 0 and (best is None or n > best[0]):
            best = (n, doc, page, pt)
        if n >= MIN_LINES:
            break
    if best is None:
        raise EngineUnavailable("none of the installed PDFs could be read by pdftotext; reinstall poppler-utils")
    return best[1], best[2], best[3]


def layout_pdf(rng: np.random.Generator, src, fonts, cfg, granularity: str = "line",
               dirs: Optional[Sequence[str]] = None) -> Tuple[np.ndarray, list]:
    """Render one PDF page (or a window of it); returns ``(RGB image, [TextItem])``.

    Args:
        rng, src, fonts, cfg: as for every layout of :mod:`models.synth.render` (text and
            fonts come from the PDF; ``src`` and ``fonts`` are unused).
        granularity: ``"line"`` (the renderer's) or ``"word"``.
        dirs: folders to take PDFs from (default :func:`pdf_dirs`).
    """
    docs = catalog(dirs)
    if not docs:
        check_available(dirs)
    doc, page, pt = _choose_page(rng, docs)
    long_px = int(rng.integers(cfg.long_side[0], cfg.long_side[1] + 1))
    dpi_full = long_px * 72.0 / max(pt.width, pt.height)
    whole = rng.random() < 0.3
    if whole:
        dpi = dpi_full
    else:   # a close-up: body text 10-30 px high
        lo, hi = max(dpi_full * 1.2, 80.0), max(dpi_full * 1.4, 220.0)
        dpi = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    dpi = round(dpi, 3)
    s = dpi / 72.0
    page_w, page_h = int(math.ceil(pt.width * s)), int(math.ceil(pt.height * s))
    if whole:
        crop = (0, 0, page_w, page_h)
    else:
        aspect = float(rng.uniform(0.6, 1.6))
        w, h = (long_px, int(long_px / aspect)) if aspect >= 1 else (int(long_px * aspect), long_px)
        w, h = min(w, page_w), min(h, page_h)
        ax, ay = pt.width / 2 * s, pt.height / 2 * s      # a random text line, or the middle
        if pt.lines:
            first = pt.lines[int(rng.integers(len(pt.lines)))][0]
            ax, ay = first[0] * s, first[1] * s
        x = int(np.clip(ax - w * rng.uniform(0.05, 0.6), 0, page_w - w))
        y = int(np.clip(ay - h * rng.uniform(0.1, 0.7), 0, page_h - h))
        crop = (x, y, w, h)
    img = render_page(doc, page, dpi, crop, antialias=rng.random() < 0.9)
    cx, cy = crop[0], crop[1]
    H, W = img.shape[:2]
    tokens = []
    for gid, line in enumerate(pt.lines):
        for x0, y0, x1, y1, text in line:
            tokens.append(Token(gid, x0 * s - cx, y0 * s - cy, x1 * s - cx, y1 * s - cy, text,
                                separator=bool(_LEADER.match(text))))
    runs = merge_tokens(tokens, granularity)
    separate_lines(runs)
    items = []
    for r in runs:
        x0, y0, x1, y1 = r.box
        if x1 <= 0 or y1 <= 0 or x0 >= W or y0 >= H:
            continue
        box, contrast = tighten_box(img, r.box, thresh=48)
        if box is None:
            continue   # invisible text (an OCR layer, white on white)
        text = visible_text(r.box, W, H, r.text)       # None: cut by the window's edge
        vertical = (box[3] - box[1]) > 1.5 * (box[2] - box[0]) and len(r.text) > 2
        ignore = text is None or vertical or (box[3] - box[1]) < cfg.min_text_px or contrast < 80
        items.append(TextItem(quad(box), text or r.text, ignore=ignore))
    for ix0, iy0, ix1, iy1 in page_images(doc, page):   # raster images: text without a text layer
        bx = np.clip([ix0 * s - cx, iy0 * s - cy, ix1 * s - cx, iy1 * s - cy], 0, [W, H, W, H])
        if bx[2] - bx[0] >= 12 and bx[3] - bx[1] >= 12:
            items.append(TextItem(quad(bx), "###", ignore=True))
    if rng.random() < 0.4:   # paper that is not pure white
        tint = np.array([rng.uniform(0.86, 1.0)] * 3) * np.array([1.0, rng.uniform(0.97, 1.0), rng.uniform(0.92, 1.0)])
        img = (img.astype(np.float32) * tint).astype(np.uint8)
    return img, items
