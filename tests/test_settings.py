"""One source for every setting: metadata-driven validation, the command-line options
helper, the WebUI widgets, DBPostProcess(DetectorConfig) and TrainConfig records."""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
from dataclasses import asdict, dataclass
from typing import Tuple

import numpy as np
import pytest
import torch

from app.cli import COMMANDS, build_parser
from app.cli.options import add_options, config_from_args
from app.measure.bench_inputs import BenchConfig
from app.measure.evaluation import EvalConfig
from models.config import DetectorConfig
from models.data.augment import AugmentConfig
from models.export.config import ExportConfig
from models.loss import LossConfig
from models.postprocess import DBPostProcess
from models.preprocess import ResizeInfo
from models.settings import bounds_text, check_settings, setting
from models.train import TrainConfig

SETTINGS = (DetectorConfig, TrainConfig, LossConfig, AugmentConfig, ExportConfig, BenchConfig, EvalConfig)


@dataclass(frozen=True)
class Knobs:
    """A small settings class exercising every kind of metadata."""

    ratio: float = setting(0.5, "a share", min=0.0, max=1.0, step=0.05)
    count: int = setting(3, "how many", min=1)
    rate: float = setting(0.1, "a positive rate", gt=0.0, max=1.0)
    size: int = setting(64, "pixels", min=32, max=256, multiple_of=32)
    mode: str = setting("fast", "how", choices=("fast", "slow"))
    sizes: Tuple[int, ...] = setting((32, 64), "several sizes", min=32)
    flag: bool = setting(False, "a switch")
    name: str | None = setting(None, "optional text", cli_name="label", cli_short="-n")

    def __post_init__(self) -> None:
        check_settings(self, "knob")


def _parser(cls=Knobs, **kw) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="t", exit_on_error=False)
    add_options(p, cls, **kw)
    return p


# ---------------------------------------------------------------------------- validation from metadata
def test_validation_reads_the_bounds_and_names_every_problem():
    Knobs(ratio=0.0, rate=1.0, size=256, count=1, sizes=(32,))   # the bounds themselves pass
    with pytest.raises(ValueError) as err:
        Knobs(ratio=1.5, count=0, rate=0.0, size=100, mode="medium", sizes=(64, 16))
    msg = str(err.value)
    assert msg.startswith("invalid knob settings: ")
    for part in ("ratio must be between 0 and 1 (got 1.5)", "count must be >= 1 (got 0)",
                 "rate must be in (0, 1] (got 0)", "size must be a multiple of 32 in 32-256 (got 100)",
                 "mode must be 'fast' or 'slow' (got 'medium')", "sizes must be >= 32 (got 16)"):
        assert part in msg
    with pytest.raises(ValueError, match="ratio must be a number"):
        Knobs(ratio="high")
    assert bounds_text(dataclasses.fields(Knobs)[2].metadata) == "(0, 1]"


def test_setting_refuses_unknown_metadata_and_missing_help():
    with pytest.raises(TypeError, match="unknown setting metadata"):
        setting(1, "x", maximum=3)            # a typo would silently drop the bound
    with pytest.raises(TypeError, match="help"):
        setting(1)


@pytest.mark.parametrize("cls", SETTINGS, ids=lambda c: c.__name__)
def test_every_bound_in_the_metadata_is_enforced(cls):
    """Each settings class: every field has help text, and each bound or choice list in
    its metadata rejects a value just outside it (validation reads the metadata)."""
    base = cls(data="x") if cls in (EvalConfig,) else cls()
    checked = 0
    for f in dataclasses.fields(cls):
        meta = f.metadata
        assert meta.get("help"), f"{cls.__name__}.{f.name} has no help text"
        value = getattr(base, f.name)
        bad = []
        if "min" in meta:
            bad.append(meta["min"] - (1 if isinstance(meta["min"], int) else 0.01))
        if "max" in meta:
            bad.append(meta["max"] + 1)
        if "gt" in meta:
            bad.append(meta["gt"])
        if "choices" in meta:
            bad.append("no-such-choice")
        for b in bad:
            if isinstance(value, tuple):
                b = (b,) * max(1, len(value))
            with pytest.raises(ValueError, match=f.name):
                dataclasses.replace(base, **{f.name: b})
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("value", ["false", "abc", 0, 1.0])
def test_a_yes_no_setting_takes_only_a_boolean(value):
    """A raw API call may send the string "false": truthy, it would turn the mirror look on."""
    with pytest.raises(ValueError, match="mirror_words must be true or false"):
        DetectorConfig(mirror_words=value)
    assert DetectorConfig(mirror_words=False).mirror_words is False


