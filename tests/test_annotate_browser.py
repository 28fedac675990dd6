"""Correct and add to a dataset (#14.2) in a real browser: detect, delete one box, draw one,
save to a new dataset, and check the files on disk (Debian's chromium, as test_webui_browser)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright import sync_api

from conftest import ROOT
from models.data.icdar import read_split
from test_webui_browser import ARGS, CHROMIUM, TIMEOUT_MS
from webui_server import running_server

RELEASED = ROOT / "weights" / "db_resnet18.safetensors"   # real boxes to edit (random weights find none)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not RELEASED.is_file():
        pytest.skip("released weights not installed")
    yield from running_server(tmp_path_factory.mktemp("annotate_browser"), RELEASED, ["--backend", "torch"])


def _text_page(path: Path) -> Path:
    """Three printed lines the released model finds (the last one a little tilted)."""
    img = np.full((240, 360, 3), 245, np.uint8)
    for i, text in enumerate(["Invoice 2026-11", "Total 12.50", "Thank you"]):
        cv2.putText(img, text, (20, 50 + i * 70), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    assert cv2.imwrite(str(path), img)
    return path


def _image_to_page(page, selector: str, width: int, height: int):
    """A function from image pixels to page coordinates on the editor's canvas (the picture
    is drawn centred, scaled to fit)."""
    box = page.locator(f"{selector} canvas").first.bounding_box()
    scale = min(box["width"] / width, box["height"] / height)
    left = box["x"] + (box["width"] - width * scale) / 2
    top = box["y"] + (box["height"] - height * scale) / 2
    return lambda x, y: (left + x * scale, top + y * scale)


def test_detect_delete_add_and_save_to_a_new_dataset(server, tmp_path):
    image = _text_page(tmp_path / "scan.png")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server.url)
        page.locator("#single-image input[type=file]").set_input_files(str(image))
        page.locator("#single-image img").wait_for()
        page.locator("#single-run").click()
        page.locator("#single-json").get_by_text('"boxes"').wait_for()
        [result] = (server.output_dir).glob("outputs_*/json/scan.json")
        record = json.loads(result.read_text(encoding="utf-8"))
        quads = [np.reshape(b, (4, 2)) for b in record["boxes"]]
        assert len(quads) >= 3, record
        shown = page.locator("#single-json").inner_text()             # the page's JSON: one box per line (#13.7)
        assert any(line.strip().rstrip(",") == json.dumps(record["boxes"][0]) for line in shown.splitlines()), shown
        editor = page.locator("#single-editor")
        editor.locator("canvas").first.wait_for()
        editor.scroll_into_view_if_needed()
        page.wait_for_timeout(500)                           # the picture is drawn
        to_page = _image_to_page(page, "#single-editor", record["width"], record["height"])

        gone = quads[1]                                      # select the second box, delete it
        page.mouse.click(*to_page(*gone.mean(axis=0)))
        page.keyboard.press("Delete")
        editor.get_by_role("button", name="Create box").click()    # draw a new box, type its text
        x0, y0, x1, y1 = 220, 95, 330, 125                   # right of the second line
        page.mouse.move(*to_page(x0, y0))
        page.mouse.down()
        page.mouse.move(*to_page((x0 + x1) / 2, (y0 + y1) / 2), steps=4)
        page.mouse.move(*to_page(x1, y1), steps=4)
        page.mouse.up()
        editor.locator("input[aria-label=Label]").fill("new line")   # the editor asks for its text
        editor.get_by_role("button", name="OK").click()

        page.locator("#single-dataset input").fill("fixed_set")
        page.locator("#single-dataset input").press("Enter")
        page.locator("#single-name input, #single-name textarea").first.fill("scan_fixed")
        page.locator("#single-add").click()
        page.locator("#single-dataset-summary").get_by_text("Added").wait_for()
        page.wait_for_timeout(1500)        # the dropdown set to the dataset's folder must not replace it
        summary = page.locator("#single-dataset-summary").inner_text()
        assert "Added" in summary, summary
        page.screenshot(path=str(tmp_path / "annotate.png"), full_page=True)

        page.get_by_role("tab", name="训练微调 Train").click()       # the train tab lists it, and checks it
        page.locator("#train-datasets input").click()
        page.get_by_role("option", name=str(server.data_dir / "fixed_set")).click()
        page.locator("#train-status").get_by_text("Dataset OK").wait_for()
        assert "train: 1 images, 3 regions" in page.locator("#train-status").inner_text()
        browser.close()

    root = server.data_dir / "fixed_set"
    assert (root / "train_list.txt").read_text() == "scan_fixed.png\n"
    assert (root / "train_images" / "scan_fixed.png").read_bytes() == image.read_bytes()
    [sample] = read_split(root, "train")
    saved = [r.points for r in sample.regions]
    assert len(saved) == len(quads) and f"{len(quads)} 个框 boxes" in summary
    kept = [q for i, q in enumerate(quads) if i != 1]
    for q in kept:                                       # untouched boxes: their exact quads
        assert any(np.array_equal(q, s) for s in saved), (q, saved)
    assert not any(np.array_equal(gone, s) for s in saved)
    [new] = [r for r in sample.regions if r.text == "new line"]
    np.testing.assert_allclose(new.points, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], atol=2)


def test_batch_results_fixed_image_by_image_into_a_dataset(server, tmp_path):
    """The batch flow: a processed folder opens image by image in the same editor; each is added."""
    images = [_text_page(tmp_path / "first.png"), _text_page(tmp_path / "second.png")]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server.url)
        page.get_by_role("tab", name="批量检测 Batch").click()
        page.locator("#batch-files input[type=file]").set_input_files([str(i) for i in images])
        page.locator("#batch-summary").get_by_text("all readable").wait_for()
        page.locator("#batch-run").click()
        page.locator("#batch-summary").get_by_text("Boxes").wait_for(timeout=120_000)
        page.locator("#batch-correct").get_by_text("Correct and add").first.click()     # open the panel
        page.locator("#batch-editor canvas").first.wait_for()
        assert page.locator("#batch-pick input").input_value() == "first"
        page.locator("#batch-dataset input").fill("batch_set")
        page.locator("#batch-dataset input").press("Enter")
        page.locator("#batch-add").click()
        page.locator("#batch-dataset-summary").get_by_text("first.png").wait_for()
        page.wait_for_function(                                  # added: on to the next picture by itself
            "() => document.querySelector('#batch-pick input').value === 'second'")
        page.locator("#batch-previous").click()                  # and back and forth
        page.wait_for_function("() => document.querySelector('#batch-name input, #batch-name textarea')"
                               ".value === 'first'")
        page.locator("#batch-next").click()
        page.wait_for_function("() => document.querySelector('#batch-name input, #batch-name textarea')"
                               ".value === 'second'")
        page.locator("#batch-add").click()
        page.locator("#batch-dataset-summary").get_by_text("second.png").wait_for()
        browser.close()
    root = server.data_dir / "batch_set"
    assert (root / "train_list.txt").read_text().splitlines() == ["first.png", "second.png"]
    assert [len(s.regions) for s in read_split(root, "train")] == [3, 3]
