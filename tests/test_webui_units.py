"""WebUI pieces without a server: settings, allowed folders, no-weights mode, jobs, training tab."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import gradio as gr
import pytest

from app.web.context import WebContext
from app.web.guards import friendly_errors, resolve_allowed
from app.web.jobs import CANCELLED, DONE, FAILED, RUNNING, JobBusyError, JobRunner
from app.web.service import DetectorService
from app.web.settings import AppSettings, ModelSettings, StorageSettings, parse_auth, parse_roots


def _ctx(tmp: Path, weights: Path | None, background_build: bool = False) -> WebContext:
    settings = AppSettings(storage=StorageSettings(output_dir=tmp / "out", workdir_root=tmp / "work",
                                                   allowed_roots=(tmp / "data",)),
                           model=ModelSettings(weights=weights, device="cpu"))
    return WebContext(settings, DetectorService(settings.model, background_build=background_build))


def test_flags_and_environment(monkeypatch, tmp_path):
    from app.cli import build_parser
    from app.cli.serve import settings_from_args

    assert parse_auth("admin:p:a:ss") == ("admin", "p:a:ss")
    with pytest.raises(ValueError, match="user:password"):
        parse_auth("admin")
    assert parse_roots(f"{tmp_path}{os.pathsep}{tmp_path}/x") == (tmp_path.resolve(), (tmp_path / "x").resolve())
    monkeypatch.setenv("OCR_PORT", "9001")
    monkeypatch.setenv("OCR_AUTH", "u:p")
    monkeypatch.setenv("OCR_ALLOWED_ROOTS", str(tmp_path))
    args = build_parser(["serve"]).parse_args(["serve", "--host", "127.0.0.1"])
    s = settings_from_args(args)
    assert (s.server.host, s.server.port, s.server.auth) == ("127.0.0.1", 9001, ("u", "p"))
    assert s.storage.allowed_roots == (tmp_path.resolve(),) and not s.server.exposed_without_auth
    args = build_parser(["serve"]).parse_args(["serve", "--port", "9002", "--batch-cap", "5"])
    s = settings_from_args(args)
    assert s.server.port == 9002 and s.limits.batch_cap == 5 and s.server.host == "0.0.0.0"


def test_server_folders_stay_inside_allowed_roots(tmp_path):
    root = tmp_path / "data"
    (root / "scans").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "link").symlink_to(tmp_path / "secret", target_is_directory=True)
    assert resolve_allowed(str(root / "scans"), [root]) == (root / "scans").resolve()
    assert resolve_allowed(str(root / "scans" / ".." / "scans"), [root]) == (root / "scans").resolve()
    for bad in [str(root / ".." / "secret"), str(root / "link"), "/etc", "/no/such/place"]:
        with pytest.raises(PermissionError, match="Not allowed"):   # existence is not revealed
            resolve_allowed(bad, [root])
    with pytest.raises(FileNotFoundError, match="not found"):
        resolve_allowed(str(root / "missing"), [root])
    with pytest.raises(PermissionError, match="disabled"):
        resolve_allowed(str(root), [])


def test_without_weights_the_ui_explains_instead_of_detecting(tmp_path):
    from app.web.tabs.single import detect_and_save

    ctx = _ctx(tmp_path, tmp_path / "none.safetensors")
    assert not ctx.service.ready
    assert "No trained weights installed" in ctx.service.banner()
    with pytest.raises(gr.Error, match="No trained weights"):
        friendly_errors(detect_and_save)(ctx, str(tmp_path / "x.jpg"), 0.2, 0.5, 1.5, 960, "torch")


def test_one_job_at_a_time_with_cancel_and_failure():
    jobs = JobRunner()
    release = threading.Event()

    def slow(emit, cancel):
        emit({"type": "log", "message": "started"})
        while not cancel.is_set() and not release.is_set():
            time.sleep(0.01)

    jobs.start("first", slow)
    with pytest.raises(JobBusyError, match="already running"):
        jobs.start("second", slow)
    assert jobs.cancel()
    _wait(jobs)
    assert jobs.snapshot().state == CANCELLED and jobs.snapshot().events[0]["message"] == "started"
    jobs.start("broken", lambda emit, cancel: 1 / 0)
    _wait(jobs)
    assert jobs.snapshot().state == FAILED and "ZeroDivisionError" in jobs.snapshot().error


def _wait(jobs: JobRunner, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while jobs.snapshot().running:
        assert time.time() < deadline, "job did not finish"
        time.sleep(0.2)


def test_train_tab_runs_a_job_and_switches_weights(tmp_path, random_weights):
    from app.web.tabs.train import check_dataset, new_weights, refresh, start_training
    from models.synth.types import SynthConfig
    from models.synth.writer import write_dataset

    ctx = _ctx(tmp_path, random_weights)
    data = tmp_path / "data" / "set"
    write_dataset(data, 4, SynthConfig(seed=3, long_side=(320, 400)), "train")
    with pytest.raises(ValueError, match="train_images"):
        check_dataset(ctx, str(tmp_path / "data"))
    message = start_training(ctx, str(data), batch_size=2, epochs=1, lr=0.007, from_current=True)
    assert "train: 4 images" in message
    with pytest.raises(JobBusyError):
        start_training(ctx, str(data), batch_size=2, epochs=1, lr=0.007, from_current=False)
    _wait(ctx.jobs)
    snap = ctx.jobs.snapshot()
    assert snap.state == DONE, snap.error
    status, loss, hmean, log, timer, use_button = refresh(ctx)
    assert "Finished" in status and "step 2 of 2" in status and "损失 loss" in log and "读取数据 reading the dataset" in log
    assert len(loss.value["data"]) == 2 and loss.caption.startswith("最新 Latest: step 2")
    assert "No test split" in hmean.caption           # the synthetic set has no test_* split
    assert len(refresh(ctx, timer=False)) == 5
    weights = new_weights(snap)
    assert weights is not None and weights.parent.parent == tmp_path / "work"
    before = ctx.service.model_id
    assert ctx.service.use_weights(weights) != before


def test_a_result_without_boxes_says_what_to_try():
    """Issue #13.3: an empty result used to show only '0 boxes' (and a false 'lower finds more' hint)."""
    from app.web import wording
    from app.web.tabs.single import _timing

    record = {"timings": {"inference": 0.1}, "inference_time": 0.1, "boxes": [], "width": 64, "height": 48}
    empty = _timing(record, Path("/runs/out/json/x.json"))
    assert "No text found" in empty and "0.2 或 or 0.4" in empty
    assert "No text found" not in _timing(dict(record, boxes=[[0] * 8]), Path("/runs/out/json/x.json"))
    assert "Lower finds more" not in wording.THRESHOLD_INFO


