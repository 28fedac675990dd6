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
    page.locator("#single-image input[type=file]").set_input_files(str(image))
    page.locator("#single-image img").wait_for()          # the upload is shown
    page.locator("#single-run").click()
    page.locator("#single-annotated img").wait_for()      # the annotated picture arrives
    json_panel = page.locator("#single-json")
    json_panel.get_by_text('"boxes"').wait_for()
    assert "scan.png" in json_panel.inner_text()
    assert "Inference time" in page.locator("#single-timing").inner_text()
    page.screenshot(path=str(tmp_path / "single.png"), full_page=True)
    assert (tmp_path / "single.png").stat().st_size > 10_000


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