def test_detector_defaults_and_params_are_the_shipped_ones():
    cfg = DetectorConfig()
    assert (cfg.thresh, cfg.box_thresh, cfg.unclip_ratio, cfg.lines_shift, cfg.limit_side, cfg.limit_type,
            cfg.max_candidates) == (0.35, 0.45, 1.4, 0.0, 1280, "max", 1000)
    # The keys every result JSON records (resuming compares them): unchanged by the metadata.
    assert (cfg.granularity, cfg.word_gap, cfg.word_gap_width, cfg.word_map_gap_width, cfg.zoom_words, cfg.zoom_margin,
            cfg.zoom_cjk, cfg.mirror_words, cfg.mirror_margin, cfg.words_max_lines, cfg.words_min_edges, cfg.cjk_guard) == \
        ("auto", 0.8, 0.3, 1.0, 1.75, 64, 1.25, False, 64, 15, 0.02, 0.7)
    assert list(cfg.params()) == ["thresh", "box_thresh", "unclip_ratio", "lines_shift", "max_candidates", "min_size",
                                  "score_mode", "box_type", "granularity", "word_gap", "word_gap_width", "word_map", "word_map_gap_width",
                                  "zoom_words", "zoom_margin", "zoom_cjk", "mirror_words", "mirror_margin", "words_max_lines", "words_min_edges", "cjk_guard", "limit_side", "limit_type", "min_short_ratio", "min_long_ratio",
                                  "max_upscale", "max_side"]
    with pytest.raises(ValueError, match="thresh must be between 0 and 1"):
        cfg.with_overrides(thresh=1.3)


# ---------------------------------------------------------------------------- DBPostProcess(DetectorConfig)
def _two_regions() -> Tuple[np.ndarray, ResizeInfo]:
    prob = np.zeros((120, 200), np.float32)
    prob[20:40, 20:120] = 0.9     # a confident line
    prob[70:90, 20:120] = 0.5     # a faint one
    return prob, ResizeInfo(120, 200, 120, 200, 120, 200)


def test_postprocess_takes_every_knob_from_a_detector_config():
    prob, info = _two_regions()
    assert len(DBPostProcess()(prob, info).quads) == 2                 # defaults: both lines
    strict = DetectorConfig(box_thresh=0.7)
    post = DBPostProcess(strict)
    assert post.config is strict and len(post(prob, info).quads) == 1  # box_thresh from the config
    assert len(DBPostProcess(DetectorConfig(thresh=0.6))(prob, info).quads) == 1
    grown = DBPostProcess(DetectorConfig(unclip_ratio=3.0))(prob, info).quads[0]
    plain = DBPostProcess(DetectorConfig())(prob, info).quads[0]
    assert np.ptp(grown[:, 1]) > np.ptp(plain[:, 1])                   # unclip_ratio from the config
    assert DBPostProcess(DetectorConfig(box_type="poly"))(prob, info).polygons
    assert not hasattr(DBPostProcess, "from_config")


# ---------------------------------------------------------------------------- the options helper
def test_options_are_generated_with_type_choices_and_defaults_in_help():
    p = _parser()
    flags = {s for a in p._actions for s in a.option_strings}
    assert {"--ratio", "--count", "--rate", "--size", "--mode", "--sizes", "--flag", "--no-flag",
            "--label", "-n"} <= flags
    text = p.format_help()
    assert "a share (0-1; default 0.5)" in text and "{fast,slow}" in text and "default fast" in text
    assert config_from_args(Knobs, p.parse_args([])) == Knobs()
    args = p.parse_args(["--ratio", "0.25", "--mode", "slow", "--sizes", "32,96", "-n", "x", "--flag"])
    assert config_from_args(Knobs, args) == Knobs(ratio=0.25, mode="slow", sizes=(32, 96), name="x", flag=True)


def test_only_options_the_user_typed_override_the_base():
    p = _parser()
    base = Knobs(ratio=0.9, count=7, flag=True)
    assert config_from_args(Knobs, p.parse_args(["--count", "2"]), base) == Knobs(ratio=0.9, count=2, flag=True)
    assert config_from_args(Knobs, p.parse_args(["--no-flag"]), base).flag is False


@pytest.mark.parametrize("argv, message", [
    (["--ratio", "1.5"], "argument --ratio: ratio must be between 0 and 1 (got 1.5)"),
    (["--count", "two"], "argument --count: count must be an integer (got 'two')"),
    (["--size", "100"], "argument --size: size must be a multiple of 32 in 32-256 (got 100)"),
    (["--rate", "0"], "argument --rate: rate must be in (0, 1] (got 0)"),
    (["--sizes", "64,8"], "argument --sizes: sizes must be >= 32 (got 8)"),
    (["--mode", "medium"], "argument --mode: mode must be 'fast' or 'slow' (got 'medium')"),
])
def test_bounds_are_rejected_while_parsing_with_a_clear_message(argv, message):
    with pytest.raises(argparse.ArgumentError) as err:
        _parser().parse_args(argv)
    assert message in str(err.value)


