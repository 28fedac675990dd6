"""`python -m app evaluate` on tiny labelled folders (predictions folder, random model, and the
same numbers as the trainer's validation)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from app.cli import main
from conftest import text_like_image
from models.config import DetectorConfig

BOX_A = "10,10,60,10,60,30,10,30"
BOX_B = "10,50,60,50,60,70,10,70"
FAR = "200,200,230,200,230,220,200,220"


def make_dataset(root: Path) -> None:
    """Two categories; ground truth nested for one, flat (no gt_ prefix) for the other."""
    for rel in ("invoices/a.png", "invoices/c.jpg", "receipts/b.png"):
        path = root / "test_images" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), text_like_image(96, 128))
    gts = root / "test_gts"
    (gts / "invoices").mkdir(parents=True)
    (gts / "invoices" / "gt_a.txt").write_bytes(b"\xef\xbb\xbf" + f"{BOX_A},Total, 12\n{BOX_B},###\n".encode())
    (gts / "invoices" / "gt_c.txt").write_text(f"{BOX_A},x\n")
    (gts / "b.txt").write_text(f"{BOX_A},hello\n{BOX_B},world\n")


def test_evaluate_predictions_by_category(tmp_path, capsys):
    make_dataset(tmp_path / "data")
    preds = tmp_path / "preds"
    preds.mkdir()
    (preds / "res_invoices__a.txt").write_text(f"{BOX_A}\n{BOX_B}\n")   # hit + one on ### (dropped)
    (preds / "res_invoices__c.txt").write_text(f"{FAR}\n")             # miss + false positive
    (preds / "res_b.txt").write_text(f"{BOX_A},0.9\n{BOX_B},0.8\n")     # plain stem works too
    out = tmp_path / "report"
    code = main(["evaluate", "--data", str(tmp_path / "data"), "--predictions", str(preds),
                 "--by-category", "--output", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "invoices" in printed and "receipts" in printed and "false detection rate" in printed
    report = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    overall = report["overall"]
    assert (overall["matched"], overall["detections"], overall["ground_truth"]) == (3, 4, 4)
    assert overall["hmean"] == 0.75
    inv, rec = report["categories"]["invoices"], report["categories"]["receipts"]
    assert inv["images"] == 2 and inv["detection_rate"] == 0.5 and inv["false_detection_rate"] == 0.5
    assert rec["detection_rate"] == 1.0 and rec["false_detection_rate"] == 0.0
    assert len(report["images"]) == 3 and report["warnings"] == []
    md = (out / "evaluation.md").read_text(encoding="utf-8")
    assert "## By category" in md and "| invoices |" in md


def test_evaluate_reads_a_detect_output_folder_and_warns_on_missing(tmp_path, capsys):
    make_dataset(tmp_path / "data")
    detect_out = tmp_path / "det"
    (detect_out / "icdar").mkdir(parents=True)
    (detect_out / "json").mkdir()
    (detect_out / "icdar" / "res_invoices__a.txt").write_text(f"{BOX_A}\n")
    (detect_out / "json" / "invoices__a.json").write_text(json.dumps({"inference_time": 0.25}))
    code = main(["evaluate", "--data", str(tmp_path / "data"), "--predictions", str(detect_out),
                 "--output", str(tmp_path / "r"), "--no-progress"])
    assert code == 0
    report = json.loads((tmp_path / "r" / "evaluation.json").read_text())
    assert report["overall"]["matched"] == 1 and report["overall"]["mean_seconds"] == 0.25
    assert any("no result file" in w for w in report["warnings"])
    assert "warning:" in capsys.readouterr().out


def test_evaluate_bad_layout_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["evaluate", "--data", str(tmp_path / "empty"), "--predictions", str(tmp_path),
                 "--output", str(tmp_path / "r"), "--no-progress"])
    assert code == 2
    assert "test_images/ + test_gts/" in capsys.readouterr().err


def test_evaluate_runs_the_model(tmp_path, random_weights):
    make_dataset(tmp_path / "data")
    code = main(["evaluate", "--data", str(tmp_path / "data"), "--weights", str(random_weights),
                 "--device", "cpu", "--limit-side", "128", "--output", str(tmp_path / "r"), "--no-progress"])
    assert code == 0
    report = json.loads((tmp_path / "r" / "evaluation.json").read_text())
    assert report["overall"]["images"] == 3 and report["overall"]["ground_truth"] == 4
    assert report["overall"]["mean_seconds"] > 0
    assert report["source"].startswith("random-")


def test_evaluate_reads_paddleocr_labels_and_icdar2013_boxes(tmp_path, capsys):
    """The formats `train --data` reads are scored the same way: a PaddleOCR label file
    (stems as `detect ROOT` writes them) and ICDAR 2013 `l, t, r, b, "text"` lines."""
    paddle = tmp_path / "paddle"
    (paddle / "images").mkdir(parents=True)
    cv2.imwrite(str(paddle / "images" / "a.png"), text_like_image(96, 128))
    quad = [[10, 10], [60, 10], [60, 30], [10, 30]]
    far = [[10, 50], [60, 50], [60, 70], [10, 70]]
    (paddle / "label.txt").write_text("images/a.png\t" + json.dumps(
        [{"transcription": "TOTAL", "points": quad}, {"transcription": "x", "points": far}]) + "\n")
    preds = tmp_path / "preds"
    preds.mkdir()
    (preds / "res_images__a.txt").write_text(f"{BOX_A}\n")
    assert main(["evaluate", "--data", str(paddle), "--predictions", str(preds), "--no-progress",
                 "--output", str(tmp_path / "r1")]) == 0
    overall = json.loads((tmp_path / "r1" / "evaluation.json").read_text())["overall"]
    assert (overall["matched"], overall["ground_truth"]) == (1, 2)

    icdar13 = tmp_path / "icdar13"
    (icdar13 / "test_images").mkdir(parents=True)
    (icdar13 / "test_gts").mkdir()
    cv2.imwrite(str(icdar13 / "test_images" / "img_1.png"), text_like_image(96, 128))
    (icdar13 / "test_gts" / "gt_img_1.txt").write_text('10, 10, 60, 30, "Sale"\n10 50 60 70 "Now"\n')
    (preds / "res_img_1.txt").write_text(f"{BOX_A}\n{BOX_B}\n")
    assert main(["evaluate", "--data", str(icdar13), "--predictions", str(preds), "--no-progress",
                 "--output", str(tmp_path / "r2")]) == 0
    assert json.loads((tmp_path / "r2" / "evaluation.json").read_text())["overall"]["hmean"] == 1.0
    capsys.readouterr()


class InkModel(torch.nn.Module):
    """A stand-in network whose text probability is the ink: dark pixels -> 0.9. It finds
    exactly what was drawn, so the test knows every match, miss and false detection."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(DetectorConfig().mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(DetectorConfig().std).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gray = (x * self.std + self.mean).mean(dim=1, keepdim=True)
        return (gray < 0.5).float() * 0.9


