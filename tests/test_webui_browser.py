"""The WebUI in a real browser: Debian's chromium, headless, driven by Playwright.

Never `playwright install`: tests/run.sh installs the `chromium` Debian package, and the test
points Playwright at /usr/bin/chromium.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright import sync_api

from webui_server import running_server, write_page

CHROMIUM = Path("/usr/bin/chromium")   # scripts/ensure_system_packages.sh installs it

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, random_weights):
    yield from running_server(tmp_path_factory.mktemp("webui_browser"), random_weights)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(server.url)
        yield pg
        browser.close()


def test_single_tab_detects_an_uploaded_image(page, tmp_path):
    image = write_page(tmp_path / "scan.png")
    page.get_by_role("tab", name="单图检测 Single image").click()
    page.locator("#single-image").get_by_text("Drop a picture here").wait_for()   # our bilingual upload hint
    page.locator("#single-image input[type=file]").set_input_files(str(image))
    page.locator("#single-image img").wait_for()          # the upload is shown
    page.locator("#single-run").click()
    page.locator("#single-annotated img").wait_for()      # the annotated picture arrives
    json_panel = page.locator("#single-json")
    json_panel.get_by_text('"boxes"').wait_for()
    assert '"image_path": "scan.png",' in json_panel.inner_text()       # compact text: one key per line
    assert "Inference time" in page.locator("#single-timing").inner_text()
    page.screenshot(path=str(tmp_path / "single.png"), full_page=True)
    assert (tmp_path / "single.png").stat().st_size > 10_000


def _single_result_shown(page) -> bool:
    return page.locator("#single-annotated img").count() > 0 and "boxes" in page.locator("#single-json").inner_text()


def test_single_tab_clears_old_results_and_refuses_a_bad_upload_at_once(page, tmp_path):
    """#13.4 and #13.6: a new upload, a bad upload and an error never leave the previous
    result (picture, JSON, working downloads) on screen; a bad file is named when dropped."""
    good, other = write_page(tmp_path / "first.png"), write_page(tmp_path / "second.png", seed=5)
    bad = tmp_path / "notes.png"
    bad.write_text("a text file, not a picture")
    page.get_by_role("tab", name="单图检测 Single image").click()
    upload = page.locator("#single-image input[type=file]")
    upload.set_input_files(str(good))
    page.locator("#single-run").click()
    page.locator("#single-json").get_by_text("first.png").wait_for()
    _enabled(page, "#single-json-file", True)

    upload.set_input_files(str(other))                    # a new upload: the old result goes
    page.wait_for_function("() => !document.querySelector('#single-annotated img')")
    assert "first.png" not in page.locator("#single-json").inner_text()
    _enabled(page, "#single-json-file", False)

    upload.set_input_files(str(bad))                      # refused on upload, before Detect
    page.locator("#single-timing").get_by_text("Not a readable image").wait_for()
    # ...and in a toast (it showed none before: Gradio shows toasts only from queued events),
    # titled bilingual too (Gradio 6.31 titles a toast by its level: app/web/bilingual.py)
    toast = page.locator("[data-testid='toast-body']").filter(has_text="Not a readable image")
    toast.get_by_text("无法读取图片 Not a readable image").wait_for()
    toast.get_by_text("警告 Warning").wait_for()
    assert "notes.png" in page.locator("#single-timing").inner_text()
    page.wait_for_function("() => !document.querySelector('#single-image img')")

    upload.set_input_files(str(other))                    # an error after a result clears it too
    page.locator("#single-run").click()
    page.locator("#single-json").get_by_text("second.png").wait_for()
    assert "Not a readable image" not in page.locator("#single-timing").inner_text()
    page.get_by_text("高级设置").first.click()
    page.locator("#single-backend").get_by_text("ONNX").first.click()
    page.locator("#single-run").click()
    error = page.locator("[data-testid='toast-body']").filter(has_text="has no model yet")   # the error toast
    error.get_by_text("出错了 Error").first.wait_for()
    page.wait_for_function("() => !document.querySelector('#single-annotated img')")
    assert not _single_result_shown(page)
    _enabled(page, "#single-json-file", False)
    page.locator("#single-backend").get_by_text("自动").first.click()


def test_single_tab_boxes_per_word_reach_the_result(page, tmp_path):
    """The granularity choice (under Advanced) is what the detection ran with."""
    image = write_page(tmp_path / "words.png", seed=9)
    page.get_by_role("tab", name="单图检测 Single image").click()
    choice = page.locator("#single-granularity")
    if not choice.is_visible():
        page.get_by_text("高级设置").first.click()
    choice.get_by_text("词 words").click()
    page.locator("#single-image input[type=file]").set_input_files(str(image))
    page.locator("#single-run").click()
    page.locator("#single-json").get_by_text("words.png").wait_for()
    assert '"granularity": "words"' in page.locator("#single-json").inner_text()
    choice.get_by_text("自动 auto").click()


def test_single_tab_zoom_look_reaches_the_result(page, tmp_path):
    """The zoom slider (under Advanced) starts at the default, 1.75, and what it is set to is
    what the detection ran with: 1 reads scene photos once."""
    image = write_page(tmp_path / "zoom.png", seed=11)
    page.get_by_role("tab", name="单图检测 Single image").click()
    zoom = page.locator("#single-zoom input[type=number]")
    if not zoom.is_visible():
        page.get_by_text("高级设置").first.click()
    assert float(zoom.input_value()) == 1.75
    zoom.fill("1")
    zoom.press("Enter")
    page.locator("#single-image input[type=file]").set_input_files(str(image))
    page.locator("#single-run").click()
    page.locator("#single-json").get_by_text("zoom.png").wait_for()
    assert '"zoom_words": 1,' in page.locator("#single-json").inner_text()     # the view writes 1.0 as 1
    zoom.fill("1.75")
    zoom.press("Enter")


def test_batch_tab_checks_uploads_and_clears_old_results(page, tmp_path):
    """#13.4 and #13.6 in the batch tab: unreadable uploads are listed on upload; a new
    input clears the previous run's summary, gallery and download."""
    good = write_page(tmp_path / "ok.png")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    page.get_by_role("tab", name="批量检测 Batch").click()
    page.locator("#batch-files").get_by_text("拖放文件到这里 Drop File Here").wait_for()   # Gradio's own hint, bilingual
    files = page.locator("#batch-files input[type=file]")
    files.set_input_files([str(good), str(bad)])
    summary = page.locator("#batch-summary")
    summary.get_by_text("1 / 2").wait_for()
    assert "broken.jpg" in summary.inner_text()
    page.locator("#batch-run").click()
    summary.get_by_text("Boxes").wait_for(timeout=120_000)
    page.locator("#batch-gallery img").first.wait_for()
    _enabled(page, "#batch-archive", True)
    folder = page.locator("#batch-folder textarea, #batch-folder input").first
    folder.fill("/data")                                  # a new input: the old run's results go
    summary.get_by_text("The summary appears here").wait_for()
    assert page.locator("#batch-gallery img").count() == 0
    _enabled(page, "#batch-archive", False)
    folder.fill("")


