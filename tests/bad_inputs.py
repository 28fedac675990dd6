"""A corpus of awkward and hostile image files, generated on the fly (no binary fixtures).

Shared by tests/test_reliability.py (TextDetector and `python -m app detect`) and
tests/test_webui_security.py (the running server). Every case says what a correct answer
is: a successful detection of a picture of a known size, or a clear error whose message
matches ``error`` (a regular expression, matched case-insensitively).
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    """One file of the corpus and the answer it must get."""

    name: str                                  # file name (extension included)
    data: bytes
    size: Tuple[int, int] | None = None        # (width, height) after EXIF rotation when it must succeed
    error: str | None = None                   # regex for the error message when it must fail

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def stem(self) -> str:
        return Path(self.name).stem


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def page_array(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A light page with dark text-like bars, any size (1x1 included)."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 235, np.uint8)
    step = max(4, min(30, h // 3))
    for y in range(step // 2, max(h - step // 2, 1), step):
        x0 = int(rng.integers(0, max(1, w // 8)))
        img[y:y + max(1, step // 3), x0:x0 + max(1, int(w * rng.uniform(0.3, 0.8)))] = 30
    return img


def _page(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(page_array(w, h, seed))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` gray pixels (10 gigapixels).

    Decoding it would need ~10 GB; a safe reader refuses it from the header alone.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)   # a sliver of the declared data
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _noise(w: int, h: int, seed: int) -> Image.Image:
    """Noisy content, so a file cut in half really lacks pixel data (not just trailing bytes)."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def _exif_rotated() -> bytes:
    """A 120x60 JPEG whose EXIF says 'rotate 90 degrees': it is shown (and detected) as 60x120."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(_page(120, 60, 3), "JPEG", exif=exif.tobytes())


def _animated_gif() -> bytes:
    frames = [_page(96, 64, s).convert("P") for s in range(3)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _multipage_tiff() -> bytes:
    return _encode(_page(100, 80, 4), "TIFF", save_all=True, append_images=[_page(50, 40, 5)])


def _cmyk_jpeg() -> bytes:
    return _encode(_page(80, 64, 6).convert("CMYK"), "JPEG")


def _deep_png() -> bytes:
    arr = (page_array(90, 60, 7)[..., 0].astype(np.uint16) * 257)
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16"), img.mode
    return _encode(img, "PNG")


def _rgba_png() -> bytes:
    rgba = np.dstack([page_array(96, 64, 8), np.full((64, 96), 200, np.uint8)])
    return _encode(Image.fromarray(rgba, "RGBA"), "PNG")


SVG = (b"<?xml version='1.0' encoding='UTF-8'?>\n<svg xmlns='http://www.w3.org/2000/svg' width='100' "
       b"height='50'><text x='5' y='30'>hello</text></svg>\n")
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] "
       b"/Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def corpus() -> Dict[str, Case]:
    """Every kind of file the issue lists, keyed by a short kind name."""
    good_jpeg = _encode(_noise(200, 150, 1), "JPEG", quality=90)
    good_png = _encode(_noise(120, 90, 2), "PNG")
    rng = np.random.default_rng(42)
    cases = [
        ("zero_bytes", Case("zero_bytes.jpg", b"", error=r"empty \(0 bytes\)")),
        ("random_bytes", Case("random_bytes.jpg", b"\x13\x37" + rng.bytes(4000),
                              error="not a recognised image")),
        ("truncated_jpeg", Case("truncated.jpg", good_jpeg[: len(good_jpeg) // 2], error="truncated|corrupt")),
        ("truncated_png", Case("truncated.png", good_png[: len(good_png) // 2], error="truncated|corrupt|decoded")),
        ("bomb_png", Case("bomb_100000x100000.png", bomb_png(), error="too large|megapixels")),
        ("one_pixel", Case("one_pixel.png", _encode(Image.new("RGB", (1, 1), (0, 0, 0)), "PNG"), size=(1, 1))),
        ("strip_20000x20", Case("strip_20000x20.png", _encode(_page(20000, 20, 9), "PNG"), size=(20000, 20))),
        ("png_16bit", Case("deep_16bit.png", _deep_png(), size=(90, 60))),
        ("grayscale", Case("gray.png", _encode(_page(96, 64, 10).convert("L"), "PNG"), size=(96, 64))),
        ("rgba", Case("rgba.png", _rgba_png(), size=(96, 64))),
        ("palette", Case("palette.png", _encode(_page(96, 64, 11).convert("P"), "PNG"), size=(96, 64))),
        ("cmyk_jpeg", Case("cmyk.jpg", _cmyk_jpeg(), size=(80, 64))),
        ("exif_rotated", Case("exif_rotated.jpg", _exif_rotated(), size=(60, 120))),
        ("animated_gif", Case("animated.gif", _animated_gif(), size=(96, 64))),
        ("multipage_tiff", Case("multipage.tiff", _multipage_tiff(), size=(100, 80))),
        ("webp", Case("picture.webp", _encode(_page(96, 64, 12), "WEBP", quality=90), size=(96, 64))),
        ("svg_as_png", Case("drawing_svg.png", SVG, error="SVG")),
        ("pdf_as_png", Case("document_pdf.png", PDF, error="PDF")),
        ("unicode_name", Case("扫描 发票 scan 1.png", _encode(_page(96, 64, 13), "PNG"), size=(96, 64))),
    ]
    return dict(cases)


def write_corpus(folder: Path) -> Dict[str, Tuple[Case, Path]]:
    """Write every case into ``folder``; returns kind -> (case, path)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, case in corpus().items():
        path = folder / case.name
        path.write_bytes(case.data)
        out[kind] = (case, path)
    return out