def _fake_run(folder: Path, cancelled: bool, seed: int = 1, hmean: float | None = 0.5) -> Path:
    """A run folder as the trainer leaves it: weights and log.jsonl ending in a done record."""
    import json

    import torch

    from models.dbnet import DBNet
    from models.weights import save_weights

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    weights = save_weights(DBNet(), folder / "best.safetensors", meta={"note": "test run"})
    records = [{"type": "config", "config": {"data": [str(folder)], "workdir": str(folder)}},
               {"type": "eval", "step": 3, "hmean": hmean, "images": 2, "best": True},
               {"type": "done", "step": 3, "cancelled": cancelled, "last_weights": str(weights),
                "best_weights": str(weights), "best_hmean": hmean}]
    (folder / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return weights


def test_service_refuses_unfinished_runs_drops_onnx_and_reverts(tmp_path, random_weights):
    from app.web.runs import outcome_from_events

    ctx = _ctx(tmp_path, random_weights)
    service, released = ctx.service, ctx.service.model_id
    assert not service.swapped and not service.can_revert and "Serving trained weights" not in service.banner()
    cancelled = _fake_run(tmp_path / "work" / "run_cancelled", cancelled=True)
    with pytest.raises(ValueError, match="cancelled"):
        service.use_weights(cancelled)
    assert service.model_id == released
    onnx_file = tmp_path / "old.onnx"
    service.use_onnx(onnx_file)
    assert "old.onnx" in service.banner()
    finished = _fake_run(tmp_path / "work" / "run_done", cancelled=False, seed=2)
    new_id = service.use_weights(finished)
    assert new_id != released and service.model_id == new_id and service.swapped and service.can_revert
    banner = service.banner()
    assert new_id in banner and "Serving trained weights" in banner and "export again" in banner
    assert service.info()["onnx_model"] is None
    with pytest.raises(FileNotFoundError, match="no model yet"):   # never the old weights' export
        service.detector("onnx")
    assert not service.use_onnx(onnx_file, weights=random_weights)   # an export of the old weights
    assert service.revert() == released and not service.swapped and not service.can_revert
    assert released in service.banner() and "Serving trained weights" not in service.banner()
    # the run outcomes behind the button
    assert outcome_from_events([{"type": "step", "step": 1}]).problem is not None       # still running
    assert "failed" in outcome_from_events([], state="failed").problem
    done = outcome_from_events([{"type": "done", "cancelled": False, "last_weights": str(finished),
                                 "best_weights": None, "best_hmean": None}])
    assert done.servable and done.which == "last" and done.hmean is None


def test_train_tab_offers_only_a_finished_runs_weights(tmp_path):
    from app.web.jobs import JobSnapshot
    from app.web.tabs.train import _status, new_weights

    weights = tmp_path / "best.safetensors"
    weights.write_bytes(b"x")

    def snap(state, cancelled, evals=()):
        done = {"type": "done", "cancelled": cancelled, "last_weights": str(weights),
                "best_weights": str(weights), "best_hmean": evals[-1]["hmean"] if evals else None}
        return JobSnapshot("run", state, 5.0, [*evals, done], None, None)

    cancelled = snap(CANCELLED, True)
    assert new_weights(cancelled) is None and "was cancelled" in _status(cancelled)
    assert new_weights(snap(FAILED, False)) is None
    finished = snap(DONE, False, [{"type": "eval", "step": 2, "hmean": 0.61, "images": 3}])
    assert new_weights(finished) == weights and "Validation hmean **0.6100**" in _status(finished)
    assert "no validation split" in _status(snap(DONE, False))


def test_train_status_says_what_the_run_is_doing_from_the_first_second():
    """#13.5: a phase from the start, 'step k of n', the next update, and the one-point plot in words."""
    from app.web.jobs import JobSnapshot
    from app.web.tabs.train import _hmean_caption, _loss_caption, _progress

    now = 1000.0
    data = {"type": "phase", "phase": "data", "time": now - 3}
    assert "reading the dataset (3 s)" in _progress(JobSnapshot("run", RUNNING, 3.0, [data], None, None), now)
    plan = {"type": "phase", "phase": "train", "time": now - 6, "total_steps": 40, "log_every": 10, "batch_size": 8,
            "val_images": 5, "first_eval_step": 20}
    first = {"type": "step", "step": 1, "total_steps": 40, "loss": 2.5, "images_per_s": 1.0, "time": now - 4}
    events = [data, plan, first]
    text = _progress(JobSnapshot("run", RUNNING, 9.0, events, None, None), now)
    # 9 more steps of 8 images at 1 img/s = 72 s, 4 s of which have passed
    assert "step 1 of 40" in text and "next update in ~68 s" in text
    assert "line starts at the next logged step, step 10" in _loss_caption(events)
    assert "First validation at step 20 (5 images)" in _hmean_caption(events)
    validating = {"type": "phase", "phase": "validate", "time": now - 1}
    assert "validating (1 s)" in _progress(JobSnapshot("run", RUNNING, 9.0, [*events, validating], None, None), now)
    assert _hmean_caption([*events, {"type": "eval", "step": 20, "hmean": 0.5}]) is None


def test_a_table_row_highlights_its_box(tmp_path):
    """#13.7: the picked row's box stays bright and outlined, the rest of the picture dims."""
    import cv2
    import numpy as np

    from app.web.tabs.single import highlighted

    picture = np.full((100, 200, 3), 200, np.uint8)
    shown = tmp_path / "vis.png"
    cv2.imwrite(str(shown), picture)
    record = {"boxes": [[10, 10, 60, 10, 60, 40, 10, 40], [100, 50, 190, 50, 190, 90, 100, 90]]}
    out = highlighted(record, str(shown), 1)
    assert out.shape == picture.shape
    assert (out[70, 140] == 200).all()              # inside the picked box: untouched
    assert out[25, 35].max() < 120                  # inside the other box: dimmed
    assert tuple(out[50, 100]) == (255, 215, 0)     # the outline
    assert highlighted(record, str(shown), 2) is None and highlighted(None, str(shown), 0) is None
    assert highlighted(record, str(tmp_path / "gone.png"), 0) is None


def test_box_numbers_sit_beside_the_text_not_on_it():
    """#13.7: the number tag goes left of the box (above it at the left edge), never inside."""
    import numpy as np

    from app.io.visualize import draw_boxes

    white = np.full((120, 300, 3), 255, np.uint8)
    box = np.array([[[100, 50], [200, 50], [200, 80], [100, 80]]])
    out = draw_boxes(white, box)
    assert (out[53:78, 103:198] == 255).all()          # the box's inside (its text) stays untouched
    assert (out[50:62, 80:99] != 255).any()             # the tag, left of the box
    edge = draw_boxes(white, np.array([[[0, 50], [100, 50], [100, 80], [0, 80]]]))
    assert (edge[53:78, 3:98] == 255).all() and (edge[35:50, 0:20] != 255).any()   # above at the left edge


def test_result_json_on_the_page_is_one_box_per_line_and_reads_back():
    import json

    from app.io.runs import compact_json

    record = {"image_path": "收据.png", "boxes": [[1, 2, 30, 2, 30, 12, 1, 12], [5, 20, 40, 20, 40, 31, 5, 31]],
              "scores": [0.91, 0.8], "success": True, "params": {"thresh": 0.3}, "texts": ["合计", "TOTAL"],
              "polygons": [[1, 2, 3, 4, 5, 6]]}
    text = compact_json(record)
    assert json.loads(text) == record
    lines = text.splitlines()
    assert "    [1, 2, 30, 2, 30, 12, 1, 12]," in lines and "    [5, 20, 40, 20, 40, 31, 5, 31]" in lines
    assert '  "image_path": "收据.png",' in lines                       # readable, not \u escapes
    # braces, one line per key, then per box and polygon, and the closing line of each of the two lists
    assert len(lines) == 2 + len(record) + (2 + 1) + (1 + 1)
    assert compact_json(None) == "" and compact_json({}) == ""


def test_page_script_swaps_only_whole_gradio_texts():
    import json

    from app.web import wording as W
    from app.web.bilingual import page_script

    script = page_script()
    embedded = json.loads(script[script.index("const texts = ") + len("const texts = "):script.index(";\n")])
    assert embedded == W.GRADIO_TEXTS
    assert all(english in bilingual for english, bilingual in W.GRADIO_TEXTS.items())   # English kept
    assert script.strip().startswith("() =>")                        # the function Gradio's launch(js=) runs
