"""Dataset reading, synthetic renders, loss decrease and exact resume."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from models.data.icdar import DatasetError, parse_gt_line, read_split, validate_dataset
from models.synth.render import render_sample
from models.synth.types import SynthConfig
from models.synth.writer import write_dataset


def test_synth_is_deterministic_and_read_back(tiny_set):
    a, b = render_sample(5, SynthConfig(seed=3)), render_sample(5, SynthConfig(seed=3))
    np.testing.assert_array_equal(a.image, b.image)
    samples = read_split(tiny_set, "train")
    assert len(samples) == 8
    s = render_sample(0, SynthConfig(seed=3, long_side=(320, 400)))
    kept = samples[0].regions
    assert len(kept) == len(s.items)
    for r, it in zip(kept, s.items):
        assert np.abs(r.points - it.quad).max() <= 0.5 + 1e-6     # integer rounding only
        assert r.ignore == it.ignore


def test_gt_line_parsing():
    r = parse_gt_line("\ufeff1,2,3,4,5,6,7,8,Hello, world", "x")
    assert r.text == "Hello, world" and r.points.shape == (4, 2) and not r.ignore
    assert parse_gt_line("1,2,3,4,5,6,7,8,###", "x").ignore
    assert parse_gt_line("1,2,3,4,5,6,7,8,9,10,11,12,curve", "x").points.shape == (6, 2)
    assert parse_gt_line("1,2,3,4,5,6,7,8,2024", "x").text == "2024"
    # amounts written with commas are the text of a quad, not extra polygon points
    r = parse_gt_line("1,2,3,4,5,6,7,8,90,655", "x")
    assert r.text == "90,655" and r.points.shape == (4, 2)
    assert parse_gt_line("1,2,3,4,5,6,7,8,12,345,678", "x").text == "12,345,678"


def test_format_gt_round_trips_texts_with_commas_and_quotes():
    from models.data.icdar import format_gt

    quad = np.array([[1, 2], [30, 2], [30, 12], [1, 12]], np.float32)
    texts = ["1,200,000 元", "90,655", 'say "hi", then', '"quoted"', "plain", "###"]
    lines = format_gt((quad, t) for t in texts).splitlines()
    for line, t in zip(lines, texts):
        r = parse_gt_line(line, "x")
        assert r.text == t and r.points.shape == (4, 2) and r.ignore is (t == "###")
    with pytest.raises(DatasetError, match="line 3"):
        parse_gt_line("1,2,3,oops", "gt_a.txt, line 3")


def test_malformed_datasets_are_explained(tmp_path, tiny_set):
    with pytest.raises(DatasetError, match="not found"):
        validate_dataset(tmp_path / "nope")
    (tmp_path / "a").mkdir()
    with pytest.raises(DatasetError, match="train_images"):
        validate_dataset(tmp_path / "a")
    (tmp_path / "a" / "train_images").mkdir()
    with pytest.raises(DatasetError, match="train_gts"):
        validate_dataset(tmp_path / "a")
    (tmp_path / "a" / "train_gts").mkdir()
    (tmp_path / "a" / "train_list.txt").write_text("x.jpg\n")
    with pytest.raises(DatasetError, match="line 1.*does not exist"):
        validate_dataset(tmp_path / "a")
    (tmp_path / "a" / "train_images" / "x.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(DatasetError, match="no ground truth"):
        validate_dataset(tmp_path / "a")
    (tmp_path / "a" / "train_gts" / "gt_x.txt").write_text("1,2,3,4,5,6,7,8,ok\n1,2,zz\n")
    with pytest.raises(DatasetError, match=r"gt_x.txt, line 2"):
        validate_dataset(tmp_path / "a")
    # The "image gt" list style.
    (tmp_path / "a" / "train_gts" / "gt_x.txt").write_text("1,2,3,4,5,6,7,8,ok\n")
    (tmp_path / "a" / "train_list.txt").write_text("train_images/x.jpg train_gts/gt_x.txt\n")
    assert validate_dataset(tmp_path / "a").splits == {"train": 1}


def _trainer(tiny_set, workdir, **kw):
    from models.train import TrainConfig, Trainer

    cfg = TrainConfig(data=str(tiny_set), workdir=str(workdir), batch_size=2, input_size=128,
                      optimizer="adam", lr=1e-3, workers=0, checkpoint_every=2, eval_limit=1, **kw)
    return Trainer(cfg)


def test_loss_decreases_on_a_tiny_set(tiny_set, tmp_path):
    torch.manual_seed(0)
    t = _trainer(tiny_set, tmp_path / "run", max_steps=1)
    batch = next(iter(torch.utils.data.DataLoader(t.dataset, batch_size=2, collate_fn=lambda b: {
        k: torch.stack([x[k] for x in b]) for k in b[0]})))
    losses = [t._train_step(batch)["loss"] for _ in range(12)]
    assert losses[-1] < losses[0] * 0.8, losses


def test_resume_restores_step_optimizer_and_lr(tiny_set, tmp_path):
    t = _trainer(tiny_set, tmp_path / "run", max_steps=4)
    res = t.fit()
    assert res.step == 4 and res.last_weights.is_file()
    log = [json.loads(l) for l in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert any(e["type"] == "eval" for e in log) and log[-1]["type"] == "done"
    t2 = _trainer(tiny_set, tmp_path / "run", max_steps=4, resume=True)
    assert t2.step == 4
    assert t2.optimizer.param_groups[0]["lr"] == pytest.approx(t.lr_at(4))
    s1, s2 = t.optimizer.state_dict()["state"], t2.optimizer.state_dict()["state"]
    assert s1.keys() == s2.keys()
    k = next(iter(s1))
    assert torch.equal(s1[k]["exp_avg"].cpu(), s2[k]["exp_avg"].cpu())
    for (n1, p1), (_, p2) in zip(t.model.state_dict().items(), t2.model.state_dict().items()):
        assert torch.equal(p1.cpu(), p2.cpu()), n1


def test_resume_mid_epoch_continues_with_the_unseen_batches(tiny_set, tmp_path, monkeypatch):
    """8 images, batch 2: 4 steps per epoch. Stopping after 1 step and resuming must train
    on exactly the batches an uninterrupted run sees next (dropped from the order, not
    loaded and skipped)."""
    from models.train import Trainer

    seen: list = []

    def record(self, batch):
        seen.append(round(float(batch["image"].double().sum()), 3))
        return {"loss": 0.0}

    monkeypatch.setattr(Trainer, "_train_step", record)
    monkeypatch.setattr(Trainer, "_evaluate_and_keep_best", lambda self: None)
    _trainer(tiny_set, tmp_path / "full", max_steps=6).fit()
    full, seen[:] = list(seen), []
    t1 = _trainer(tiny_set, tmp_path / "cut", max_steps=1)
    t1.fit()
    t2 = _trainer(tiny_set, tmp_path / "cut", max_steps=6, resume=True)
    assert t2.step == 1
    t2.fit()
    assert len(full) == 6 and seen == full


def test_batch_larger_than_the_training_set_is_explained(tiny_set, tmp_path):
    from models.train import TrainConfig, Trainer

    with pytest.raises(ValueError, match="fewer than the batch size"):
        Trainer(TrainConfig(data=str(tiny_set), workdir=str(tmp_path / "r"), batch_size=16, input_size=128))


def test_a_mix_of_sources_trains_by_weight_and_validates_per_source(tiny_set, tmp_path_factory, tmp_path):
    """Two sources (one with a held-out split from a mix file), frozen stem and layer1:
    validation reports each source, the split is written down, frozen weights stay put."""
    from models.train import TrainConfig, Trainer

    other = tmp_path_factory.mktemp("other")
    write_dataset(other, 6, SynthConfig(seed=9, long_side=(320, 400)), "train")
    mix = tmp_path / "mix.toml"
    mix.write_text(f'seed = 5\n[[source]]\nname = "held"\npath = "{other}"\nweight = 3\nholdout = 2\n')
    cfg = TrainConfig(data=(f"{tiny_set}:1", str(mix)), workdir=str(tmp_path / "run"), batch_size=2,
                      input_size=128, optimizer="adam", lr=1e-3, workers=0, max_steps=2, eval_every=1,
                      eval_limit=1, freeze=2)
    t = Trainer(cfg)
    assert len(t.train_samples) == 8 + 4 and len(t.test_samples) == 1 + 1
    assert t.weights[8:].sum() == pytest.approx(0.75)
    stem_before = {k: v.clone() for k, v in t.model.backbone.stem.state_dict().items()}
    t.fit()
    for k, v in t.model.backbone.stem.state_dict().items():
        assert torch.equal(v, stem_before[k]), k                 # weights and BN statistics frozen
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert [s["name"] for s in split["sources"]] == [tiny_set.name, "held"] and split["seed"] == 5
    assert len(split["sources"][1]["val_images"]) == 2
    evals = [json.loads(l) for l in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    evals = [e for e in evals if e["type"] == "eval"]
    assert evals and set(evals[-1]["per_source"]) == {tiny_set.name, "held"}


def test_run_records_its_settings_and_resumes_an_old_flat_checkpoint(tiny_set, tmp_path):
    """log.jsonl starts with asdict(TrainConfig) (loss and augmentation nested) and so does the
    checkpoint; a checkpoint written before they were nested (flat config) still resumes, and
    the log says which settings the resumed run changed."""
    from dataclasses import asdict

    from models.loss import LossConfig
    from models.train import TrainConfig

    t = _trainer(tiny_set, tmp_path / "run", max_steps=1, loss=LossConfig(alpha=4.0))
    assert t.loss_fn.cfg.alpha == 4.0 and t.dataset.aug.size == 128
    t.fit()
    log = [json.loads(l) for l in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert log[0]["type"] == "config" and log[0]["config"]["loss"]["alpha"] == 4.0
    assert TrainConfig.from_dict(log[0]["config"]) == t.cfg
    state = torch.load(t.checkpoint_path, weights_only=False)
    assert state["config"] == asdict(t.cfg)

    old = {k: v for k, v in state["config"].items() if k not in ("loss", "augment")}   # the old layout
    torch.save(dict(state, config=old), t.checkpoint_path)
    t2 = _trainer(tiny_set, tmp_path / "run", max_steps=2, resume=True)
    assert t2.step == 1 and t2.resumed_from.loss == LossConfig() and t2.resumed_from.lr == t.cfg.lr
    t2.fit()
    messages = [e.get("message", "") for e in t2.history if e["type"] == "log"]
    assert not any("changed since the checkpoint" in m for m in messages)   # same settings, old layout
    t3 = _trainer(tiny_set, tmp_path / "run", max_steps=3, resume=True, loss=LossConfig(alpha=4.0))
    t3.fit()
    messages = [e.get("message", "") for e in t3.history if e["type"] == "log"]
    assert any("changed since the checkpoint: loss.alpha 5.0 -> 4.0" in m for m in messages), messages


def test_run_reports_phases_from_the_start_and_logs_its_last_step(tiny_set, tmp_path):
    """#13.5: feedback before the first step, and 'Finished' never reads 'step 1 of 2'."""
    seen = []
    from models.train import TrainConfig, Trainer

    cfg = TrainConfig(data=str(tiny_set), workdir=str(tmp_path / "run"), batch_size=2, input_size=128,
                      optimizer="adam", lr=1e-3, workers=0, max_steps=3, log_every=10, eval_limit=1)
    Trainer(cfg, progress=seen.append).fit()
    phases = [e["phase"] for e in seen if e["type"] == "phase"]
    assert phases[:3] == ["data", "model", "train"] and "validate" in phases
    assert [e["type"] for e in seen[:2]] == ["config", "phase"]   # before any data is read
    plan = next(e for e in seen if e.get("phase") == "train")
    assert plan["total_steps"] == 3 and plan["val_images"] == 1 and plan["first_eval_step"] == 3
    assert [e["step"] for e in seen if e["type"] == "step"] == [1, 3]


