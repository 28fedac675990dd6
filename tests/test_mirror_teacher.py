"""Distilling the mirror look into one look (``app train --teacher W --teacher-mirror``): the
teacher's maps are the mean of the crop's and the mirrored crop's, its word map teaches the
student's word map on word-labelled crops only."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F


def _words_mix(tmp_path, tiny_set):
    mix = tmp_path / "mix.toml"
    mix.write_text(f'[[source]]\nname = "scenes"\npath = "{tiny_set}"\ngranularity = "words"\n')
    return mix


def _trainer(mix, workdir, **kw):
    from models.train import TrainConfig, Trainer

    cfg = TrainConfig(data=str(mix), workdir=str(workdir), batch_size=2, input_size=128, optimizer="adam",
                      lr=1e-3, workers=0, checkpoint_every=2, eval_limit=1, eval_every=100, **kw)
    return Trainer(cfg)


@pytest.fixture(scope="module")
def word_weights(tmp_path_factory, tiny_set, random_weights):
    """A network with a word map (one --word-joint step from the random weights)."""
    tmp = tmp_path_factory.mktemp("wordnet")
    t = _trainer(_words_mix(tmp, tiny_set), tmp / "run", max_steps=1, init_weights=str(random_weights),
                 word_joint=True)
    t.fit()
    return tmp / "run" / "last.safetensors"


def test_the_mirrored_teacher_reads_the_mean_of_the_crop_and_its_mirror_image(tmp_path, tiny_set, word_weights):
    t = _trainer(_words_mix(tmp_path, tiny_set), tmp_path / "run", max_steps=1, init_weights=str(word_weights),
                 word_joint=True, teacher=str(word_weights), teacher_mirror=True)
    assert any("line and word maps" in n and "mirror image" in n for n in t.notes)
    images = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        once = t.teacher(images)
        mirrored = t.teacher(images.flip(-1)).flip(-1)
    maps = t._teacher_maps(images)
    assert maps.shape == (2, 2, 64, 96)   # lines and words
    torch.testing.assert_close(maps, (once + mirrored) / 2)
    assert not torch.allclose(maps, once, atol=1e-4)   # the mirror image does count
    plain = _trainer(_words_mix(tmp_path, tiny_set), tmp_path / "run2", max_steps=1,
                     init_weights=str(word_weights), word_joint=True, teacher=str(word_weights))
    torch.testing.assert_close(plain._teacher_maps(images), once)


def test_the_word_map_learns_the_teacher_on_word_labelled_crops_only():
    from models.train import Trainer

    logits = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    target = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    labelled = torch.tensor([True, False, True])
    loss = Trainer._word_distillation(logits, target, labelled)
    expected = F.binary_cross_entropy_with_logits(logits[[0, 2]], target[[0, 2]])
    torch.testing.assert_close(loss, expected)
    other = logits.clone()
    other[1] += 5.0   # the document crop's word map is not taught
    torch.testing.assert_close(Trainer._word_distillation(other, target, labelled), loss)
    assert float(Trainer._word_distillation(logits, target, torch.zeros(3, dtype=torch.bool))) == 0.0


def test_word_joint_training_distils_both_maps_from_a_mirrored_word_map_teacher(tmp_path, tiny_set, word_weights):
    t = _trainer(_words_mix(tmp_path, tiny_set), tmp_path / "run", max_steps=2, init_weights=str(word_weights),
                 word_joint=True, teacher=str(word_weights), teacher_mirror=True, teacher_weight=2.0)
    t.fit()
    steps = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    steps = [e for e in steps if e.get("type") == "step"]
    assert steps and all(e["distill"] > 0 and e["word_distill"] > 0 for e in steps)


def test_the_command_line_offers_the_mirrored_teacher():
    from app.cli import build_parser
    from app.cli.options import config_from_args
    from models.train import TrainConfig

    args = build_parser(["train"]).parse_args(["train", "--data", "d", "--teacher", "w.safetensors",
                                               "--teacher-mirror"])
    cfg = config_from_args(TrainConfig, args)
    assert cfg.teacher_mirror is True and cfg.teacher == "w.safetensors"
    assert config_from_args(TrainConfig, build_parser(["train"]).parse_args(["train", "--data", "d"])).teacher_mirror \
        is False
    with pytest.raises(ValueError, match="--teacher-mirror needs --teacher"):
        TrainConfig(data="d", teacher_mirror=True)
