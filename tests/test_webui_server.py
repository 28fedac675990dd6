"""The real WebUI server in a subprocess, driven with gradio_client like a user's script."""
from __future__ import annotations

import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from models.config import DetectorConfig
from webui_server import ROOT, running_server, write_page

SEED_KEYS = {"image_path", "boxes", "scores", "success", "inference_time"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, random_weights):
    yield from running_server(tmp_path_factory.mktemp("webui"), random_weights)


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return write_page(tmp_path_factory.mktemp("imgs") / "发票 page.jpg")


def test_prints_address_and_writes_pid_file(server):
    out = server.output()
    assert re.search(r"=====+\nWebUI 服务地址: http://127\.0\.0\.1:%d\n" % server.port, out)
    assert server.pid_file.read_text().strip() == str(server.proc.pid)


def test_detect_endpoint_returns_the_json(client, server, page):
    record = client.predict(handle_file(str(page)), api_name="/detect")
    assert SEED_KEYS | {"width", "height", "params", "model"} <= set(record)
    assert record["success"] is True and record["image_path"] == page.name
    assert (record["width"], record["height"]) == (320, 240)
    assert record["params"]["thresh"] == pytest.approx(DetectorConfig().thresh)
    assert all(len(b) == 8 for b in record["boxes"]) and len(record["scores"]) == len(record["boxes"])
    # Saved under outputs/outputs_YYYYMMDDHHMMSS/{json,visualization}/
    saved = sorted(server.output_dir.glob("outputs_*/json/*.json"))
    assert saved and re.fullmatch(r"outputs_\d{14}", saved[-1].parent.parent.name)
    assert list(server.output_dir.glob("outputs_*/visualization/*.jpg"))


def test_threshold_and_visual_endpoint(client, page):
    record = client.predict(handle_file(str(page)), 0.4, api_name="/detect")
    assert record["params"]["thresh"] == pytest.approx(0.4)
    picture, table, record2, timing, json_file, pic_file, csv_file = client.predict(handle_file(str(page)),
                                                                                    api_name="/detect_visual")
    assert Path(picture).is_file() and table["headers"][:2] == ["#", "score"]
    assert record2["success"] and "Inference time" in timing
    assert Path(json_file["value"]).suffix == ".json" and Path(pic_file["value"]).suffix == ".jpg"
    rows = Path(csv_file["value"]).read_text(encoding="utf-8-sig").splitlines()   # #13.7: the table as CSV
    assert rows[0] == "#,score,x1,y1,x2,y2,x3,y3,x4,y4" and len(rows) == 1 + len(record2["boxes"])


def test_granularity_reaches_the_detector_and_the_record(client, page):
    """Auto by default; words (and a bad value's clear error) through the API by name."""
    assert client.predict(handle_file(str(page)), api_name="/detect")["params"]["granularity"] == "auto"
    words = client.predict(handle_file(str(page)), granularity="words", api_name="/detect")
    assert words["success"] and words["params"]["granularity"] == "words"
    with pytest.raises(AppError, match="granularity"):
        client.predict(handle_file(str(page)), granularity="sentences", api_name="/detect")


def test_the_mirror_setting_reaches_the_detector_and_the_record(client, page):
    """Scene photos are read enlarged, not mirrored, by default (zoom_words, mirror_words); the API
    turns the mirror look on by name."""
    default = client.predict(handle_file(str(page)), api_name="/detect")["params"]
    assert default["mirror_words"] is False and default["zoom_words"] == 1.75
    mirrored = client.predict(handle_file(str(page)), mirror_words=True, api_name="/detect")
    assert mirrored["success"] and mirrored["params"]["mirror_words"] is True