def test_cancel_stops_inside_a_validation_pass(tiny_set, tmp_path):
    """A cancel during validation ends the run after the current image, not the whole pass."""
    import threading

    from models.train import TrainConfig, Trainer

    cancel = threading.Event()
    scored = []

    def progress(e):
        if e.get("phase") == "validate":
            cancel.set()

    cfg = TrainConfig(data=str(tiny_set), workdir=str(tmp_path / "run"), batch_size=2, input_size=128,
                      optimizer="adam", lr=1e-3, workers=0, max_steps=2, eval_every=1, eval_limit=2)
    t = Trainer(cfg, progress=progress, cancel=cancel)
    real = t.evaluate

    def counting_evaluate(*a, **kw):
        scored.append(1)
        return real(*a, **kw)

    t.evaluate = counting_evaluate
    result = t.fit()
    assert result.cancelled and result.step == 1 and scored == [1]
    assert not any(e["type"] == "eval" for e in result.history)
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


def test_a_lighter_network_keeps_the_backbone_of_its_init_and_learns_from_a_teacher(tiny_set, tmp_path, random_weights):
    """--fpn-channels 64 from a 256-wide file: the backbone is copied, the narrower neck and heads
    start new; --teacher adds a distillation term; the saved file describes the lighter network."""
    from models import TextDetector
    from models.weights import load_model

    init, _ = load_model(random_weights)
    t = _trainer(tiny_set, tmp_path / "run", max_steps=2, init_weights=str(random_weights), fpn_channels=64,
                 teacher=str(random_weights), teacher_weight=0.5, eval_every=100)
    assert t.model.config.inner_channels == 64 and t.model.neck.lateral[0].out_channels == 64
    own = t.model.state_dict()
    for name, tensor in init.state_dict().items():
        if name.startswith("backbone."):
            assert torch.equal(own[name].cpu(), tensor), name
    assert any("DBNet-R18-FPN64 instead of DBNet-R18" in n for n in t.notes) and any("distilling" in n for n in t.notes)
    assert all(not p.requires_grad for p in t.teacher.parameters())
    t.fit()
    steps = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    steps = [e for e in steps if e.get("type") == "step"]
    assert steps and all(e["distill"] > 0 for e in steps)
    light, meta = load_model(tmp_path / "run" / "last.safetensors")
    assert json.loads(meta["arch"])["inner_channels"] == 64
    res = TextDetector(weights=tmp_path / "run" / "last.safetensors", device="cpu", backend="torch").detect(
        np.full((96, 128, 3), 200, np.uint8))
    assert res.success


