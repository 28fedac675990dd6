"""`python -m app bench` on two tiny images with a random-weight model (no timing assertions)."""
from __future__ import annotations

import json

import cv2
import pytest

from app.cli import main
from app.measure.bench_backends import plan
from app.measure.timing import cost_per_1000
from conftest import text_like_image


@pytest.fixture()
def two_images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), text_like_image(96, 128, 1))
    cv2.imwrite(str(folder / "b.jpg"), text_like_image(160, 128, 2))
    return folder


def test_bench_writes_json_and_markdown(tmp_path, two_images, random_weights, capsys):
    out = tmp_path / "bench"
    code = main(["bench", "--images", str(two_images), "--sizes", "64,96", "--backends", "torch",
                 "--repeats", "1", "--warmup", "1", "--price-per-hour", "1.8", "--currency", "CNY",
                 "--weights", str(random_weights), "--device", "cpu", "--output", str(out)])
    assert code == 0
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert report["hardware"]["cpu"] and report["hardware"]["cores_usable"] >= 1
    rows = report["rows"]
    assert [(r["backend"], r["precision"], r["size"]) for r in rows] == [("torch", "fp32", 64), ("torch", "fp32", 96)]
    for r in rows:
        assert r["timed_images"] == 2 and r["mean_s"] > 0 and r["p90_s"] >= r["mean_s"] * 0.5
        assert r["batched_ips"] > 0 and r["peak_rss_mb"] > 0 and r["peak_gpu_mb"] is None
        assert r["cost_per_1000"] > 0
        assert set(r["stages_ms"]) == {"decode", "preprocess", "inference", "postprocess", "total"}
    assert rows[0]["input_shape"] == "64x64"
    md = (out / "bench.md").read_text(encoding="utf-8")
    assert "cost/1000 img (CNY)" in md and "| torch | cpu | fp32 | 64 |" in md
    assert "cost/1000 img (CNY)" in capsys.readouterr().out


def test_bench_without_weights_or_images_uses_random_model_and_synthetic_pages(tmp_path, monkeypatch):
    import app.measure.bench_inputs as bench

    monkeypatch.setattr(bench, "DEFAULT_WEIGHTS", tmp_path / "missing.safetensors")
    out = tmp_path / "bench"
    code = main(["bench", "--synthetic", "1", "--sizes", "64", "--backends", "torch", "--repeats", "1",
                 "--warmup", "0", "--device", "cpu", "--in-process", "--output", str(out)])
    assert code == 0
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert report["weights"]["random"] is True and "RANDOM" in report["weights"]["note"]
    assert "synthetic" in report["images"]
    assert "RANDOM" in (out / "bench.md").read_text(encoding="utf-8")


def test_soak_reports_rss_samples(tmp_path, two_images, random_weights):
    out = tmp_path / "soak"
    code = main(["bench", "--images", str(two_images), "--sizes", "64", "--backends", "torch", "--soak", "6",
                 "--soak-interval", "2", "--weights", str(random_weights), "--device", "cpu", "--output", str(out)])
    report = json.loads((out / "soak.json").read_text(encoding="utf-8"))
    assert [s["images"] for s in report["samples"]] == [0, 2, 4, 6]
    assert all(s["rss_mb"] > 0 for s in report["samples"])
    assert code == (0 if report["stable"] else 1)
    assert "Soak test" in (out / "soak.md").read_text(encoding="utf-8")


def test_bench_runs_the_export_in_openvino(tmp_path, two_images, random_weights):
    out = tmp_path / "bench"
    code = main(["bench", "--images", str(two_images), "--sizes", "96", "--backends", "openvino",
                 "--repeats", "1", "--warmup", "1", "--weights", str(random_weights), "--device", "cpu",
                 "--output", str(out)])
    assert code == 0
    rows = json.loads((out / "bench.json").read_text(encoding="utf-8"))["rows"]
    assert [(r["backend"], r["precision"], r["size"]) for r in rows] == [("openvino", "fp32", 96)]
    assert rows[0]["timed_images"] == 2 and rows[0]["mean_s"] > 0