def test_examples_csv_and_row_highlight(page, tmp_path):
    """#13.7: a clickable example, a CSV of the table, and a table row that highlights its box."""
    page.get_by_role("tab", name="单图检测 Single image").click()
    page.locator("#single-examples").get_by_text("Receipt").first.click()
    page.locator("#single-image img").wait_for()
    page.locator("#single-run").click()
    page.locator("#single-json").get_by_text("receipt_render").first.wait_for()
    _enabled(page, "#single-csv-file", True)
    page.screenshot(path=str(tmp_path / "example.png"), full_page=True)


@pytest.mark.parametrize("tab, controls", [
    ("批量检测 Batch", ["#batch-files", "#batch-folder", "#batch-run", "#batch-cancel"]),
    ("训练微调 Train", ["#train-dataset", "#train-start", "#train-use", "#train-loss"]),
    ("ONNX 导出 Export", ["#export-height", "#export-width", "#export-run"]),
])
def test_every_other_tab_shows_its_controls(page, tmp_path, tab, controls):
    page.get_by_role("tab", name=tab).click()
    for selector in controls:
        page.locator(selector).wait_for(state="visible")
    page.screenshot(path=str(tmp_path / f"{tab.split()[-1].lower()}.png"), full_page=True)


def _enabled(page, selector: str, enabled: bool, timeout_ms: int = TIMEOUT_MS) -> None:
    page.wait_for_function("([s, want]) => { const b = document.querySelector(s); "
                           "return b !== null && b.disabled === !want; }", arg=[selector, enabled],
                           timeout=timeout_ms)


