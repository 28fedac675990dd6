"""Real layout engines of the renderer: HTML pages (headless Chromium) and PDF pages (poppler).

Boxes must lie on ink and be tight, survive the ICDAR writer/reader round trip, and be
deterministic for a seed. The PDF tests use PDFs written here (one gzip-compressed, with
blank pages), so they do not depend on which manuals a machine has installed.
"""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.data.icdar import read_split
from models.synth.layout_boxes import EngineUnavailable
from models.synth.render import render_sample
from models.synth.types import SynthConfig
from models.synth.writer import write_dataset

ROOT = Path(__file__).resolve().parent.parent

SMALL = dict(long_side=(360, 480), photo_prob=0.0)


def _pdf(pages) -> bytes:
    """A minimal PDF: ``pages`` is a list of pages, each a list of (x, y from top, size, text)."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", None,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    kids = []
    for lines in pages:
        ops = "".join(f"BT /F1 {size} Tf {x} {792 - y} Td ({text.replace('(', '[').replace(')', ']')}) Tj ET\n"
                      for x, y, size, text in lines)
        objs.append(f"<< /Length {len(ops)} >>\nstream\n{ops}endstream")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                    f"/Contents {len(objs)} 0 R >>")
        kids.append(len(objs))
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _text_page(seed: int):
    rng = np.random.default_rng(seed)
    words = ["Install", "the", "package", "before", "running", "configure", "daemon", "Section", "4.2", "options",
             "network", "interface", "restart", "service", "file", "system", "(see", "below)", "kernel", "module"]
    lines, y = [], 60.0
    while y < 700:
        size = float(rng.choice([9, 10, 11, 12, 14, 18]))
        text = " ".join(rng.choice(words, int(rng.integers(3, 10))))
        lines.append((72 + float(rng.integers(0, 60)), y, size, text))
        y += size * float(rng.uniform(1.4, 2.6))
    return lines


@pytest.fixture(scope="module")
def pdf_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pdfs")
    (d / "manual.pdf.gz").write_bytes(gzip.compress(_pdf([[], _text_page(1), [], _text_page(2)])))
    (d / "guide.pdf").write_bytes(_pdf([[], [], _text_page(3), _text_page(4)]))
    (d / "placeholder.pdf").write_bytes(_pdf([[(72, 100, 12, "not available in this language")]]))
    return d


def _check_ink(img: np.ndarray, items) -> int:
    """Every labelled box holds ink and is tight: its outer rows and columns touch ink."""
    bg = np.median(img.reshape(-1, 3), axis=0)
    H, W = img.shape[:2]
    checked = 0
    for it in items:
        if it.ignore:
            continue
        x0, y0 = np.floor(it.quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(it.quad.max(axis=0)).astype(int)
        region = img[y0:y1, x0:x1].astype(np.int16)
        assert region.size, it.text
        xa, ya, xb, yb = max(0, x0 - 3), max(0, y0 - 3), min(W, x1 + 3), min(H, y1 + 3)
        ring = np.ones((yb - ya, xb - xa), bool)
        ring[y0 - ya:y1 - ya, x0 - xa:x1 - xa] = False
        local_bg = np.median(img[ya:yb, xa:xb][ring], axis=0) if ring.any() else bg
        diff = np.abs(region - local_bg).max(axis=2)
        assert (diff > 40).any() and np.abs(region - bg).max() > 40, f"box of {it.text!r} at {(x0, y0, x1, y1)} holds no ink"
        # tight: ink (anti-aliased edges count) on the outer rows and columns, except where
        # the box was clipped to the image's last row/column
        ink = diff > 16
        sides = [ink[:2].any(), ink[-2:].any() or y1 >= H - 1, ink[:, :2].any(), ink[:, -2:].any() or x1 >= W - 1]
        assert all(sides), f"box of {it.text!r} at {(x0, y0, x1, y1)} is not tight: {sides}"
        checked += 1
    return checked


def _same(a, b) -> None:
    assert a.category == b.category
    assert np.array_equal(a.image, b.image)
    assert [it.text for it in a.items] == [it.text for it in b.items]
    for p, q in zip(a.items, b.items):
        assert np.array_equal(p.quad, q.quad) and p.ignore == q.ignore


def _roundtrip(tmp_path: Path, cfg: SynthConfig, count: int) -> None:
    write_dataset(tmp_path, count, cfg, "train")
    samples = read_split(tmp_path, "train")
    assert len(samples) == count
    for i, s in enumerate(samples):
        ref = render_sample(i, cfg)
        assert [r.text for r in s.regions] == ["###" if it.ignore else it.text for it in ref.items]
        for r, it in zip(s.regions, ref.items):
            assert np.array_equal(r.points, np.round(it.quad).astype(np.float32))
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "train_images").iterdir()}
    write_dataset(tmp_path, count, cfg, "train")      # cached: nothing is rendered again
    assert before == {p.name: p.stat().st_mtime_ns for p in (tmp_path / "train_images").iterdir()}


# --------------------------------------------------------------------------- pdf
def test_pdf_pages_boxes_on_ink_and_deterministic(pdf_dir, monkeypatch):
    monkeypatch.setenv("SYNTH_PDF_DIRS", str(pdf_dir))
    from models.synth.pdf import catalog

    docs = catalog()
    assert sorted(Path(d.source).name for d in docs) == ["guide.pdf", "manual.pdf.gz"]   # gz read, placeholder skipped
    cfg = SynthConfig(seed=11, mix=(("pdf", 1.0),), **SMALL)
    for i in range(2):
        s = render_sample(i, cfg)
        assert s.category == "pdf"
        assert _check_ink(s.image, s.items) >= 2      # blank pages were skipped
        texts = " ".join(it.text for it in s.items)
        assert any(w in texts for w in ("Install", "package", "network", "kernel", "service"))
    _same(render_sample(1, cfg), render_sample(1, cfg))


def test_pdf_words_and_degraded_roundtrip(pdf_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_PDF_DIRS", str(pdf_dir))
    from models.synth.pdf import layout_pdf

    cfg = SynthConfig(seed=5, **SMALL)
    _, lines = layout_pdf(np.random.default_rng(3), None, None, cfg)
    _, words = layout_pdf(np.random.default_rng(3), None, None, cfg, granularity="word")
    assert len(words) > len(lines) and all(" " not in it.text for it in words)
    _roundtrip(tmp_path, SynthConfig(seed=12, mix=(("pdf", 1.0),), long_side=(360, 480), photo_prob=1.0), 2)


def test_pdf_missing_manuals_is_a_clear_error(tmp_path, monkeypatch):
    from models.synth.pdf import check_available

    with pytest.raises(EngineUnavailable, match="apt-get install debian-reference-zh-cn"):
        check_available([str(tmp_path)])
    env = dict(os.environ, SYNTH_PDF_DIRS=str(tmp_path), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "app", "synth", "--count", "1", "--output", str(tmp_path / "out"),
                        "--mix", "pdf=1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "apt-get install" in r.stderr and "Traceback" not in r.stderr, r.stderr


# --------------------------------------------------------------------------- html
@pytest.fixture(scope="module")
def browser():
    from models.synth.html import browser as html_render

    yield html_render.engine()
    html_render.close_engine()


def test_html_pages_boxes_on_ink_and_deterministic(browser, tmp_path):
    cfg = SynthConfig(seed=21, mix=(("html", 1.0),), **SMALL)
    for i in range(2):
        s = render_sample(i, cfg)
        assert s.category == "html"
        assert _check_ink(s.image, s.items) >= 3
    _same(render_sample(0, cfg), render_sample(0, cfg))
    _roundtrip(tmp_path, SynthConfig(seed=22, mix=(("html", 1.0),), long_side=(360, 480), photo_prob=1.0), 2)


def test_html_templates_lines_and_words(browser):
    from models.synth.fonts import font_bank
    from models.synth.html.layout import layout_html
    from models.synth.text_sources import TextSource

    cfg = SynthConfig(**SMALL)
    img, lines = layout_html(np.random.default_rng(4), TextSource(4), font_bank(), cfg, template="invoice")
    _, words = layout_html(np.random.default_rng(4), TextSource(4), font_bank(), cfg, template="invoice",
                           granularity="word")
    assert _check_ink(img, lines) >= 10
    assert len(words) > len(lines)


def test_html_missing_chromium_is_a_clear_error(tmp_path):
    from models.synth.html.browser import HtmlEngine

    with pytest.raises(EngineUnavailable, match="apt-get install chromium"):
        HtmlEngine(executable=str(tmp_path / "chromium"))
    env = dict(os.environ, SYNTH_CHROMIUM=str(tmp_path / "chromium"), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "app", "synth", "--count", "1", "--output", str(tmp_path / "out"),
                        "--mix", "html=1,receipt=1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "apt-get install chromium" in r.stderr and "Traceback" not in r.stderr, r.stderr