def test_plan_and_cost():
    assert plan(["torch", "onnx"], [], "cpu") == [("torch", "fp32"), ("onnx", "fp32")]
    assert plan(["torch", "onnx"], [], "cuda") == [("torch", "fp16"), ("onnx", "fp32"), ("onnx", "fp16")]
    assert plan(["openvino"], ["fp32", "int8"], "cpu") == [("openvino", "fp32"), ("openvino", "int8")]
    with pytest.raises(ValueError):
        plan(["tensorflow"], [], "cpu")
    # 1 image/s on a 3.6 per hour machine: 3600 images cost 3.6, so 1000 cost 1.0.
    assert cost_per_1000(1.0, 3.6) == pytest.approx(1.0)
    assert cost_per_1000(1.0, None) is None


def test_latency_microbenchmark_map_holds_200_boxes():
    """bench/latency.py's post-processing case: 200 drawn text lines come back as 200 boxes."""
    from bench import latency

    result = latency.bench_postprocess(repeats=1)
    assert result.boxes_drawn == result.boxes_found == 200


def _rect(x0, y0, x1, y1):
    import numpy as np

    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def test_error_analysis_sorts_each_miss_and_false_alarm_into_its_kind():
    """bench.error_analysis: one word found, two words merged into one line box (a miss each,
    both 'found at IoU 0.1-0.5', the line box 'on text'), one box on background, one in a
    don't-care region; heights are the short sides."""
    from bench.error_analysis import analyse_image

    gts = [_rect(0, 0, 100, 20), _rect(200, 0, 260, 30), _rect(270, 0, 330, 30), _rect(0, 100, 50, 140)]
    ignore = [False, False, False, True]
    preds = [_rect(2, 1, 101, 21), _rect(198, -2, 332, 32), _rect(500, 500, 560, 520), _rect(0, 100, 50, 139)]
    out = analyse_image(preds, gts, ignore)
    assert out.gt_matched == [True, False, False]
    assert out.gt_partial == [False, True, True]
    assert [round(h) for h in out.gt_heights] == [20, 30, 30]
    assert out.fp_kinds == {"inside don't-care": 1, "background": 1, "on text, IoU <= 0.5": 1}


def test_error_analysis_prints_recall_by_height(tmp_path, capsys):
    from bench.error_analysis import main as analyse

    gts, preds = tmp_path / "val" / "test_gts", tmp_path / "res"
    gts.mkdir(parents=True)
    preds.mkdir()
    (tmp_path / "val" / "test_images").mkdir()
    cv2.imwrite(str(tmp_path / "val" / "test_images" / "a.png"), text_like_image(64, 320, 0))
    (gts / "gt_a.txt").write_text("0,0,100,0,100,20,0,20,hello\n200,0,260,0,260,40,200,40,###\n")
    (preds / "res_a.txt").write_text("1,0,100,0,100,20,1,20\n")
    analyse(["--data", str(tmp_path / "val"), "--predictions", str(preds)])
    out = capsys.readouterr().out
    assert "1 text regions that count" in out
    assert "| 16-24 px | 1 | 100% | 1.00 | 0.00 |" in out and "precision 1.000" in out


def test_architecture_speed_names_the_word_map_variants():
    from bench.architecture_speed import parse_network

    assert parse_network("64:1112").word_head is False
    own, shared = parse_network("64:1112+w"), parse_network("64:1112+wl")
    assert own.word_head and own.word_neck and own.depths == (1, 1, 1, 2) and own.inner_channels == 64
    assert shared.word_head and not shared.word_neck
    both = parse_network("64:1112+asf+wl")
    assert both.asf and both.word_head and not both.word_neck and not parse_network("64:1112+w").asf
    for bad in ("64:1112+x", "64:1112+w+wl"):
        with pytest.raises(SystemExit, match="unknown or repeated suffix"):
            parse_network(bad)
