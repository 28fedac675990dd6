"""`python -m app dataset` (#14.2): a processed folder's results become a dataset that the
trainer and PPOCRLabel read, with rotated quads and recognised texts kept."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from app.io.results_dataset import ResultsDatasetConfig, export_results, source_image
from conftest import ROOT, text_like_image
from models.data.icdar import read_split
from models.data.paddle_label import read_label_file

QUAD = [30, 10, 120, 40, 110, 70, 20, 40]
RECT = [5, 80, 90, 80, 90, 100, 5, 100]


def _results(tmp_path: Path) -> Path:
    """A folder as `detect --output` leaves it: two successes (one recognised), one failure,
    one whose image was deleted since; relative image paths resolve through the manifest."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (out / "json").mkdir(parents=True)
    for name in ("a.png", "b.png", "gone.png"):
        cv2.imwrite(str(src / name), text_like_image(120, 160))
    (src / "gone.png").unlink()
    records = {
        "a": dict(image_path=str(src / "a.png"), success=True, boxes=[QUAD, RECT], scores=[0.9, 0.2]),
        "b": dict(image_path="in/b.png", success=True, boxes=[RECT], scores=[0.8], texts=["总计 1,200"],
                  text_scores=[0.9]),
        "c": dict(image_path=str(src / "c.png"), success=False, error="not an image"),
        "gone": dict(image_path=str(src / "gone.png"), success=True, boxes=[RECT], scores=[0.9]),
    }
    for stem, record in records.items():
        (out / "json" / f"{stem}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    (out / "json" / "d.json").write_text(json.dumps(dict(image_path=str(src / "a.png"), success=True,
                                                         boxes=[[1, 2, 3]], scores=[0.9])))   # a broken box
    (out / "manifest.json").write_text(json.dumps({"root": str(src)}))
    return out


def test_results_become_an_icdar_dataset_with_quads_texts_and_score_filter(tmp_path):
    out = _results(tmp_path)
    report = export_results(ResultsDatasetConfig(results=out, output=tmp_path / "set", min_score=0.5), chunk=2)
    assert [a.image.name for a in report.added] == ["a.png", "b.png"]
    c, gone, d = report.skipped
    assert c.startswith("c.json: detection failed") and gone.startswith("gone.json") and "not found" in gone
    assert d.startswith("d.json") and "box 1: needs at least 4" in d
    assert (tmp_path / "set" / "train_list.txt").read_text().splitlines() == ["a.png", "b.png"]
    a, b = read_split(tmp_path / "set", "train")
    np.testing.assert_array_equal(a.regions[0].points.reshape(-1), QUAD)    # the low-scored box left out
    assert len(a.regions) == 1 and a.regions[0].text == ""
    assert [r.text for r in b.regions] == ["总计 1,200"]


def test_relative_image_paths_resolve_through_the_manifest(tmp_path):
    out = _results(tmp_path)
    record = json.loads((out / "json" / "b.json").read_text(encoding="utf-8"))
    assert source_image(record, out) == tmp_path / "in" / "b.png"


def test_cli_writes_paddle_labels_and_says_how_to_train(tmp_path):
    out = _results(tmp_path)
    res = subprocess.run([sys.executable, "-m", "app", "dataset", "--results", str(out), "--output",
                          str(tmp_path / "pp"), "--layout", "paddle"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert "added 2 image(s), 3 box(es)" in res.stdout and f"--data {tmp_path / 'pp' / 'images'}" in res.stdout
    samples = read_label_file(tmp_path / "pp" / "images" / "Label.txt")
    assert [len(s.regions) for s in samples] == [2, 1]
    bad = subprocess.run([sys.executable, "-m", "app", "dataset", "--results", str(tmp_path / "nowhere"),
                          "--output", str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no json/ folder" in bad.stderr