def _grown(x0: int, y0: int, x1: int, y1: int) -> str:
    """The ground-truth quad that an inked rectangle becomes after DB's unclip (ratio 1.4)."""
    w, h = x1 - x0, y1 - y0
    d = round(w * h * DetectorConfig().unclip_ratio / (2 * (w + h)))
    a, b, c, e = x0 - d, y0 - d, x1 + d, y1 + d
    return f"{a},{b},{c},{b},{c},{e},{a},{e}"


def make_inked_dataset(root: Path) -> None:
    """ICDAR-2015 layout, test split (and the same pictures as a train split, which the
    trainer needs): 2 matches, 1 miss, 1 false detection, 1 detection on a ### region."""
    pages = {
        "img_1": ([(20, 20, 120, 36), (20, 70, 140, 86)],
                  [_grown(20, 20, 120, 36) + ",TOTAL", _grown(20, 70, 140, 86) + ",###",
                   "150,120,220,120,220,140,150,140,missed"]),
        "img_2": ([(30, 30, 200, 50), (30, 100, 90, 116)], [_grown(30, 30, 200, 50) + ",found"]),
        "img_3": ([], []),
    }
    for split in ("train", "test"):
        (root / f"{split}_images").mkdir(parents=True)
        (root / f"{split}_gts").mkdir()
        for name, (inks, lines) in pages.items():
            img = np.full((160, 240, 3), 235, np.uint8)
            for x0, y0, x1, y1 in inks:
                img[y0:y1, x0:x1] = 30
            cv2.imwrite(str(root / f"{split}_images" / f"{name}.png"), img)
            (root / f"{split}_gts" / f"gt_{name}.txt").write_text("".join(line + "\n" for line in lines))


def test_trainer_validation_and_evaluate_give_the_same_numbers(tmp_path, monkeypatch):
    """One engine: the trainer's periodic validation and `python -m app evaluate` score the
    same folder with the same detector to the same counts."""
    import app.cli.evaluate as evaluate_cli
    from models import TextDetector
    from models.train import TrainConfig, Trainer

    data = tmp_path / "data"
    make_inked_dataset(data)
    trainer = Trainer(TrainConfig(data=str(data), workdir=str(tmp_path / "run"), batch_size=2, input_size=128,
                                  workers=0, eval_limit=0))
    trainer.model = InkModel()
    validation = trainer.evaluate()

    monkeypatch.setattr(evaluate_cli, "detector_from_args",
                        lambda args: TextDetector.from_model(InkModel(), DetectorConfig(), "cpu"))
    assert main(["evaluate", "--data", str(data), "--output", str(tmp_path / "r"), "--no-progress"]) == 0
    overall = json.loads((tmp_path / "r" / "evaluation.json").read_text())["overall"]

    keys = ("precision", "recall", "hmean", "matched", "detections", "ground_truth", "images")
    assert {k: overall[k] for k in keys} == {k: validation[k] for k in keys}
    assert (overall["matched"], overall["detections"], overall["ground_truth"], overall["images"]) == (2, 3, 3, 3)
    assert overall["hmean"] == pytest.approx(2 / 3)