def _set_number(page, selector: str, value: int) -> None:
    box = page.locator(f"{selector} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def test_swapping_weights_needs_a_finished_run_a_confirmation_and_reverts(page, server, tmp_path):
    """Issue #13.1: a cancelled run offers nothing; a finished one shows both hmeans on its
    validation split, swaps only after a confirmation, and the released weights come back in one click."""
    import re

    from models.synth.types import SynthConfig
    from models.synth.writer import write_dataset

    data = server.data_dir / "swap_set"
    write_dataset(data, 4, SynthConfig(seed=3, long_side=(320, 400)), "train")
    write_dataset(data, 2, SynthConfig(seed=4, long_side=(320, 400)), "test")
    banner = page.locator("#banner")
    released = re.search(r"Model: (\S+)", banner.inner_text()).group(1)
    page.get_by_role("tab", name="训练微调 Train").click()
    page.locator("#train-dataset textarea, #train-dataset input").first.fill(str(data))
    _set_number(page, "#train-batch", 2)
    _set_number(page, "#train-epochs", 1)

    page.locator("#train-start").click()                  # a run cancelled at once
    page.locator("#train-status").get_by_text("Running").first.wait_for(timeout=120_000)
    page.locator("#train-cancel").click()
    page.locator("#train-status").get_by_text("Cancelled").first.wait_for(timeout=300_000)
    page.locator("#train-status").get_by_text("was cancelled").wait_for()
    _enabled(page, "#train-use", False)
    assert released in banner.inner_text()

    page.locator("#train-start").click()                  # a run to the end
    page.locator("#train-status").get_by_text("Finished").first.wait_for(timeout=600_000)
    page.locator("#train-status").get_by_text("Validation hmean").wait_for()
    page.locator("#train-status").get_by_text("step 2 of 2").wait_for()    # the last step is logged (#13.5)
    _enabled(page, "#train-use", True)
    _enabled(page, "#train-revert", False)
    page.locator("#train-use").click()
    swap = page.locator("#train-swap")
    swap.get_by_text("Compare on the run's").wait_for(timeout=300_000)
    assert swap.inner_text().count("hmean") >= 2 and released in swap.inner_text()
    assert released in banner.inner_text()                # nothing swapped before the confirmation
    page.locator("#train-confirm").click()
    banner.get_by_text("Serving trained weights").wait_for()
    assert released not in banner.inner_text()
    page.locator("#train-confirm").wait_for(state="hidden")
    _enabled(page, "#train-revert", True)

    page.locator("#train-revert").click()
    page.wait_for_function("([s, id]) => { const t = document.querySelector(s).innerText; "
                           "return t.includes(id) && !t.includes('Serving trained weights'); }",
                           arg=["#banner", released], timeout=TIMEOUT_MS)
    _enabled(page, "#train-revert", False)
    page.screenshot(path=str(tmp_path / "swap.png"), full_page=True)
