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


def test_a_word_map_is_grafted_onto_a_line_network_and_nothing_else_moves(random_weights, tmp_path):
    """scripts/add_word_map.py: every tensor but the word map's from the line file, the word
    map's from the word file; its line maps are the line file's; other shapes are refused."""
    spec = importlib.util.spec_from_file_location("add_word_map", SCRIPT.with_name("add_word_map.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    lines, _ = load_model(random_weights)
    torch.manual_seed(2)
    words = DBNet(replace(lines.config, word_head=True, word_neck=False)).eval()
    save_weights(words, tmp_path / "words.safetensors", {})
    out_path = tmp_path / "out.safetensors"
    script.main([str(out_path), str(random_weights), str(tmp_path / "words.safetensors")])
    out, meta = load_model(out_path)
    words, _ = load_model(tmp_path / "words.safetensors")
    assert out.config == words.config and meta["word_map_from"].startswith("words-")
    for name, tensor in out.state_dict().items():
        source = (words if name.startswith("word_head.") else lines).state_dict()[name]
        if tensor.is_floating_point():
            torch.testing.assert_close(tensor, source.half().float(), msg=name)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(out.eval()(x)[:, :1], lines.eval()(x), atol=2e-3, rtol=1e-2)
    with pytest.raises(SystemExit, match="no word map"):
        script.main([str(out_path), str(tmp_path / "words.safetensors"), str(random_weights)])
    other = DBNet(replace(lines.config, inner_channels=32, word_head=True, word_neck=False))
    save_weights(other, tmp_path / "other.safetensors", {})
    with pytest.raises(SystemExit, match="different networks"):
        script.main([str(out_path), str(random_weights), str(tmp_path / "other.safetensors")])