def test_a_shallower_network_keeps_the_blocks_of_its_init_that_it_shares(tiny_set, tmp_path, random_weights):
    """--depths 1,1,1,2 --fpn-channels 64 (the lighter CPU network): the stem and the first block
    of every stage (and layer4's second) are copied from --init; the result loads and detects."""
    from models import TextDetector
    from models.weights import load_model

    init, _ = load_model(random_weights)
    t = _trainer(tiny_set, tmp_path / "run", max_steps=1, init_weights=str(random_weights), fpn_channels=64,
                 depths="1,1,1,2", eval_every=100)
    cfg = t.model.config
    assert cfg.depths == (1, 1, 1, 2) and cfg.inner_channels == 64
    assert any("DBNet-R18[1,1,1,2]-FPN64 instead of DBNet-R18" in n for n in t.notes)
    own, src = t.model.state_dict(), init.state_dict()
    for name in ("backbone.stem.0.weight", "backbone.layer1.0.conv1.weight", "backbone.layer3.0.conv2.weight",
                 "backbone.layer4.1.conv2.weight"):
        assert torch.equal(own[name].cpu(), src[name]), name
    assert "backbone.layer1.1.conv1.weight" not in own and "backbone.layer1.1.conv1.weight" in src
    t.fit()
    light, meta = load_model(tmp_path / "run" / "last.safetensors")
    assert light.config == cfg and json.loads(meta["arch"])["depths"] == [1, 1, 1, 2]
    res = TextDetector(weights=tmp_path / "run" / "last.safetensors", device="cpu", backend="torch").detect(
        np.full((96, 128, 3), 200, np.uint8))
    assert res.success