def test_non_image_gets_a_clear_error_and_the_server_keeps_serving(client, page, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is a text file, not a picture")
    with pytest.raises(AppError, match="Not a readable image"):
        client.predict(handle_file(str(bad)), api_name="/detect")
    with pytest.raises(AppError, match="thresh must be between 0 and 1"):
        client.predict(handle_file(str(page)), 1.3, api_name="/detect")
    with pytest.raises(AppError, match="ONNX"):   # no exported model yet: explained, not crashed
        client.predict(handle_file(str(page)), 0.2, 0.5, 1.5, 960, "onnx", api_name="/detect")
    assert client.predict(handle_file(str(page)), api_name="/detect")["success"] is True


def test_expected_user_errors_log_one_line_without_traceback(client, server, page, tmp_path):
    """#13.10: a user's mistake is one line in the server log; tracebacks are for real faults."""
    before = len(server.output())
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(AppError, match="Not a readable image"):
        client.predict(handle_file(str(bad)), api_name="/detect")
    with pytest.raises(AppError, match="Not allowed"):
        client.predict(None, "/etc", api_name="/detect_batch")
    with pytest.raises(AppError, match="thresh must be between 0 and 1"):
        client.predict(handle_file(str(page)), 1.3, api_name="/detect")
    new = server.output()[before:]
    assert "Traceback" not in new, new
    refused = [line for line in new.splitlines() if "refused:" in line]
    assert len(refused) == 3, new
    assert "scan.png" in refused[0] and "/etc" in refused[1] and "thresh" in refused[2]


def test_api_page_names_every_value_and_shows_real_examples(client):
    """#13.11: "Use via API" lists readable names (no `value_60`) and no "Hello!!" examples."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/detect", "/detect_visual", "/detect_batch", "/train_start", "/export_onnx"} <= set(api)
    for name, endpoint in api.items():
        for ret in endpoint["returns"]:
            assert not ret["label"].startswith("value_"), (name, ret)
        for param in endpoint["parameters"]:
            assert param.get("example_input") != "Hello!!", (name, param["parameter_name"])
    assert [r["component"] for r in api["/train_start"]["returns"]].count("Timer") == 0
    assert api["/detect_batch"]["parameters"][1]["example_input"] == "/data/scans"


def test_batch_uploads_give_summary_gallery_and_zip(client, server, page, tmp_path):
    other = write_page(tmp_path / "b.png", seed=1)
    summary, gallery, archive = client.predict([handle_file(str(page)), handle_file(str(other))], "",
                                               api_name="/detect_batch")
    assert "| 2 | 2 | 0 |" in summary            # images, processed, skipped
    assert len(gallery) == 2
    names = zipfile.ZipFile(archive["value"]).namelist()
    assert sum(n.endswith(".json") and "/json/" in n for n in names) == 2
    assert any(n.endswith("summary.json") for n in names)
    with pytest.raises(AppError, match="At most 20 files"):
        client.predict([handle_file(str(page))] * 21, "", api_name="/detect_batch")


def test_batch_server_folder_is_confined_and_resumes(client, server, page, tmp_path):
    folder = server.data_dir / "scans"
    (folder / "sub").mkdir(parents=True)
    write_page(folder / "a.jpg")
    write_page(folder / "sub" / "b.png", seed=2)
    (server.data_dir / "escape").symlink_to(tmp_path, target_is_directory=True)
    for bad in ["/etc", str(server.data_dir / ".." / ".."), str(server.data_dir / "escape")]:
        with pytest.raises(AppError, match="Not allowed"):
            client.predict(None, bad, api_name="/detect_batch")
    first = client.predict(None, str(folder), api_name="/detect_batch")[0]
    assert "| 2 | 2 | 0 |" in first
    again = client.predict(None, str(folder), api_name="/detect_batch")[0]
    assert "| 2 | 0 | 2 |" in again             # the same folder resumes: nothing redone


def test_export_tab_exports_verifies_and_serves_onnx(client, page):
    with pytest.raises(AppError, match="multiple of 32"):
        client.predict(810, 800, False, "fp32", api_name="/export_onnx")
    report, download, sample = client.predict(320, 320, False, "fp32", api_name="/export_onnx")
    assert "Verified" in report and "PASSED" in report
    assert "now uses this file" in report and "Fixed size 320×320" in report     # #13.8
    assert Path(download["value"]).name == "model_320x320.onnx"
    assert "onnxruntime" in sample and "model_320x320.onnx" in sample
    record = client.predict(handle_file(str(page)), 0.2, 0.5, 1.5, 960, "onnx", api_name="/detect")
    assert record["success"] and "onnx" in record["model"]


def test_stop_app_stops_only_our_server(server):
    """Last in this module: `bash stop_app.sh` ends the server via its pid file."""
    env = dict(os.environ, OCR_PID_FILE=str(server.pid_file))
    out = subprocess.run(["bash", str(ROOT / "stop_app.sh")], env=env, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "WebUI stopped" in out.stdout
    assert server.proc.wait(10) == 0
    assert not server.pid_file.exists()
    again = subprocess.run(["bash", str(ROOT / "stop_app.sh"), "--pid-file", str(server.pid_file)],
                           capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "not running" in again.stdout
