"""`python -m app detect --engine ray`: the local engine's files, resumable after a killed driver.

One local Ray run is the expensive part (Ray and two actors start in ~20-50 s on a busy
2-core box), so one test kills a run and resumes it, then compares every file with the
local engine's; the option checks run in-process without starting Ray.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import cv2
import pytest

from app.cli import main
from conftest import ROOT, text_like_image

IMAGES = 24
TIMING_KEYS = ("inference_time", "timings")
# Random weights find nothing at the shipped thresholds; at these they find boxes to compare.
LOW = ["--thresh", "0.015", "--box-thresh", "0.015", "--lines-shift", "0"]


def _folder(tmp_path: Path) -> Path:
    images = tmp_path / "in"
    (images / "nested").mkdir(parents=True)
    for i in range(IMAGES):
        cv2.imwrite(str(images / ("nested" if i % 5 == 0 else "") / f"p{i:02d}.png"), text_like_image(128, 192, i))
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    return images


def _cmd(images: Path, out: Path, weights: Path, *extra: str) -> List[str]:
    return [sys.executable, "-m", "app", "detect", str(images), "--output", str(out), "--weights", str(weights),
            "--backend", "torch", "--no-progress", *LOW, *extra]


def _ray_processes(session: int) -> List[str]:
    res = subprocess.run(["pgrep", "-a", "-s", str(session)], capture_output=True, text=True)
    return res.stdout.splitlines()


def _kill_when_written(proc: subprocess.Popen, json_dir: Path, at_least: int, timeout: float = 240) -> None:
    """SIGKILL the driver alone once ``at_least`` results exist, then wait for its Ray
    processes to stop writing (the raylet and workers die with the driver); Ray's two
    agent processes linger, so the session is cleared after that."""
    t0 = time.monotonic()
    while not (json_dir.is_dir() and len(list(json_dir.glob("*.json"))) >= at_least):
        assert proc.poll() is None, "the Ray run ended before it could be killed"
        assert time.monotonic() - t0 < timeout, "no result written in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t1 = time.monotonic()
    while any("raylet" in p or ("ray::" in p and "Agent" not in p) for p in _ray_processes(proc.pid)):
        assert time.monotonic() - t1 < 60, "Ray workers outlived their driver by a minute"
        time.sleep(0.2)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _without_timing(record: Dict) -> Dict:
    return {k: v for k, v in record.items() if k not in TIMING_KEYS}


def _files(out: Path) -> Dict[str, Path]:
    return {str(p.relative_to(out)): p for p in out.rglob("*") if p.is_file() and p.name != ".lock"}


def test_ray_matches_local_engine_and_resumes_after_killed_driver(tmp_path, random_weights):
    images = _folder(tmp_path)
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    res = subprocess.run(_cmd(images, local, random_weights), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr        # the broken file
    total = IMAGES + 1

    proc = subprocess.Popen(_cmd(images, ray_out, random_weights, "--engine", "ray", "--num-workers", "2",
                                 "--ray-batch-size", "1"),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _kill_when_written(proc, ray_out / "json", at_least=3)
    written = {p.stem: json.loads(p.read_text()) for p in (ray_out / "json").glob("*.json")}
    done_before = {s for s, r in written.items() if r["success"]}
    assert 0 < len(done_before) < IMAGES, f"kill came too late to test resuming ({len(written)} written)"

    again = subprocess.run(_cmd(images, ray_out, random_weights, "--engine", "ray", "--num-workers", "2"),
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 1, again.stderr
    assert "Traceback" not in again.stderr
    # every image exactly once: the resumed run did only what the killed one had not finished
    assert f"processed: {total - len(done_before)}" in again.stdout, again.stdout
    assert f"skipped (already done): {len(done_before)}" in again.stdout
    manifest = json.loads((ray_out / "manifest.json").read_text())
    assert manifest["already_done"] == len(done_before) and manifest["engine"] == "ray"
    assert manifest["stale_temp_files_removed"] >= 0
    summary = json.loads((ray_out / "summary.json").read_text())
    assert sum(w["images"] for w in summary["engine"]["workers"]) == total - len(done_before)
    assert summary["folder"]["images"] == total and summary["folder"]["failed"] == 1

    # the same files as the local engine, file for file; no temporary file left anywhere
    local_files, ray_files = _files(local), _files(ray_out)
    assert sorted(ray_files) == sorted(local_files)
    assert not [p for p in ray_out.rglob(".*.tmp")]
    boxes = 0
    for name, path in local_files.items():
        mine = ray_files[name]
        if name.startswith("json/"):
            a, b = json.loads(path.read_text()), json.loads(mine.read_text())
            assert _without_timing(b) == _without_timing(a), name
            boxes += len(a["boxes"])
        elif name.startswith(("icdar/", "visualization/")):
            assert mine.read_bytes() == path.read_bytes(), name
    assert boxes > 0, "the comparison needs boxes"
    bad = json.loads((ray_out / "json" / "broken.json").read_text())
    assert bad["success"] is False and "broken.jpg" in bad["error"]
    local_manifest = json.loads((local / "manifest.json").read_text())
    for key in ("root", "model", "params", "total", "images"):
        assert manifest[key] == local_manifest[key], key
    local_summary = json.loads((local / "summary.json").read_text())
    assert {k: v for k, v in summary["folder"].items() if k != "mean_seconds"} == \
        {k: v for k, v in local_summary["folder"].items() if k != "mean_seconds"}


@pytest.fixture
def one_image(tmp_path) -> Path:
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), text_like_image())
    return img


def test_missing_ray_is_a_one_line_error(one_image, tmp_path, random_weights, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)     # import ray -> ImportError
    code = main(["detect", str(one_image), "--output", str(tmp_path / "o"), "--weights", str(random_weights),
                 "--engine", "ray", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "needs Ray" in err and "requirements-ray.txt" in err and "Traceback" not in err


@pytest.mark.parametrize("extra, message", [
    (["--address", "auto"], "--address needs --engine ray"),
    (["--engine", "ray", "--device", "cuda"], "needs --gpus-per-worker"),
    (["--engine", "ray", "--num-workers", "0"], "num_workers must be between 1 and 4096"),
    (["--engine", "spark"], "engine must be one of 'local', 'gpu', 'ray' (got 'spark')"),
    (["--engine", "ray", "--address", "127.0.0.1:1"], "no Ray head answers there"),
])
def test_bad_engine_options_are_clear_errors(one_image, tmp_path, random_weights, capsys, extra, message):
    code = main(["detect", str(one_image), "--output", str(tmp_path / "o"), "--weights", str(random_weights),
                 "--no-progress", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o" / "json").exists()      # stopped before any result
