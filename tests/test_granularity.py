"""Lines or words with granularity 'auto': the background cue (models.granularity) and the
CJK guard (models.script_guard: an ONNX graph built from its arrays), alone and inside DBPostProcess."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

import models.postprocess as postprocess
from models.config import DetectorConfig
from models.granularity import background_edge_density, wants_words
from models.postprocess import DBPostProcess
from models.preprocess import ResizeInfo
from models.script_guard import ScriptGuard, line_strip, load_guard, network_arrays, torch_network


def _info(h: int, w: int) -> ResizeInfo:
    return ResizeInfo(h, w, h, w, h, w)


def _sign_map(h: int = 300, w: int = 500) -> np.ndarray:
    """One line of three words joined above the threshold by 0.5 bridges (as in test_word_split)."""
    prob = np.zeros((h, w), np.float32)
    prob[130:160, 60:420] = 0.5
    for x0, x1 in ((60, 160), (190, 260), (290, 420)):
        prob[130:160, x0:x1] = 0.9
    return prob


def _busy(h: int = 300, w: int = 500, seed: int = 0) -> np.ndarray:
    """A cluttered grey background: random blocks, like leaves, bricks and windows."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 10, w // 10), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def test_background_edges_tell_a_street_from_paper():
    prob = _sign_map()
    paper = np.full(prob.shape, 235, np.uint8)
    paper[130:160, 60:420] = 30                        # the text itself: masked out, not counted
    assert background_edge_density(paper, prob) == 0.0
    assert background_edge_density(_busy(), prob) > 0.1


def test_wants_words_follows_the_setting():
    prob, busy, flat = _sign_map(), _busy(), np.full((300, 500), 200, np.uint8)
    auto = DetectorConfig(granularity="auto")
    assert wants_words(DetectorConfig(granularity="words"), 50, flat, prob)
    assert not wants_words(DetectorConfig(granularity="lines"), 1, busy, prob)
    assert wants_words(auto, 3, busy, prob)
    assert not wants_words(auto, 3, flat, prob)                         # a plain design: lines
    assert not wants_words(auto, auto.words_max_lines + 1, busy, prob)  # a page: lines
    assert wants_words(auto, 3, None, prob)                             # map only: the line count decides
    assert wants_words(auto.with_overrides(words_min_edges=0.0), 3, flat, prob)


class _Says:
    """A stand-in guard that calls every line CJK (or none)."""

    def __init__(self, p: float) -> None:
        self.p, self.calls = p, 0

    def cjk_probability(self, gray, quads):
        self.calls += 1
        return [self.p] * len(quads)


@pytest.mark.parametrize("p, boxes", [(0.9, 1), (0.1, 3)])
def test_a_cjk_line_stays_whole(monkeypatch, p, boxes):
    guard = _Says(p)
    monkeypatch.setattr(postprocess, "load_guard", lambda: guard)
    prob = _sign_map()
    for granularity in ("auto", "words"):
        quads = DBPostProcess(DetectorConfig(granularity=granularity))(prob, _info(*prob.shape), _busy()).quads
        assert len(quads) == boxes
    assert guard.calls == 2
    off = DBPostProcess(DetectorConfig(granularity="words", cjk_guard=1.0))(prob, _info(*prob.shape), _busy())
    assert len(off.quads) == 3 and guard.calls == 2                      # 1 = guard off, not asked


def test_auto_keeps_lines_on_a_plain_background(monkeypatch):
    monkeypatch.setattr(postprocess, "load_guard", lambda: _Says(0.0))
    prob = _sign_map()
    flat = np.full(prob.shape, 240, np.uint8)
    assert len(DBPostProcess(DetectorConfig(granularity="auto"))(prob, _info(*prob.shape), flat).quads) == 1
    assert len(DBPostProcess(DetectorConfig(granularity="auto"))(prob, _info(*prob.shape), _busy()).quads) == 3