def test_nested_settings_get_their_own_options():
    p = _parser(TrainConfig)
    args = p.parse_args(["--data", "a", "--data", "b:2", "--init", "w.safetensors", "--input-size", "256",
                         "--loss-alpha", "2", "--augment-max-rotation", "5", "--augment-scale-range", "0.8", "2"])
    cfg = config_from_args(TrainConfig, args)
    assert cfg.data == ("a", "b:2") and cfg.init_weights == "w.safetensors"
    assert cfg.loss == LossConfig(alpha=2.0)
    assert cfg.augment == AugmentConfig(size=256, max_rotation=5.0, scale_range=(0.8, 2.0))
    base = TrainConfig(loss=LossConfig(beta=3.0))
    assert config_from_args(TrainConfig, p.parse_args(["--data", "a", "--loss-gamma", "2"]), base).loss == \
        LossConfig(beta=3.0, gamma=2.0)
    assert "--augment-size" not in p.format_help()              # one crop size: --input-size
    with pytest.raises(argparse.ArgumentError, match="loss-negative-ratio: negative_ratio must be > 0"):
        p.parse_args(["--data", "a", "--loss-negative-ratio", "0"])


def test_every_command_keeps_the_options_users_have_today():
    """The option names the README, the tests and the release scripts use."""
    parser = build_parser(COMMANDS)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    have = {name: {s for a in p._actions for s in a.option_strings} for name, p in sub.choices.items()}
    detector = {"--weights", "--backend", "--model", "--device", "--thresh", "--box-thresh", "--unclip-ratio",
                "--limit-side", "--limit-type", "--max-candidates", "--box-type"}
    expected = {
        "detect": detector | {"--output", "-o", "--overwrite", "--no-progress"},
        "evaluate": detector | {"--data", "--predictions", "--by-category", "--iou", "--output", "-o", "--no-progress"},
        "train": {"--data", "--workdir", "--epochs", "--batch-size", "--lr", "--optimizer", "--warmup-steps",
                  "--max-steps", "--input-size", "--init", "--resume", "--device", "--precision", "--freeze",
                  "--eval-every", "--workers", "--checkpoint-every", "--eval-limit", "--seed", "--threads"},
        "export": {"--height", "--width", "--dynamic", "--precision", "--weights", "--output", "-o", "--opset",
                   "--verify-images", "--calibration-images", "--calibration-method", "--int8-check",
                   "--keep-failed"},
        "bench": {"--images", "--max-images", "--synthetic", "--sizes", "--backends", "--onnx-precisions",
                  "--repeats", "--warmup", "--price-per-hour", "--currency", "--weights", "--device", "--soak",
                  "--soak-interval", "--in-process", "--output", "-o"},
    }
    for command, options in expected.items():
        assert options <= have[command], (command, options - have[command])
    args = parser.parse_args(["train", "--data", "d", "--optimizer", "adam", "--lr", "1e-3", "--warmup-steps", "100",
                              "--max-steps", "2200", "--input-size", "384", "--batch-size", "8", "--workers", "1",
                              "--checkpoint-every", "100", "--eval-limit", "100", "--workdir", "w", "--resume"])
    cfg = config_from_args(TrainConfig, args)
    assert (cfg.optimizer, cfg.lr, cfg.max_steps, cfg.input_size, cfg.resume, cfg.augment.size) == \
        ("adam", 1e-3, 2200, 384, True, 384)
    args = parser.parse_args(["bench", "--sizes", "640,960", "--backends", "Torch,onnx", "--in-process"])
    bench = config_from_args(BenchConfig, args, BenchConfig(isolate=not args.in_process))
    assert bench.sizes == (640, 960) and bench.backends == ("torch", "onnx") and bench.isolate is False


# ---------------------------------------------------------------------------- TrainConfig records
def _through_torch(record: dict) -> dict:
    buf = io.BytesIO()
    torch.save({"config": record}, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)["config"]


def test_train_config_round_trips_through_a_checkpoint_and_the_json_log():
    cfg = TrainConfig(data=("a", "b:2"), lr=0.01, input_size=256, init_weights="w.safetensors",
                      loss=LossConfig(alpha=2.0), augment=AugmentConfig(max_rotation=4.0, scale_range=(0.7, 2.0)))
    record = asdict(cfg)
    assert record["loss"]["alpha"] == 2.0 and record["augment"]["size"] == 256
    assert TrainConfig.from_dict(_through_torch(record)) == cfg
    assert TrainConfig.from_dict(json.loads(json.dumps(record))) == cfg     # lists back to tuples