def test_bad_depths_are_a_settings_error(tiny_set, tmp_path):
    from models.train import TrainConfig

    with pytest.raises(ValueError, match="depths: blocks per stage must be four numbers"):
        TrainConfig(data=str(tiny_set), workdir=str(tmp_path / "r"), depths="1,1,2")


def test_fpn_channels_must_split_into_four_levels(tiny_set, tmp_path):
    from models.train import TrainConfig

    with pytest.raises(ValueError, match="fpn_channels"):
        TrainConfig(data=str(tiny_set), workdir=str(tmp_path / "r"), fpn_channels=66)


@pytest.mark.parametrize("word_neck", [True, False])
def test_a_word_head_learns_on_frozen_features_and_leaves_the_lines_alone(tiny_set, tmp_path, random_weights,
                                                                         word_neck):
    """--word-head: the network gains a word map (with a neck of its own, or on the line
    neck's features) started as a copy of its line map; only the word map trains (every other
    tensor, BatchNorm statistics included, stays as in --init), the saved file describes it and
    the detector's backend hands over both maps."""
    from models import TextDetector
    from models.weights import load_model

    init, _ = load_model(random_weights)
    t = _trainer(tiny_set, tmp_path / "run", max_steps=2, init_weights=str(random_weights), word_head=True,
                 word_neck=word_neck, eval_every=100)
    assert t.model.config.word_head and t.model.config.word_neck == word_neck
    assert any("word map added" in n for n in t.notes)
    for name, tensor in init.prob_head.state_dict().items():
        assert torch.equal(t.model.word_head.state_dict()[name].cpu(), tensor), name
    if word_neck:
        for name, tensor in init.neck.state_dict().items():
            assert torch.equal(t.model.word_neck.state_dict()[name].cpu(), tensor), name
    else:
        assert t.model.word_neck is None
    t.fit()
    steps = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [e for e in steps if e.get("type") == "step"][-1]["word_prob"] > 0
    trained, meta = load_model(tmp_path / "run" / "last.safetensors")
    assert trained.config.word_head and json.loads(meta["arch"])["word_head"] is True
    assert json.loads(meta["arch"])["word_neck"] is word_neck
    own = trained.state_dict()
    for name, tensor in init.state_dict().items():   # fp16 on disk: equal to the half of --init
        assert torch.equal(own[name], tensor.half().float()), name
    assert any(not torch.equal(own[name], init.prob_head.state_dict()[name[len("word_head."):]].half().float())
               for name in own if name.startswith("word_head.") and own[name].is_floating_point())
    det = TextDetector(weights=tmp_path / "run" / "last.safetensors", device="cpu", backend="torch")
    assert det.backend.run(np.zeros((1, 3, 64, 96), np.float32)).shape == (1, 2, 64, 96)
    assert det.detect(np.full((96, 128, 3), 200, np.uint8)).success


