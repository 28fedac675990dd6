"""The network itself (as docTR tests its DBNet): output shapes per input size, the training
outputs, the backbone's strides, and DBLoss on maps whose right answer is known.
The ONNX round trip is in test_export.py. Small inputs keep this file fast."""
from __future__ import annotations

import pytest
import torch

from models.backbone import ResNet18, parse_depths
from models.dbnet import DBNet, DBNetConfig
from models.loss import DBLoss

SIZES = [(64, 64), (96, 128), (128, 96)]


@pytest.fixture(scope="module")
def net() -> DBNet:
    torch.manual_seed(0)
    return DBNet()


@pytest.mark.parametrize("h, w", SIZES)
def test_eval_output_is_one_probability_map_at_input_size(net, h, w):
    net.eval()
    with torch.inference_mode():
        prob = net(torch.randn(2, 3, h, w))
    assert isinstance(prob, torch.Tensor)
    assert prob.shape == (2, 1, h, w) and prob.dtype == torch.float32
    assert float(prob.min()) >= 0.0 and float(prob.max()) <= 1.0


@pytest.mark.parametrize("h, w", SIZES[:2])
def test_training_output_dict(net, h, w):
    net.train()
    out = {k: v.detach() for k, v in net(torch.randn(2, 3, h, w)).items()}
    assert set(out) == {"prob", "prob_logits", "thresh", "binary"}
    for key, value in out.items():
        assert value.shape == (2, 1, h, w), key
        assert value.dtype == torch.float32, key
    for key in ("prob", "thresh", "binary"):
        assert float(out[key].min()) >= 0.0 and float(out[key].max()) <= 1.0, key
    assert torch.allclose(out["prob"], torch.sigmoid(out["prob_logits"]))
    # B = sigmoid(k (P - T)), the differentiable binarization
    k = net.config.k
    assert torch.allclose(out["binary"], torch.sigmoid(k * (out["prob"] - out["thresh"])), atol=1e-6)
    net.eval()


def test_untrained_map_starts_near_the_text_prior(net):
    """The probability head's bias starts the map near 0.01 (text is rare)."""
    net.eval()
    with torch.inference_mode():
        prob = net(torch.zeros(1, 3, 64, 64))
    assert 0.001 < float(prob.mean()) < 0.1


@pytest.mark.parametrize("variant", ["standard", "vd"])
def test_backbone_strides_and_channels(variant):
    feats = ResNet18(variant).eval()(torch.randn(1, 3, 96, 128))
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 24, 32), (128, 12, 16), (256, 6, 8), (512, 3, 4)]


def test_shallower_backbone_keeps_strides_and_channels_with_fewer_blocks():
    """depths (1, 1, 1, 2): the lighter CPU network; same four outputs, one block in the first three stages."""
    bb = ResNet18(depths=(1, 1, 1, 2)).eval()
    assert [len(s) for s in (bb.layer1, bb.layer2, bb.layer3, bb.layer4)] == [1, 1, 1, 2]
    feats = bb(torch.randn(1, 3, 96, 128))
    assert [tuple(f.shape[1:]) for f in feats] == [(64, 24, 32), (128, 12, 16), (256, 6, 8), (512, 3, 4)]
    full = sum(p.numel() for p in ResNet18().parameters())
    assert sum(p.numel() for p in bb.parameters()) < full


@pytest.mark.parametrize("text, depths", [("1,1,1,2", (1, 1, 1, 2)), ("1112", (1, 1, 1, 2)),
                                          (" 2, 2, 2, 2 ", (2, 2, 2, 2)), ("1 2 3 4", (1, 2, 3, 4))])
def test_depths_are_read_from_the_forms_users_type(text, depths):
    assert parse_depths(text) == depths


@pytest.mark.parametrize("text", ["", "1,1,2", "1,1,1,1,1", "0,1,1,1", "1,1,1,5", "a,b,c,d", "11112"])
def test_bad_depths_are_refused_with_the_expected_form(text):
    with pytest.raises(ValueError, match="like 1,1,1,2"):
        parse_depths(text)