def test_padding_of_the_grey_image_is_ignored(monkeypatch):
    """The detector hands over the padded model input; only its content counts."""
    monkeypatch.setattr(postprocess, "load_guard", lambda: _Says(0.0))
    prob = np.zeros((320, 512), np.float32)
    prob[:300, :500] = _sign_map()
    gray = np.zeros((320, 512), np.uint8)
    gray[:300, :500] = 240                               # flat content, black padding: edges at its border only
    info = ResizeInfo(300, 500, 300, 500, 320, 512)
    assert len(DBPostProcess(DetectorConfig(granularity="auto"))(prob, info, gray).quads) == 1


def test_the_guard_graph_matches_its_torch_network():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch_network().eval()
    arrays = network_arrays(net)
    strip = np.random.default_rng(1).standard_normal((32, 150)).astype(np.float32)
    with torch.no_grad():
        expected = torch.sigmoid(net(torch.from_numpy(strip)[None, None])).item()
    assert ScriptGuard(arrays).strip_probability(strip) == pytest.approx(expected, abs=1e-5)


def test_line_strip_is_straightened_and_standardised():
    gray = np.full((100, 300), 200, np.uint8)
    cv2.putText(gray, "Hello world", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2)
    strip = line_strip(gray, np.float32([[10, 30], [290, 30], [290, 75], [10, 75]]))
    assert strip.shape[0] == 32 and strip.shape[1] >= 128
    assert abs(float(strip[:, :190].mean())) < 0.5                   # the content, before the padding
    assert line_strip(gray, np.float32([[10, 30], [10, 30], [10, 30], [10, 30]])) is None