def test_a_word_head_of_another_shape_starts_new_and_is_saved_with_its_shape(tiny_set, tmp_path, random_weights):
    """--word-head-width / --word-head-convs: a network whose word map is of another shape gets
    a new head of the asked shape (the rest of --init kept, the lines untouched); the saved file
    names the shape, loads back and serves both maps; asking for the shape it has changes nothing."""
    from models import TextDetector
    from models.weights import load_model

    _trainer(tiny_set, tmp_path / "first", max_steps=1, init_weights=str(random_weights), word_head=True,
             word_neck=False, eval_every=100).fit()
    first = tmp_path / "first" / "last.safetensors"
    init, _ = load_model(first)
    t = _trainer(tiny_set, tmp_path / "run", max_steps=2, init_weights=str(first), word_head=True,
                 word_head_width=32, word_head_convs=1, eval_every=100)
    assert (t.model.config.word_head_width, t.model.config.word_head_convs) == (32, 1)
    assert t.model.config.name.endswith("+wordmap32x1") and any("replaced by a new one" in n for n in t.notes)
    assert t.model.word_head.body[1][0].weight.shape == (32, 32, 3, 3)
    t.fit()
    trained, meta = load_model(tmp_path / "run" / "last.safetensors")
    arch = json.loads(meta["arch"])
    assert (arch["word_head_width"], arch["word_head_convs"]) == (32, 1)
    own = trained.state_dict()
    for name, tensor in init.state_dict().items():
        if not name.startswith("word_head."):
            assert torch.equal(own[name], tensor), name
    det = TextDetector(weights=tmp_path / "run" / "last.safetensors", device="cpu", backend="torch")
    assert det.backend.run(np.zeros((1, 3, 64, 96), np.float32)).shape == (1, 2, 64, 96)
    same = _trainer(tiny_set, tmp_path / "again", max_steps=1, init_weights=str(tmp_path / "run" / "last.safetensors"),
                    word_head=True, word_head_width=32, word_head_convs=1, eval_every=100)
    assert not any("replaced" in n for n in same.notes)
    for name, tensor in own.items():
        assert torch.equal(same.model.state_dict()[name].cpu(), tensor), name
    quarter = _trainer(tiny_set, tmp_path / "quarter", max_steps=1, init_weights=str(first), word_head=True,
                       word_head_width=init.config.inner_channels // 4, eval_every=100)   # its own width, named
    assert not any("replaced" in n for n in quarter.notes) and quarter.model.config == init.config
    added = _trainer(tiny_set, tmp_path / "added", max_steps=1, init_weights=str(random_weights), word_head=True,
                     word_head_convs=1, eval_every=100)   # no word map in --init: a new one of that shape
    assert any("started as new (its line map has another shape)" in n for n in added.notes)
    assert added.model.config.word_head_convs == 1


@pytest.mark.parametrize("extra", [{}, {"fpn_channels": 64}, {"depths": "1,1,1,2"}, {"teacher": "T"}])
def test_a_word_head_needs_the_features_of_a_trained_network(tiny_set, tmp_path, random_weights, extra):
    init = {} if not extra else {"init_weights": str(random_weights)}
    extra = {k: str(random_weights) if v == "T" else v for k, v in extra.items()}
    with pytest.raises(ValueError, match="--word-head trains a word map"):
        _trainer(tiny_set, tmp_path / "run", max_steps=1, word_head=True, **init, **extra)


def test_the_word_loss_counts_only_word_labelled_crops():
    """DBLoss.words(labelled=...) on a batch equals the loss on its word-labelled crops alone
    (hard negatives are mined among those crops only); a batch without one gives zero."""
    from models.loss import DBLoss

    torch.manual_seed(0)
    logits = torch.randn(3, 1, 32, 32, requires_grad=True)
    batch = {"shrink_map": (torch.rand(3, 32, 32) > 0.7).float(), "shrink_mask": torch.ones(3, 32, 32)}
    loss = DBLoss()
    picked = loss.words({"word_logits": logits}, batch, labelled=torch.tensor([True, False, True]))
    alone = loss.words({"word_logits": logits[[0, 2]]}, {k: v[[0, 2]] for k, v in batch.items()})
    assert torch.allclose(picked["loss"], alone["loss"])
    none = loss.words({"word_logits": logits}, batch, labelled=torch.zeros(3, dtype=torch.bool))
    assert none["loss"].item() == 0.0
    none["loss"].backward()                     # still part of the graph: a step can run on it
    assert float(logits.grad.abs().sum()) == 0.0


@pytest.mark.parametrize("word_neck", [True, False])
def test_word_joint_trains_the_whole_network_and_its_word_map_on_word_labels(tiny_set, tmp_path, random_weights,
                                                                             word_neck):
    """--word-joint: a word map is added as with --word-head, but every part learns; the word
    loss sees only the crops of sources marked granularity = "words", and validation scores
    the product's auto granularity."""
    from models.weights import load_model

    mix = tmp_path / "mix.toml"
    mix.write_text(f'[[source]]\nname = "scenes"\npath = "{tiny_set}"\ngranularity = "words"\n'
                   f'[[source]]\nname = "pages"\npath = "{tiny_set}"\n')
    init, _ = load_model(random_weights)
    t = _trainer(mix, tmp_path / "run", max_steps=2, init_weights=str(random_weights), word_joint=True,
                 word_neck=word_neck, eval_every=100)
    assert t.dataset.word_labelled == [True] * 8 + [False] * 8
    assert t.dataset[0]["word_labels"].item() and not t.dataset[8]["word_labels"].item()
    assert t._frozen_modules() == []
    t.fit()
    steps = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    last = [e for e in steps if e.get("type") == "step"][-1]
    assert {"prob", "thresh", "binary", "word_prob", "word_dice"} <= set(last)
    trained, _ = load_model(tmp_path / "run" / "last.safetensors")
    assert trained.config.word_head and trained.config.word_neck == word_neck
    own = trained.state_dict()
    for part in ("backbone.", "neck.", "prob_head."):    # nothing frozen: the lines' parts learn too
        assert any(not torch.equal(own[n], v.half().float()) for n, v in init.state_dict().items()
                   if n.startswith(part) and v.is_floating_point()), part
    assert any(not torch.equal(own[n], init.prob_head.state_dict()[n[len("word_head."):]].half().float())
               for n in own if n.startswith("word_head.") and own[n].is_floating_point())


def test_word_joint_needs_word_labelled_data_and_trained_weights(tiny_set, tmp_path, random_weights):
    with pytest.raises(ValueError, match="no source is marked"):
        _trainer(tiny_set, tmp_path / "a", max_steps=1, init_weights=str(random_weights), word_joint=True)
    mix = tmp_path / "mix.toml"
    mix.write_text(f'[[source]]\npath = "{tiny_set}"\ngranularity = "words"\n')
    with pytest.raises(ValueError, match="--word-joint fine-tunes a trained network"):
        _trainer(mix, tmp_path / "b", max_steps=1, word_joint=True)
    with pytest.raises(ValueError, match="choose one"):
        _trainer(mix, tmp_path / "c", max_steps=1, init_weights=str(random_weights), word_joint=True,
                 word_head=True)


def test_training_the_lines_of_a_word_map_network_leaves_the_stale_word_map_out(tiny_set, tmp_path, random_weights):
    """Without --word-head or --word-joint only the lines learn, and the features a word map
    reads move: the saved network has no word map (words come from the line map's gaps, as
    for a network without one) rather than a stale one that auto would serve to scene photos;
    every other tensor starts from --init. --word-joint keeps the map and trains it."""
    from models.weights import load_model

    words = _trainer(tiny_set, tmp_path / "words", max_steps=1, init_weights=str(random_weights), word_head=True,
                     eval_every=100)
    words.fit()
    init = tmp_path / "words" / "last.safetensors"
    before, _ = load_model(init)
    t = _trainer(tiny_set, tmp_path / "lines", max_steps=2, init_weights=str(init), eval_every=100)
    assert not t.model.config.word_head and any("word map" in n and "left out" in n for n in t.notes)
    for name, tensor in t.model.state_dict().items():
        torch.testing.assert_close(tensor, before.state_dict()[name], msg=name)
    t.fit()
    after, _ = load_model(tmp_path / "lines" / "last.safetensors")
    assert not after.config.word_head
    assert not any(n.startswith(("word_neck.", "word_head.")) for n in after.state_dict())
    mix = tmp_path / "mix.toml"
    mix.write_text(f'[[source]]\nname = "tiny"\npath = "{tiny_set}"\ngranularity = "words"\n')
    joint = _trainer(mix, tmp_path / "joint", max_steps=1, init_weights=str(init), word_joint=True, eval_every=100)
    assert joint.model.config.word_head


def test_asf_is_added_to_a_trained_network_as_a_near_pass_through(tiny_set, tmp_path, random_weights):
    """--asf: DBNet++'s adaptive scale fusion joins the network of --init (every other tensor
    kept); it starts with every scale weighted 0.98, so the maps barely move before training;
    it trains, saves, loads and exports with the architecture in the file."""
    from models.dbnet import DBNet
    from models.export.config import ExportConfig
    from models.export.exporter import export_onnx
    from models.weights import load_model

    init, _ = load_model(random_weights)
    t = _trainer(tiny_set, tmp_path / "run", max_steps=2, init_weights=str(random_weights), asf=True, eval_every=100)
    assert t.model.config.asf and t.model.config.name.endswith("+ASF")
    assert any("the rest start new" in n for n in t.notes)
    x = torch.rand(1, 3, 128, 160)
    fused = DBNet(t.model.config).eval()
    fused.load_state_dict(t.model.state_dict())
    with torch.no_grad():
        before, after = init.eval()(x), fused(x)
    assert torch.allclose(before, after, atol=0.05)
    t.fit()
    trained, meta = load_model(tmp_path / "run" / "last.safetensors")
    assert trained.config.asf and json.loads(meta["arch"])["asf"] is True
    assert any(n.startswith("asf.") for n in trained.state_dict())
    report = export_onnx(ExportConfig(weights=tmp_path / "run" / "last.safetensors", output=tmp_path / "asf.onnx",
                                      height=320, width=320, verify_images=3))
    assert report.path.exists()
    with pytest.raises(ValueError, match="--asf"):
        _trainer(tiny_set, tmp_path / "w", max_steps=1, init_weights=str(random_weights), asf=True, word_head=True)
