"""End to end through `python -m app detect` with a random-weight model."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np

from conftest import ROOT, text_like_image


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_detect_folder_writes_outputs_and_resumes(tmp_path, random_weights):
    images = tmp_path / "in"
    (images / "nested").mkdir(parents=True)
    cv2.imwrite(str(images / "page.jpg"), text_like_image(200, 300, 1))
    cv2.imwrite(str(images / "nested" / "扫描 1.png"), text_like_image(180, 240, 2))
    out = tmp_path / "out"
    res = _run("detect", str(images), "--output", str(out), "--weights", str(random_weights), "--no-progress")
    assert res.returncode == 0, res.stderr
    for stem in ("page", "nested__扫描 1"):
        record = json.loads((out / "json" / f"{stem}.json").read_text(encoding="utf-8"))
        for key in ("image_path", "boxes", "scores", "success", "inference_time", "width", "height",
                    "params", "model"):
            assert key in record
        assert record["success"] is True
        assert all(len(b) == 8 for b in record["boxes"])
        assert (out / "visualization" / f"{stem}.jpg").is_file()
        assert (out / "icdar" / f"res_{stem}.txt").is_file()
    assert "processed: 2" in res.stdout
    again = _run("detect", str(images), "--output", str(out), "--weights", str(random_weights), "--no-progress")
    assert again.returncode == 0
    assert "processed: 0" in again.stdout and "skipped (already done): 2" in again.stdout


def test_bad_image_reported_and_run_continues(tmp_path, random_weights):
    images = tmp_path / "in"
    images.mkdir()
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    cv2.imwrite(str(images / "ok.png"), text_like_image())
    out = tmp_path / "out"
    res = _run("detect", str(images), "--output", str(out), "--weights", str(random_weights), "--no-progress")
    assert res.returncode == 1
    bad = json.loads((out / "json" / "broken.json").read_text())
    assert bad["success"] is False and "broken.jpg" in bad["error"]
    assert json.loads((out / "json" / "ok.json").read_text())["success"] is True


def test_missing_weights_is_a_loud_error(tmp_path):
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), text_like_image())
    res = _run("detect", str(img), "--output", str(tmp_path / "o"), "--weights", str(tmp_path / "none.safetensors"))
    assert res.returncode != 0
    assert "No trained detector weights" in res.stderr and "Traceback" not in res.stderr


def test_detector_api_detect_and_detect_many(random_detector):
    imgs = [text_like_image(200, 300, i) for i in range(3)]
    single = random_detector.detect(imgs[0])
    assert single.width == 300 and single.height == 200
    assert {"decode", "preprocess", "inference", "postprocess", "total"} <= set(single.timings)
    many = list(random_detector.detect_many([imgs[0], b"junk", imgs[2]]))
    assert [r.success for r in many] == [True, False, True]
    np.testing.assert_array_equal(many[0].boxes, single.boxes)


def test_gpu_engine_writes_json_and_icdar_and_resumes(tmp_path, random_weights):
    """`--engine gpu` (GpuStream) through the real CLI; on a CPU it runs, with a warning. Its
    processes write JSON, ICDAR files and pictures, as the local engine does."""
    images = tmp_path / "in"
    images.mkdir()
    cv2.imwrite(str(images / "page.jpg"), text_like_image(200, 300, 1))
    cv2.imwrite(str(images / "form.png"), text_like_image(180, 240, 2))
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    out = tmp_path / "out"
    args = ("detect", str(images), "--output", str(out), "--weights", str(random_weights), "--no-progress",
            "--engine", "gpu", "--post-processes", "2", "--gpu-batch-size", "2")
    res = _run(*args)
    assert res.returncode == 1, res.stderr          # the broken file fails, the others are written
    assert "slower than the local engine" in res.stderr
    assert "gpu stream: 3 images" in res.stdout
    for stem in ("page", "form"):
        record = json.loads((out / "json" / f"{stem}.json").read_text(encoding="utf-8"))
        assert record["success"] is True and record["width"] > 0
        assert (out / "icdar" / f"res_{stem}.txt").is_file()
        picture = cv2.imread(str(out / "visualization" / f"{stem}.jpg"))
        assert picture is not None and picture.shape[1] == record["width"]     # small: drawn full size
    assert "broken.jpg: not a recognised image format" in json.loads((out / "json" / "broken.json").read_text())["error"]
    again = _run(*args)
    assert "processed: 1" in again.stdout and "skipped (already done): 2" in again.stdout
    # the records the post-processing processes wrote are the local engine's, key for key; the
    # stream reads every image once and says so (GpuStream.FIXED_SETTINGS)
    local = tmp_path / "local"
    assert _run("detect", str(images / "page.jpg"), "--output", str(local), "--weights", str(random_weights),
                "--backend", "torch", "--no-progress", "--no-mirror-words", "--zoom-words", "1").returncode == 0
    mine = json.loads((out / "json" / "page.json").read_text(encoding="utf-8"))
    theirs = json.loads((local / "json" / "page.json").read_text(encoding="utf-8"))
    assert mine["params"]["mirror_words"] is False and mine["params"]["zoom_words"] == 1.0
    assert set(mine) == set(theirs) and mine["params"] == theirs["params"] and mine["model"] == theirs["model"]
    assert mine["image_path"].endswith("page.jpg") and set(mine["timings"]) == set(theirs["timings"]) - {"preprocess"}


def test_gpu_engine_refuses_what_it_cannot_do(tmp_path, random_weights):
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), text_like_image())
    base = ("detect", str(img), "--output", str(tmp_path / "o"), "--weights", str(random_weights), "--engine", "gpu")
    res = _run(*base, "--backend", "onnx")
    assert res.returncode == 2 and "PyTorch network on the GPU" in res.stderr and "Traceback" not in res.stderr
    res = _run(*base, "--recognize")
    assert res.returncode == 2 and "--engine gpu only detects" in res.stderr


def test_gpu_engine_write_failure_is_a_clear_error(tmp_path, random_weights):
    """A result that cannot be written (here `json` is a file, not a folder) stops the run
    with one ERROR line naming the image, not a traceback."""
    images = tmp_path / "in"
    images.mkdir()
    cv2.imwrite(str(images / "page.png"), text_like_image())
    out = tmp_path / "out"
    out.mkdir()
    (out / "json").write_text("not a folder")
    res = _run("detect", str(images), "--output", str(out), "--weights", str(random_weights), "--no-progress",
               "--engine", "gpu", "--post-processes", "1")
    assert res.returncode == 2, res.stderr
    assert "ERROR: writing the results of" in res.stderr and "page.png" in res.stderr
    assert "Traceback" not in res.stderr