def _drawn_line(text: str, font_path: str, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    from models.synth.fonts import load_font
    font = load_font(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    w, h = right - left + 2 * size, bottom - top + size
    img = Image.new("L", (w, h), 235)
    ImageDraw.Draw(img).text((size - left, size // 2 - top), text, font=font, fill=25)
    quad = np.float32([[size * 0.8, size * 0.3], [w - size * 0.8, size * 0.3],
                       [w - size * 0.8, h - size * 0.3], [size * 0.8, h - size * 0.3]])
    return np.asarray(img), quad


def test_the_shipped_guard_reads_the_script():
    """The released guard on freshly drawn lines: Chinese kept whole, English cut."""
    from models.synth.fonts import font_bank
    bank = font_bank()
    guard = load_guard()
    cjk_font = next((f for f in bank.cjk if "noto" in f.lower()), bank.cjk[0])
    latin_font = next((f for f in bank.latin if "dejavusans." in f.lower()), bank.latin[0])
    chinese = [guard.cjk_probability(g, [q])[0]
               for g, q in (_drawn_line(t, cjk_font) for t in ("可乐净含量 250g", "保质期 十二个月", "出口 地铁站"))]
    english = [guard.cjk_probability(g, [q])[0]
               for g, q in (_drawn_line(t, latin_font) for t in ("Mandatory tertiary policy", "OPEN DAILY",
                                                                  "Fresh bread 250g"))]
    keep = DetectorConfig().cjk_guard
    assert min(chinese) >= keep, chinese
    assert max(english) < keep, english


def _with_word_map(prob: np.ndarray) -> np.ndarray:
    """A network with a word map: the joined line of :func:`_sign_map` and its three words apart."""
    words = np.zeros_like(prob)
    for x0, x1 in ((62, 158), (192, 258), (292, 418)):
        words[132:158, x0:x1] = 0.9
    return np.stack([prob, words])


@pytest.mark.parametrize("granularity, background, boxes", [
    ("lines", "busy", 1), ("words", "flat", 3), ("auto", "busy", 3), ("auto", "flat", 1)])
def test_a_word_map_gives_the_words_where_words_are_wanted(monkeypatch, granularity, background, boxes):
    monkeypatch.setattr(postprocess, "load_guard", lambda: _Says(0.0))
    maps = _with_word_map(_sign_map())
    gray = _busy() if background == "busy" else np.full(maps.shape[1:], 240, np.uint8)
    got = DBPostProcess(DetectorConfig(granularity=granularity))(maps, _info(*maps.shape[1:]), gray)
    assert len(got.quads) == boxes
    if boxes == 3:   # the word map's own boxes, not cuts of the line
        alone = DBPostProcess(DetectorConfig(granularity="lines"))(maps[1], _info(*maps.shape[1:]))
        assert np.array_equal(got.quads, alone.quads)


@pytest.mark.parametrize("p, boxes", [(0.9, 2), (0.1, 4)])
def test_the_word_map_is_cut_at_its_gaps_and_guarded_like_lines(monkeypatch, p, boxes):
    """Words the word map still joins are cut at its dips; a CJK region stays whole."""
    guard = _Says(p)
    monkeypatch.setattr(postprocess, "load_guard", lambda: guard)
    maps = np.stack([_sign_map(), _sign_map()])
    maps[1, 220:250, 100:300] = 0.9     # a word the line map does not hold: found all the same
    got = DBPostProcess(DetectorConfig(granularity="words"))(maps, _info(*maps.shape[1:]), _busy())
    assert len(got.quads) == boxes and guard.calls == 1


def test_a_narrow_dip_in_the_word_map_does_not_cut_a_word(monkeypatch):
    """The word map already parts the words: a dip half a height wide inside one of its regions
    (a fold across a date on a package) keeps the word whole, where the line map's own cut
    (``word_gap_width``, 0.3 heights) would part it; a dip wider than ``word_map_gap_width``
    heights still cuts."""
    monkeypatch.setattr(postprocess, "load_guard", lambda: _Says(0.0))
    line = np.zeros((300, 500), np.float32)
    line[130:160, 60:420] = 0.9
    for dip, cut in ((16, False), (40, True)):    # the region's kernel is about 24 px high
        words = line.copy()
        words[130:160, 240:240 + dip] = 0.5   # above the threshold: one region, with a dip
        maps = np.stack([line, words])
        got = DBPostProcess(DetectorConfig(granularity="words"))(maps, _info(300, 500), _busy())
        assert len(got.quads) == (2 if cut else 1), dip
    narrow = line.copy()
    narrow[130:160, 240:256] = 0.5
    lines_cut = DBPostProcess(DetectorConfig(granularity="words"))(narrow, _info(300, 500), _busy())
    assert len(lines_cut.quads) == 2    # the same dip in a line map (no word map): cut


@pytest.mark.parametrize("p, boxes", [(0.9, 1 + 1), (0.1, 3 + 1)])
def test_a_cjk_line_that_the_word_map_splits_stays_whole(monkeypatch, p, boxes):
    """The word map parts a CJK line into regions too short for the guard to read alone
    ("可乐净含量 250g"): the guard asks about the line, and a CJK line is kept whole with the
    word regions inside it dropped; a word outside every line is kept either way."""
    guard = _Says(p)
    monkeypatch.setattr(postprocess, "load_guard", lambda: guard)
    maps = _with_word_map(_sign_map())
    maps[1, 220:250, 100:300] = 0.9     # a word the line map does not hold
    got = DBPostProcess(DetectorConfig(granularity="words"))(maps, _info(*maps.shape[1:]), _busy())
    assert len(got.quads) == boxes
    if p > 0.5:   # the line, as the line map drew it
        line = DBPostProcess(DetectorConfig(granularity="lines"))(maps[0], _info(*maps.shape[1:]))
        assert any(np.array_equal(q, line.quads[0]) for q in got.quads)


def test_drawn_guard_lines_are_reproducible_and_labelled_by_their_script():
    """scripts/train_script_guard.py --synthetic: lines drawn one at a time, half CJK, each read
    as the guard reads a detected line, and the same again from the same seed."""
    from models.synth.script_strips import CJK, script_strip, script_strips
    from models.synth.text_sources import TextSource
    xs, ys = script_strips(12, seed=3)
    again, _ = script_strips(12, seed=3)
    assert ys == [1, 0] * 6
    assert all(s.shape[0] == 32 and s.shape[1] >= 128 for s in xs)
    assert all(np.array_equal(a, b) for a, b in zip(xs, again))
    rng, src = np.random.default_rng(5), TextSource(5)
    for want in (True, False) * 4:
        made = script_strip(rng, src, cjk=want)
        assert made is not None and made[1] == int(want) and bool(CJK.search(made[2])) == want, made[2]