def test_old_flat_checkpoint_configs_still_load():
    """What checkpoints held before loss and augmentation were nested (and a key since dropped)."""
    flat = {"data": ("d",), "workdir": "w", "epochs": 5, "batch_size": 8, "lr": 1e-3, "optimizer": "adam",
            "weight_decay": 1e-4, "warmup_steps": 100, "poly_power": 0.9, "max_steps": 2200, "input_size": 384,
            "init_weights": None, "resume": False, "device": "auto", "precision": "auto", "freeze": 0,
            "eval_every": 0, "workers": 1, "checkpoint_every": 100, "log_every": 10, "eval_every_epochs": 1,
            "eval_limit": 100, "seed": 0, "threads": 0, "retired_option": 1}
    cfg = TrainConfig.from_dict(_through_torch(flat))
    assert (cfg.lr, cfg.optimizer, cfg.max_steps, cfg.data) == (1e-3, "adam", 2200, ("d",))
    assert cfg.loss == LossConfig() and cfg.augment == AugmentConfig(size=384)


# ---------------------------------------------------------------------------- WebUI widgets
def test_webui_widgets_take_range_step_and_default_from_the_settings():
    import gradio as gr

    from app.web.tabs.common import checkbox, number, radio, slider

    with gr.Blocks():
        thresh = slider(DetectorConfig, "thresh", "T")
        limit = slider(DetectorConfig, "limit_side", "L")
        epochs = slider(TrainConfig, "epochs", "E")
        lr = number(TrainConfig, "lr", "LR")
        height = number(ExportConfig, "height", "H", bounded=False)
        precision = radio(ExportConfig, "precision", "P")
        dynamic = checkbox(ExportConfig, "dynamic", "D")
    assert (thresh.minimum, thresh.maximum, thresh.step, thresh.value) == (0.0, 1.0, 0.01, 0.35)
    assert (limit.minimum, limit.maximum, limit.step, limit.value) == (256, 2048, 32, 1280)   # ui_min/ui_max
    assert (epochs.minimum, epochs.maximum, epochs.value) == (1, 100, 5)
    assert (lr.minimum, lr.maximum, lr.value) == (1e-6, 1.0, 0.007)
    assert height.minimum is None and height.value == 800 and height.step == 32
    assert [c[1] for c in precision.choices] == ["fp32", "fp16", "int8"] and precision.value == "fp32"
    assert dynamic.value is False


def test_environment_variables_fill_unset_options_and_a_flag_wins(tmp_path):
    """serve's OCR_* variables come from each field's ``env`` metadata; a bad one is named."""
    from app.cli.serve import GROUPS
    from app.web.settings import LimitSettings, StorageSettings

    parser = build_parser(["serve"])
    env = {"OCR_QUEUE_SIZE": "8", "OCR_ALLOWED_ROOTS": f"{tmp_path}:{tmp_path}/x", "OCR_AUTH": "u:p:w"}
    limits = config_from_args(LimitSettings, parser.parse_args(["serve"]), environ=env)
    assert limits.queue_size == 8 and limits.batch_cap == LimitSettings().batch_cap
    assert config_from_args(LimitSettings, parser.parse_args(["serve", "--queue-size", "9"]), environ=env).queue_size == 9
    storage = config_from_args(StorageSettings, parser.parse_args(["serve"]), environ=env)
    assert storage.allowed_roots == (tmp_path.resolve(), (tmp_path / "x").resolve())
    assert config_from_args(StorageSettings, parser.parse_args(["serve", "--allowed-roots", ""]),
                            environ=env).allowed_roots == ()
    assert config_from_args(GROUPS[0], parser.parse_args(["serve"]), environ=env).auth == ("u", "p:w")
    with pytest.raises(ValueError, match="OCR_TIME_LIMIT: time_limit_s must be > 0"):
        config_from_args(LimitSettings, parser.parse_args(["serve"]), environ={"OCR_TIME_LIMIT": "0"})
    with pytest.raises(ValueError, match="OCR_PORT: port must be an integer"):
        config_from_args(GROUPS[0], parser.parse_args(["serve"]), environ={"OCR_PORT": "http"})
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "[OCR_QUEUE_SIZE]" in sub.choices["serve"].format_help()


def test_a_command_with_its_own_defaults_shows_and_uses_them():
    base = Knobs(count=9)
    p = _parser(base=base)
    assert "how many (>= 1; default 9)" in p.format_help()
    assert config_from_args(Knobs, p.parse_args([]), base) == base
