"""scripts/average_weights.py: the mean of several files of one network, word maps dropped on request."""
from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models.dbnet import DBNet
from models.weights import load_model, save_weights

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "average_weights.py"


def _script():
    spec = importlib.util.spec_from_file_location("average_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_word_map_network_averages_with_a_line_network_once_its_word_map_is_dropped(random_weights, tmp_path):
    script = _script()
    lines, _ = load_model(random_weights)
    torch.manual_seed(1)
    words = DBNet(replace(lines.config, word_head=True, word_neck=False)).eval()
    save_weights(words, tmp_path / "words.safetensors", {})
    with pytest.raises(SystemExit, match="--lines-only drops word maps first"):
        script.main([str(tmp_path / "out.safetensors"), str(random_weights), str(tmp_path / "words.safetensors")])
    script.main(["--lines-only", str(tmp_path / "out.safetensors"), str(random_weights),
                 str(tmp_path / "words.safetensors")])
    out, _ = load_model(tmp_path / "out.safetensors")
    assert not out.config.word_head
    words_fp16, _ = load_model(tmp_path / "words.safetensors")   # what was saved (float16 on disk)
    for name, tensor in out.state_dict().items():
        if tensor.is_floating_point():
            mean = (lines.state_dict()[name].half().float() + words_fp16.state_dict()[name]) / 2
            torch.testing.assert_close(tensor, mean.half().float(), atol=1e-3, rtol=1e-3, msg=name)
