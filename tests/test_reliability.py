"""Reliability: resuming a batch after `kill -9`, and a corpus of bad inputs.

- A real `python -m app detect` run is killed with SIGKILL mid-batch and run again: every
  image then has exactly one valid JSON, picture and ICDAR file, images finished before
  the kill are not redone, and no temporary file is left.
- Every kind of awkward file (tests/bad_inputs.py) gets the right answer from
  ``TextDetector`` and from the command line: a detection of the right size, or
  ``success: false`` with a clear error, never a crash.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import cv2
import pytest

from app.io.batch import FolderBusyError, folder_lock, run_batch
from app.io.outputs import ResultWriter, collect_images, output_stems
from bad_inputs import page_array, write_corpus
from conftest import ROOT
from models import ImageDecodeError

N_IMAGES = 12


def _detect_cmd(images: Path, out: Path, weights: Path) -> List[str]:
    return [sys.executable, "-m", "app", "detect", str(images), "--output", str(out), "--weights", str(weights),
            "--device", "cpu", "--no-progress"]


def _env() -> Dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def _write_pages(folder: Path, n: int) -> List[Path]:
    """``n`` 480x640 pages (a few in a sub-folder, one with a CJK name), as JPEG and PNG."""
    paths = []
    for i in range(n):
        sub = folder / "nested" if i % 4 == 3 else folder
        name = f"页 {i:02d}.png" if i == 5 else f"page_{i:02d}.{'jpg' if i % 2 else 'png'}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / name
        assert cv2.imwrite(str(path), page_array(640, 480, seed=i))
        paths.append(path)
    return paths


def _temp_files(folder: Path) -> List[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def _check_complete(out: Path, files: List[Path], root: Path) -> None:
    """Exactly one valid JSON, decodable picture and ICDAR file per image, nothing else."""
    stems = output_stems(files, root)
    assert len(set(stems)) == len(files)
    assert sorted(p.stem for p in (out / "json").glob("*.json")) == sorted(stems)
    assert sorted(p.stem for p in (out / "visualization").glob("*.jpg")) == sorted(stems)
    assert sorted(p.name for p in (out / "icdar").glob("*.txt")) == sorted(f"res_{s}.txt" for s in stems)
    for f, stem in zip(files, stems):
        record = json.loads((out / "json" / f"{stem}.json").read_text(encoding="utf-8"))
        assert record["success"] is True and Path(record["image_path"]).name == f.name
        assert (record["width"], record["height"]) == (640, 480)
        picture = cv2.imread(str(out / "visualization" / f"{stem}.jpg"))
        assert picture is not None and picture.shape[:2] == (480, 640)
        lines = (out / "icdar" / f"res_{stem}.txt").read_text().splitlines()
        assert len(lines) == len(record["boxes"])
        assert all(re.fullmatch(r"-?\d+(,-?\d+){7}", line) for line in lines)
    assert _temp_files(out) == []


def test_kill_9_mid_batch_then_resume_handles_every_image_exactly_once(tmp_path, random_weights):
    images, out = tmp_path / "in", tmp_path / "out"
    files = sorted(_write_pages(images, N_IMAGES))
    assert collect_images(images) == files
    log = open(tmp_path / "first.log", "wb")
    proc = subprocess.Popen(_detect_cmd(images, out, random_weights), cwd=ROOT, env=_env(),
                            stdout=log, stderr=subprocess.STDOUT)
    killed_at = None
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            done = len(list((out / "json").glob("*.json")))
            if 1 <= done < N_IMAGES:
                proc.send_signal(signal.SIGKILL)
                killed_at = done
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and killed_at is None:
            proc.kill()
        proc.wait(30)
        log.close()
    assert killed_at is not None, ("the run ended before it could be killed mid-batch:\n"
                                   + (tmp_path / "first.log").read_text(errors="replace"))
    assert proc.returncode == -signal.SIGKILL

    # What the killed run left: only whole files (written atomically), JSON last.
    done_jsons = sorted((out / "json").glob("*.json"))
    assert 1 <= len(done_jsons) < N_IMAGES
    before = {}
    for jp in done_jsons:
        assert json.loads(jp.read_text(encoding="utf-8"))["success"] is True
        assert (out / "visualization" / f"{jp.stem}.jpg").is_file()
        assert (out / "icdar" / f"res_{jp.stem}.txt").is_file()
        before[jp.name] = jp.stat().st_mtime_ns
    # A kill during a write leaves a hidden temporary file; plant some to prove they go.
    planted = [out / "json" / ".page_99.json.k1ll3d.tmp", out / "visualization" / ".page_99.jpg.k1ll3d.tmp",
               out / ".summary.json.k1ll3d.tmp"]
    for p in planted:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a fi")

    again = subprocess.run(_detect_cmd(images, out, random_weights), cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"processed: {N_IMAGES - len(done_jsons)}" in again.stdout
    assert f"skipped (already done): {len(done_jsons)}" in again.stdout
    _check_complete(out, files, images)
    # Images finished before the kill were not redone.
    assert {name: (out / "json" / name).stat().st_mtime_ns for name in before} == before
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["total"] == N_IMAGES and manifest["already_done"] == len(done_jsons)
    assert manifest["stale_temp_files_removed"] >= len(planted)
    assert len(manifest["images"]) == N_IMAGES
    assert manifest["model"] == json.loads(done_jsons[0].read_text(encoding="utf-8"))["model"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["total"] == N_IMAGES and summary["skipped"] == len(done_jsons)
    assert summary["failed"] == 0 and summary["images"] == N_IMAGES - len(done_jsons)


def test_same_stem_different_extension_each_get_their_own_results(tmp_path, random_detector):
    """``scan.jpg`` and ``scan.png`` used to share ``json/scan.json``: one was never processed."""
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    for name, seed in [("scan.jpg", 1), ("scan.png", 2), ("other.png", 3)]:
        cv2.imwrite(str(root / name), page_array(640, 480, seed))
    files = collect_images(root)
    assert output_stems(files, root) == ["other", "scan_jpg", "scan_png"]
    report = run_batch(random_detector, files, root, out)
    assert report.summary["images"] == 3 and report.summary["failed"] == 0
    _check_complete(out, files, root)
    again = run_batch(random_detector, files, root, out)
    assert (again.skipped, again.summary["images"]) == (3, 0)


def test_a_folder_is_written_by_one_run_at_a_time(tmp_path, random_detector):
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    cv2.imwrite(str(root / "a.png"), page_array(320, 240, 0))
    with folder_lock(out):
        with pytest.raises(FolderBusyError, match="Another run is writing"):
            run_batch(random_detector, collect_images(root), root, out)
    assert run_batch(random_detector, collect_images(root), root, out).summary["images"] == 1


def test_a_failure_replaces_an_earlier_success_completely(tmp_path, random_detector):
    """With --overwrite, an image that now fails keeps no stale picture or ICDAR file."""
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    img = root / "a.png"
    cv2.imwrite(str(img), page_array(320, 240, 0))
    run_batch(random_detector, [img], root, out)
    writer = ResultWriter(out)
    assert writer.is_done("a", img) and not writer.is_done("a", root / "b.png")
    img.write_bytes(b"")
    report = run_batch(random_detector, [img], root, out, overwrite=True)
    assert report.summary["failed"] == 1
    assert not writer.vis_path("a").exists() and not writer.icdar_path("a").exists()
    assert json.loads(writer.json_path("a").read_text())["success"] is False


# ---------------------------------------------------------------------------- bad inputs
@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    """kind -> (case, path) for every file kind the issue lists, written into one folder."""
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def test_corpus_covers_every_kind(bad_corpus):
    assert set(bad_corpus) == {
        "zero_bytes", "random_bytes", "truncated_jpeg", "truncated_png", "bomb_png", "one_pixel",
        "strip_20000x20", "png_16bit", "grayscale", "rgba", "palette", "cmyk_jpeg", "exif_rotated",
        "animated_gif", "multipage_tiff", "webp", "svg_as_png", "pdf_as_png", "unicode_name"}


def test_text_detector_gives_a_result_or_a_clear_error(bad_corpus, random_detector):
    for kind, (case, path) in bad_corpus.items():
        if case.ok:
            result = random_detector.detect(str(path))
            assert result.success, kind
            assert (result.width, result.height) == case.size, kind
            assert all(0 <= x <= case.size[0] and 0 <= y <= case.size[1]
                       for box in result.boxes for x, y in box), kind
        else:
            with pytest.raises(ImageDecodeError) as info:
                random_detector.detect(str(path))
            message = str(info.value)
            assert re.search(case.error, message, re.IGNORECASE), (kind, message)
            assert path.name in message, (kind, message)          # says which file
            assert "Traceback" not in message and len(message) < 300
    # Many at once: bad files become failed results and the good ones around them still run.
    kinds = ["zero_bytes", "one_pixel", "bomb_png", "exif_rotated", "pdf_as_png", "strip_20000x20"]
    results = list(random_detector.detect_many([str(bad_corpus[k][1]) for k in kinds]))
    assert [r.success for r in results] == [bad_corpus[k][0].ok for k in kinds]


def test_cli_writes_a_json_for_every_file_of_the_corpus(bad_corpus, random_weights, tmp_path):
    folder = next(iter(bad_corpus.values()))[1].parent
    out = tmp_path / "out"
    res = subprocess.run(_detect_cmd(folder, out, random_weights), cwd=ROOT, env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr          # some images failed, all handled
    assert "Traceback" not in res.stderr
    files = collect_images(folder)
    assert len(files) == len(bad_corpus)
    stems = dict(zip(files, output_stems(files, folder)))
    assert stems[folder / "truncated.jpg"] == "truncated_jpg"    # same stem, distinct outputs
    writer = ResultWriter(out)
    for kind, (case, path) in bad_corpus.items():
        stem = stems[path]
        record = json.loads(writer.json_path(stem).read_text(encoding="utf-8"))
        assert Path(record["image_path"]).name == case.name, kind
        if case.ok:
            assert record["success"] is True, (kind, record.get("error"))
            assert (record["width"], record["height"]) == case.size, kind
            assert writer.vis_path(stem).is_file() and writer.icdar_path(stem).is_file(), kind
        else:
            assert record["success"] is False, kind
            assert re.search(case.error, record["error"], re.IGNORECASE), (kind, record["error"])
            assert not writer.vis_path(stem).exists() and not writer.icdar_path(stem).exists(), kind
    n_bad = sum(not c.ok for c, _ in bad_corpus.values())
    assert f"failures: {n_bad}" in res.stdout
    assert _temp_files(out) == []


def test_a_rerun_with_new_settings_redoes_the_images_and_the_summary_counts_the_folder(tmp_path, random_detector):
    """Issue #13.2: a rerun with another threshold used to keep the old boxes (JSON still
    saying 0.2) and summarise zeros; done means done with the same model and settings."""
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    for i in range(2):
        cv2.imwrite(str(root / f"p{i}.png"), page_array(320, 240, i))
    files = collect_images(root)
    first = run_batch(random_detector, files, root, out)
    assert first.summary["folder"]["images"] == 2
    same = run_batch(random_detector, files, root, out)
    assert (same.skipped, same.summary["images"], same.summary["redone"]) == (2, 0, 0)
    assert same.summary["folder"]["images"] == 2, "the summary counts what the folder holds"
    assert same.summary["folder"]["mean_seconds"] > 0
    changed = run_batch(random_detector, files, root, out, overrides={"thresh": 0.4})
    assert (changed.skipped, changed.summary["images"], changed.summary["redone"]) == (0, 2, 2)
    for f in files:
        record = json.loads(ResultWriter(out).json_path(f.stem).read_text())
        assert record["params"]["thresh"] == 0.4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["folder"]["images"] == 2 and summary["redone"] == 2
    back = run_batch(random_detector, files, root, out, overrides={"thresh": 0.4})
    assert back.skipped == 2
