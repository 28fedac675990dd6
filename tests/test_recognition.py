"""Text recognition (#14.1): crop geometry, CTC decoding, the PP-OCRv4 model end to end, and
`python -m app detect --recognize` adding texts aligned with boxes."""
from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from conftest import ROOT
from models import DEFAULT_WEIGHTS, DetectionResult
from models.recognition import (
    RecognitionModelMissing,
    RecognizerConfig,
    TextRecognizer,
    crop_size,
    ctc_greedy_decode,
    rectify_crop,
)
from models.recognition import files as rec_files

FONT = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size) if FONT.is_file() else ImageFont.load_default(size=size)


@pytest.fixture(scope="module")
def recognizer() -> TextRecognizer:
    try:
        return TextRecognizer()
    except RecognitionModelMissing as exc:   # optional model: say why the tests cannot run
        pytest.skip(str(exc))


def _word_image(text: str = "INVOICE 2026", size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A white page with ``text`` in black, and the quad around it (padded by 8 px)."""
    img = Image.new("RGB", (60 + size * len(text) * 2 // 3, size * 3), "white")
    draw = ImageDraw.Draw(img)
    draw.text((40, size), text, font=_font(size), fill="black")
    x0, y0, x1, y1 = draw.textbbox((40, size), text, font=_font(size))
    quad = np.array([[x0 - 8, y0 - 8], [x1 + 8, y0 - 8], [x1 + 8, y1 + 8], [x0 - 8, y1 + 8]], np.float32)
    return np.array(img), quad


def _two_tone(h: int, w: int, split: str) -> np.ndarray:
    """An ``h x w`` patch, dark on its left (or top) half and light on the other."""
    patch = np.full((h, w, 3), 230, np.uint8)
    if split == "left":
        patch[:, : w // 2] = 20
    else:
        patch[: h // 2] = 20
    return patch


# ---------------------------------------------------------------------------- crop geometry
def test_axis_aligned_quad_crops_exactly_its_pixels():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (80, 160, 3), dtype=np.uint8)
    quad = np.array([[10, 20], [110, 20], [110, 50], [10, 50]])
    assert crop_size(quad) == (100, 30)
    crop = rectify_crop(image, quad)
    assert crop.shape == (30, 100, 3)
    assert np.abs(crop.astype(int) - image[20:50, 10:110].astype(int)).mean() < 1.0


def test_rotated_quad_comes_out_upright_with_its_side_lengths():
    w, h, angle = 120, 30, 30.0
    canvas = np.full((300, 300, 3), 230, np.uint8)
    canvas[100:100 + h, 90:90 + w] = _two_tone(h, w, "left")
    centre = (90 + w / 2, 100 + h / 2)
    m = cv2.getRotationMatrix2D(centre, angle, 1.0)
    rotated = cv2.warpAffine(canvas, m, (300, 300), flags=cv2.INTER_LINEAR, borderValue=(230, 230, 230))
    corners = np.array([[90, 100], [90 + w, 100], [90 + w, 100 + h], [90, 100 + h]], np.float32)
    quad = np.hstack([corners, np.ones((4, 1), np.float32)]) @ m.T
    crop = rectify_crop(rotated, quad)
    assert abs(crop.shape[1] - w) <= 1 and abs(crop.shape[0] - h) <= 1
    left, right = crop[:, 5: w // 2 - 5].mean(), crop[:, w // 2 + 5: -5].mean()
    assert left < 60 and right > 190        # the dark half stays on the left: not flipped


def test_tall_crop_is_turned_to_a_line():
    image = np.full((200, 200, 3), 230, np.uint8)
    image[40:160, 50:80] = _two_tone(120, 30, "top")
    crop = rectify_crop(image, np.array([[50, 40], [80, 40], [80, 160], [50, 160]]))
    assert crop.shape == (30, 120, 3)
    assert crop[:, :50].mean() < 60 and crop[:, 70:].mean() > 190   # the top became the left
    wide = rectify_crop(image, np.array([[50, 40], [80, 40], [80, 160], [50, 160]]), rotate_ratio=10.0)
    assert wide.shape == (120, 30, 3)


def test_degenerate_quads_give_no_crop():
    image = np.zeros((50, 50, 3), np.uint8)
    assert rectify_crop(image, np.full((4, 2), 7.0)) is None
    assert rectify_crop(image, np.array([[0, 0], [np.nan, 0], [5, 5], [0, 5]])) is None
    assert rectify_crop(image, np.array([[0, 0], [1e7, 0], [1e7, 10], [0, 10]])) is None   # no huge warp


# ---------------------------------------------------------------------------- CTC decoding
def test_ctc_greedy_decode_merges_repeats_and_drops_blanks():
    charset = ["<blank>", "a", "b", "c"]
    steps = [1, 1, 0, 1, 2, 2, 0, 0, 3]            # a a _ a b b _ _ c  ->  "aabc"
    peaks = [0.9, 0.8, 0.99, 0.7, 0.6, 0.95, 0.99, 0.99, 0.5]
    probs = np.full((1, len(steps), 4), 0.0, np.float32)
    for t, (k, p) in enumerate(zip(steps, peaks)):
        probs[0, t] = (1 - p) / 3
        probs[0, t, k] = p
    empty = np.zeros((1, 3, 4), np.float32)
    empty[0, :, 0] = 1.0
    (text, score), (none, zero) = ctc_greedy_decode(np.concatenate([probs, np.pad(empty, ((0, 0), (0, 6), (0, 0)))]),
                                                   charset)
    assert text == "aabc"
    assert score == pytest.approx(np.mean([0.9, 0.7, 0.6, 0.5]))   # first step of each kept run
    assert (none, zero) == ("", 0.0)


def test_ctc_rejects_a_dictionary_of_the_wrong_size():
    with pytest.raises(ValueError, match="do not belong together"):
        ctc_greedy_decode(np.zeros((1, 5, 7)), ["<blank>", "a"])
    with pytest.raises(ValueError, match=r"\(N, T, C\)"):
        ctc_greedy_decode(np.zeros((5, 7)), ["<blank>", "a"])


# ---------------------------------------------------------------------------- the model
def test_rendered_word_is_read_exactly(recognizer):
    image, quad = _word_image()
    [(text, score)] = recognizer.recognize(image, quad[None])
    assert text == "INVOICE 2026" and score > 0.8
    # the same line turned 90 degrees clockwise: a tall box, read after turning the crop back
    turned = np.ascontiguousarray(np.rot90(image, k=-1))
    h = image.shape[0]
    tall = np.array([[h - 1 - y, x] for x, y in quad])[[3, 0, 1, 2]]
    assert recognizer.recognize(turned, tall[None])[0][0] == "INVOICE 2026"


def test_results_stay_aligned_with_boxes_whatever_the_batching(recognizer):
    image, quad = _word_image("Total 42.50", size=48)
    degenerate = np.full((4, 2), 3.0, np.float32)
    boxes = np.stack([quad, degenerate, quad])
    cfg_one = TextRecognizer(RecognizerConfig(batch_size=1))
    for rec in (recognizer, cfg_one):
        read = rec.recognize(image, boxes)
        assert [t for t, _ in read] == ["Total 42.50", "", "Total 42.50"]
    assert recognizer.recognize(image, np.zeros((0, 4, 2))) == []
    assert recognizer.recognize(image, quad.reshape(1, 8))[0][0] == "Total 42.50"   # flat boxes too


def test_bad_input_is_a_clear_error(recognizer):
    image, quad = _word_image()
    with pytest.raises(ValueError, match="expected an HxW"):          # the detector's own image rules
        recognizer.recognize(np.zeros((40, 60, 5), np.uint8), quad[None])
    # ...which also read a float picture in [0, 1] as the detector does
    assert recognizer.recognize(image.astype(np.float32) / 255, quad[None])[0][0] == "INVOICE 2026"
    with pytest.raises(ValueError, match=r"\(N, 4, 2\)"):
        recognizer.recognize(image, np.zeros((2, 3)))
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert recognizer.recognize(gray, quad[None])[0][0] == "INVOICE 2026"


def test_annotate_fills_aligned_keys_and_to_json_is_unchanged_without(recognizer):
    image, quad = _word_image()
    plain = DetectionResult(quad[None].astype(np.int32), np.array([0.9], np.float32), image.shape[1],
                            image.shape[0], {"total": 0.1}, image=image)
    keys = list(plain.to_json())
    assert "texts" not in keys and "text_scores" not in keys
    record = recognizer.annotate(plain).to_json()
    assert record["texts"] == ["INVOICE 2026"] and len(record["text_scores"]) == len(record["boxes"])
    assert list(record["timings"])[-1] == "total" and record["timings"]["recognition"] > 0
    with pytest.raises(ValueError, match="keep_image"):
        recognizer.annotate(DetectionResult(quad[None].astype(np.int32), np.ones(1, np.float32), 9, 9))


def test_picture_gets_a_text_panel_only_with_recognition(tmp_path, recognizer):
    from app.io.outputs import ResultWriter

    image, quad = _word_image()
    h, w = image.shape[:2]
    writer = ResultWriter(tmp_path)
    plain = DetectionResult(quad[None].astype(np.int32), np.ones(1, np.float32), w, h, {"total": 0.1}, image=image)
    writer.write("plain", plain, plain.to_json(), image)
    assert cv2.imread(str(writer.vis_path("plain"))).shape == (h, w, 3)
    read = recognizer.annotate(DetectionResult(quad[None].astype(np.int32), np.ones(1, np.float32), w, h,
                                               {"total": 0.1}, image=image))
    writer.write("read", read, read.to_json(), image)
    picture = cv2.imread(str(writer.vis_path("read")))
    assert picture.shape == (h, 2 * w, 3)
    panel = picture[:, w:]
    y0, y1 = int(quad[:, 1].min()), int(quad[:, 1].max())
    assert panel[y0:y1].min() < 80 and panel[: y0 - 20].min() > 200   # the text is drawn where its box was


def test_missing_model_says_how_to_get_it(tmp_path, monkeypatch):
    with pytest.raises(RecognitionModelMissing, match="not found"):
        TextRecognizer(RecognizerConfig(model=str(tmp_path / "none.onnx")))

    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(rec_files.importlib.metadata, "distribution", absent)
    with pytest.raises(RecognitionModelMissing, match="--no-deps rapidocr-onnxruntime==1.4.4"):
        TextRecognizer()


def test_settings_are_checked():
    with pytest.raises(ValueError, match="batch_size"):
        RecognizerConfig(batch_size=0)
    with pytest.raises(ValueError, match="must not exceed max_width"):
        RecognizerConfig(min_width=640, max_width=320)
    with pytest.raises(ValueError, match="unknown recognizer setting"):
        RecognizerConfig().with_overrides(colour="red")


# ---------------------------------------------------------------------------- command line
def _detect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "detect", *args, "--backend", "torch", "--device", "cpu",
                           "--weights", str(DEFAULT_WEIGHTS), "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_recognize_adds_aligned_texts(tmp_path, recognizer):
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("released detector weights absent")
    page = Image.new("RGB", (900, 320), "white")
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(["INVOICE 2026", "Total 42.50 EUR"]):
        draw.text((60, 60 + i * 120), line, font=_font(44), fill="black")
    folder = tmp_path / "in"
    folder.mkdir()
    page.save(folder / "page.png")
    out = tmp_path / "out"

    res = _detect(str(folder), "--output", str(out), "--recognize")
    assert res.returncode == 0, res.stderr
    record = json.loads((out / "json" / "page.json").read_text(encoding="utf-8"))
    assert len(record["boxes"]) >= 2
    assert len(record["texts"]) == len(record["text_scores"]) == len(record["boxes"])
    joined = " ".join(record["texts"]).replace(" ", "")
    assert "INVOICE2026" in joined and "42.50" in joined
    assert record["params"]["recognition"]["model"] == recognizer.model_id


def test_batch_toggling_recognition_redoes_images_and_off_adds_no_keys(tmp_path, recognizer):
    import torch

    from app.io.batch import run_batch
    from models import TextDetector
    from models.dbnet import DBNet

    torch.manual_seed(0)   # an in-memory random network: no weights file, no int8 build
    random_detector = TextDetector.from_model(DBNet().eval(), device="cpu", model_id="random")

    image, _ = _word_image()
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(image).save(folder / "word.png")
    files, out = [folder / "word.png"], tmp_path / "out"
    on = run_batch(random_detector, files, folder, out, recognizer=recognizer)
    record = json.loads((out / "json" / "word.json").read_text(encoding="utf-8"))
    assert on.summary["images"] == 1 and len(record["texts"]) == len(record["boxes"]) == len(record["text_scores"])
    assert record["params"]["recognition"] == recognizer.params()
    off = run_batch(random_detector, files, folder, out)
    assert off.redone == 1                  # made with recognition: not a result of these settings
    plain = json.loads((out / "json" / "word.json").read_text(encoding="utf-8"))
    assert not {"texts", "text_scores"} & set(plain) and "recognition" not in plain["params"]
    assert run_batch(random_detector, files, folder, out, recognizer=recognizer).redone == 1
    assert run_batch(random_detector, files, folder, out, recognizer=recognizer).skipped == 1


def test_cli_missing_recognition_model_is_a_clean_error(tmp_path):
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), np.full((64, 64, 3), 255, np.uint8))
    res = _detect(str(img), "--output", str(tmp_path / "o"), "--recognize", "--rec-model", str(tmp_path / "x.onnx"))
    assert res.returncode == 2
    assert "recognition model not found" in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------------------- WebUI
def test_single_tab_reads_text_into_json_and_table(tmp_path, recognizer):
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("released detector weights absent")
    from app.io.runs import TABLE_COLUMNS, save_table_csv, table_columns, table_rows
    from app.web import wording as W
    from app.web.context import WebContext
    from app.web.service import DetectorService
    from app.web.settings import AppSettings, ModelSettings, StorageSettings
    from app.web.tabs.single import TEXT_HEADERS, _timing, detect_and_save

    settings = AppSettings(storage=StorageSettings(output_dir=tmp_path / "out", workdir_root=tmp_path / "work"),
                           model=ModelSettings(weights=DEFAULT_WEIGHTS, device="cpu", backend="torch"))
    ctx = WebContext(settings, DetectorService(settings.model, background_build=False))
    image, _ = _word_image()
    path = tmp_path / "word.png"
    Image.fromarray(image).save(path)

    record, json_path, _ = detect_and_save(ctx, str(path), 0.2, 0.4, 1.4, 1280, "auto", True)
    assert record["texts"] == ["INVOICE 2026"] and json.loads(json_path.read_text(encoding="utf-8")) == record
    assert table_columns(record, TEXT_HEADERS)[:3] == ["#", W.TEXT_COLUMN, W.TEXT_SCORE_COLUMN]
    assert table_rows(record)[0][:2] == [1, "INVOICE 2026"] and len(table_rows(record)[0]) == len(table_columns(record))
    csv_rows = save_table_csv(json_path, record).read_text(encoding="utf-8-sig").splitlines()
    assert csv_rows[0].startswith("#,text,text_score,score,x1") and csv_rows[1].startswith("1,INVOICE 2026,")
    assert "recognition" in _timing(record, json_path)

    plain, _, _ = detect_and_save(ctx, str(path), 0.2, 0.4, 1.4, 1280, "auto")
    assert "texts" not in plain and table_columns(plain) == TABLE_COLUMNS
    assert len(table_rows(plain)[0]) == len(TABLE_COLUMNS)


# ---------------------------------------------------------------------------- bench/recognition.py
def test_bench_metrics():
    from bench.recognition import accuracy, edit_distance, match

    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3
    char, exact = accuracy([("TOTAL", "TOTAL"), ("12,00", "12.00"), ("THANKYOU!!", "THANK YOU!!")])
    assert exact == pytest.approx(2 / 3) and char == pytest.approx((1 + 0.8 + 1) / 3)   # spaces ignored
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
    pairs = match([square + 1, square + 100], [square, square + 30])
    assert pairs == [(0, 0)]                          # IoU 81/119 > 0.5; the far box matches nothing