def test_config_names_the_network_and_survives_json():
    """Weights files store the config as JSON: depths come back as a list and must compare equal."""
    import json
    from dataclasses import asdict

    light = DBNetConfig(inner_channels=64, depths=(1, 1, 1, 2))
    assert DBNetConfig().name == "DBNet-R18" and light.name == "DBNet-R18[1,1,1,2]-FPN64"
    assert DBNetConfig(**json.loads(json.dumps(asdict(light)))) == light


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError):
        DBNet(DBNetConfig(backbone="resnet50"))
    with pytest.raises(ValueError):
        ResNet18("wide")
    with pytest.raises(ValueError, match="depths"):
        DBNet(DBNetConfig(depths=(2, 2, 2)))


def test_gradients_reach_the_first_layer(net):
    net.train()
    x = torch.randn(1, 3, 64, 64)
    batch = _targets(1, 64, 64)
    loss = DBLoss()(net(x), batch)["loss"]
    loss.backward()
    first = next(p for p in net.backbone.parameters() if p.requires_grad)
    assert first.grad is not None and float(first.grad.abs().sum()) > 0
    net.zero_grad()
    net.eval()


# ---------------------------------------------------------------------------- DBLoss
def _targets(n: int, h: int, w: int):
    """One text rectangle: shrink map 1 inside, threshold map rising towards its border."""
    shrink = torch.zeros(n, h, w)
    shrink[:, h // 4: h // 2, w // 8: w - w // 8] = 1.0
    thresh_map = torch.full((n, h, w), 0.3)
    thresh_map[:, h // 4 - 2: h // 2 + 2, w // 8 - 2: w - w // 8 + 2] = 0.7
    thresh_mask = torch.zeros(n, h, w)
    thresh_mask[:, h // 4 - 4: h // 2 + 4, w // 8 - 4: w - w // 8 + 4] = 1.0
    return {"shrink_map": shrink, "shrink_mask": torch.ones(n, h, w),
            "thresh_map": thresh_map, "thresh_mask": thresh_mask}


def _prediction(prob_target: torch.Tensor, thresh: torch.Tensor, binary: torch.Tensor):
    logits = (prob_target * 2 - 1) * 12.0     # confident: sigmoid(+-12)
    return {"prob_logits": logits[:, None], "prob": torch.sigmoid(logits)[:, None],
            "thresh": thresh[:, None], "binary": binary[:, None]}


def test_perfect_prediction_costs_less_than_inverted():
    batch = _targets(2, 32, 48)
    gt = batch["shrink_map"]
    loss = DBLoss()
    perfect = loss(_prediction(gt, batch["thresh_map"], gt), batch)
    inverted = loss(_prediction(1 - gt, 1 - batch["thresh_map"], 1 - gt), batch)
    for key in ("loss", "prob", "thresh", "binary"):
        assert float(perfect[key]) < float(inverted[key]), key
    assert float(perfect["loss"]) < 1e-3                # every term near zero
    assert float(perfect["thresh"]) == 0.0 and float(perfect["binary"]) < 1e-6


def test_loss_weights_combine_the_terms():
    batch = _targets(1, 32, 48)
    gt = batch["shrink_map"]
    noisy = _prediction(gt * 0.6 + 0.2, torch.full_like(gt, 0.5), gt * 0.8)
    out = DBLoss()(noisy, batch)
    c = DBLoss().cfg
    expected = c.alpha * out["prob"] + c.beta * out["thresh"] + c.gamma * out["binary"]
    assert torch.allclose(out["loss"], expected)


def test_masked_out_pixels_do_not_count():
    batch = _targets(1, 32, 48)
    gt = batch["shrink_map"]
    batch["shrink_mask"][:, :, :8] = 0.0                # a don't-care strip on the left
    batch["thresh_mask"][:, :, :8] = 0.0
    good = _prediction(gt, batch["thresh_map"], gt)
    bad_there = _prediction(gt, batch["thresh_map"], gt)
    for key in ("prob_logits", "prob", "thresh", "binary"):
        bad_there[key] = bad_there[key].clone()
    bad_there["prob_logits"][..., :8] = 12.0
    bad_there["prob"][..., :8] = 1.0
    bad_there["thresh"][..., :8] = 0.0
    bad_there["binary"][..., :8] = 1.0
    a, b = DBLoss()(good, batch), DBLoss()(bad_there, batch)
    for key in ("loss", "prob", "thresh", "binary"):
        assert torch.allclose(a[key], b[key]), key
