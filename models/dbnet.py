"""DBNet (Liao et al., "Real-time Scene Text Detection with Differentiable
Binarization", AAAI 2020): backbone -> FPN neck -> DB head, as in the paper's figure.

In training the head returns the probability map P, the threshold map T and the
approximate binary map B = sigmoid(k (P - T)); in eval mode only P is computed,
which is all that inference and the ONNX export need.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import RESNET18_DEPTHS, ResNet18


@dataclass(frozen=True)
class DBNetConfig:
    """Architecture knobs; stored with checkpoints so weights and code agree."""

    backbone: str = "resnet18"
    variant: str = "standard"       # ResNet stem: "standard" or "vd"
    inner_channels: int = 256       # FPN lateral width
    k: float = 50.0                 # amplifying factor of the approximate binarization
    depths: Tuple[int, ...] = RESNET18_DEPTHS  # residual blocks per backbone stage
    word_head: bool = False         # a second probability map, of words (models.granularity)
    word_neck: bool = True          # the word map on a neck of its own (else on the line neck's features)
    word_head_width: int = 0        # channels of the word map's head (0: a quarter of its input's, as the line map's)
    word_head_convs: int = 0        # extra 3x3 convolutions in the word map's head, at the neck's resolution
    asf: bool = False               # DBNet++ adaptive scale fusion on the line neck's output

    def __post_init__(self) -> None:
        # JSON metadata gives a list; a tuple keeps the config hashable and comparable.
        object.__setattr__(self, "depths", tuple(int(d) for d in self.depths))

    @property
    def name(self) -> str:
        """``DBNet-R18`` for the release's shape, else e.g. ``DBNet-R18[1,1,2,2]-FPN64``."""
        name = "DBNet-R18"
        if self.depths != RESNET18_DEPTHS:
            name += "[" + ",".join(map(str, self.depths)) + "]"
        if self.inner_channels != 256:
            name += f"-FPN{self.inner_channels}"
        if self.asf:
            name += "+ASF"
        if self.word_head:
            name += "+words" if self.word_neck else "+wordmap"
            if self.word_head_width or self.word_head_convs:   # e.g. +wordmap64x2: 64 channels, 2 more convs
                name += f"{self.word_head_width or self.inner_channels // 4}x{self.word_head_convs}"
        return name


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class FPNNeck(nn.Module):
    """Lateral 1x1 to ``inner`` channels, top-down sum, 3x3 to inner/4 per level,
    upsample everything to stride 4 and concatenate (``inner`` channels out)."""

    def __init__(self, in_channels: Sequence[int], inner: int = 256) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, inner, 1, bias=False) for c in in_channels)
        self.smooth = nn.ModuleList(
            nn.Conv2d(inner, inner // 4, 3, padding=1, bias=False) for _ in in_channels
        )
        self.out_channels = inner // 4 * len(in_channels)

    def forward(self, feats: List[torch.Tensor]) -> torch.Tensor:
        lat = [conv(f) for conv, f in zip(self.lateral, feats)]
        for i in range(len(lat) - 1, 0, -1):  # top-down pathway
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[-2:], mode="nearest")
        size = lat[0].shape[-2:]
        outs = []
        for i, (conv, f) in enumerate(zip(self.smooth, lat)):
            o = conv(f)
            if i > 0:
                o = F.interpolate(o, size=size, mode="nearest")
            outs.append(o)
        return torch.cat(outs[::-1], dim=1)


class AdaptiveScaleFusion(nn.Module):
    """DBNet++'s adaptive scale fusion (Liao et al., TPAMI 2022): a weight per pixel for each
    of the neck's ``levels`` concatenated scales, so that small text can lean on the fine
    levels and large text on the coarse ones, instead of the plain concatenation.

    conv3x3 to a quarter of the channels, plus a spatial attention (the channel mean ->
    conv3x3 -> ReLU -> conv1x1 -> sigmoid) broadcast over them, then conv1x1 -> sigmoid to one
    weight per level, each multiplying its level's channels. The weighting conv starts at zero
    with a bias of +4 (every weight 0.98): a network fine-tuned from FPN weights starts as it
    was and learns to depart from it."""

    def __init__(self, channels: int, levels: int = 4) -> None:
        super().__init__()
        if channels % levels:
            raise ValueError(f"{channels} channels do not split into {levels} levels")
        self.levels = levels
        self.conv = nn.Conv2d(channels, channels // 4, 3, padding=1, bias=False)
        self.spatial = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.ReLU(inplace=True),
                                     nn.Conv2d(1, 1, 1, bias=False), nn.Sigmoid())
        self.scale = nn.Conv2d(channels // 4, levels, 1)
        nn.init.zeros_(self.scale.weight)
        nn.init.constant_(self.scale.bias, 4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv(x)
        s = s + self.spatial(s.mean(dim=1, keepdim=True))
        weights = torch.sigmoid(self.scale(s))
        parts = x.chunk(self.levels, dim=1)
        return torch.cat([part * weights[:, i:i + 1] for i, part in enumerate(parts)], dim=1)


#: The word map's tensors in a state dict (its own neck, if it has one, and its map).
WORD_MAP_PARTS = ("word_neck.", "word_head.")


class MapHead(nn.Module):
    """conv3x3 -> BN-ReLU [-> conv3x3 -> BN-ReLU, ``convs`` times] -> deconv x2 -> BN-ReLU ->
    deconv x2 -> sigmoid: one full-resolution map. ``width``: the channels inside (default a
    quarter of ``in_ch``, the paper's head). Why a word map may have a larger one: to measure
    whether its head limits it (on street photos it did not: weights/TRAINING_LOG.md, "Why street
    photos stay near 0.50")."""

    def __init__(self, in_ch: int, bias_init: float = 0.0, width: int = 0, convs: int = 0) -> None:
        super().__init__()
        mid = width or in_ch // 4
        self.body = nn.Sequential(
            conv_bn_relu(in_ch, mid, 3),
            *(conv_bn_relu(mid, mid, 3) for _ in range(convs)),
            nn.ConvTranspose2d(mid, mid, 2, stride=2, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(mid, 1, 2, stride=2),
        )
        nn.init.constant_(self.body[-1].bias, bias_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits; the caller applies the sigmoid (in fp32 when training in bf16)."""
        return self.body(x)


class DBNet(nn.Module):
    """DBNet with a ResNet-18 backbone."""

    def __init__(self, config: DBNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or DBNetConfig()
        if self.config.backbone != "resnet18":
            raise ValueError(f"unsupported backbone {self.config.backbone!r}")
        self.backbone = ResNet18(self.config.variant, self.config.depths)
        self.neck = FPNNeck(self.backbone.out_channels, self.config.inner_channels)
        self.asf = AdaptiveScaleFusion(self.neck.out_channels) if self.config.asf else None
        # Text is rare: start the probability map near 0.01 so early training is not
        # dominated by a flood of false positives (focal-loss style prior).
        self.prob_head = MapHead(self.neck.out_channels, bias_init=-4.6)
        self.thresh_head = MapHead(self.neck.out_channels)
        # Words of a line, as scene text is read and labelled: a neck and a map of their own on
        # the shared backbone, trained on word-labelled sources only (``app train --word-head``),
        # so that the lines learned from documents stay exactly as they were. ``word_neck=False``
        # puts the map on the line neck's features: cheaper, and it learned less (weights/TRAINING_LOG.md).
        self.word_neck = (FPNNeck(self.backbone.out_channels, self.config.inner_channels)
                          if self.config.word_head and self.config.word_neck else None)
        self.word_head = (MapHead(self.neck.out_channels, bias_init=-4.6, width=self.config.word_head_width,
                                  convs=self.config.word_head_convs) if self.config.word_head else None)
        for m in [self.neck, self.prob_head, self.thresh_head]:
            for mod in m.modules():
                if isinstance(mod, nn.Conv2d):
                    nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")

    def without_word_map(self) -> "DBNet":
        """This network without its word map (itself when it has none): what training the lines
        alone must start from, since a word map reads features that such training moves."""
        if self.word_head is None:
            return self
        lines = DBNet(replace(self.config, word_head=False, word_neck=DBNetConfig.word_neck))
        lines.load_state_dict({k: v for k, v in self.state_dict().items() if not k.startswith(WORD_MAP_PARTS)})
        return lines

    def line_features(self, feats: List[torch.Tensor]) -> torch.Tensor:
        """What the line maps read: the neck's concatenated scales, fused by ASF when it has one."""
        feat = self.neck(feats)
        return self.asf(feat) if self.asf is not None else feat

    def forward(self, images: torch.Tensor) -> torch.Tensor | Dict[str, torch.Tensor]:
        if not self.training:
            return torch.sigmoid(self.map_logits(images))
        feat = self.line_features(self.backbone(images))
        # The word map is not run here: training the lines must leave it (BatchNorm statistics
        # included) as it is; training the word map runs :meth:`train_word_logits` instead, and
        # training both :meth:`train_with_words`.
        return self._train_maps(feat, self.prob_head(feat))

    def map_logits(self, images: torch.Tensor) -> torch.Tensor:
        """The logits of the maps inference reads (eval mode): (N, 1, H, W), or (N, 2, H, W) for
        a network with a word map (channel 0 lines, channel 1 words)."""
        lines, word_inputs = self.line_logits_and_word_inputs(images)
        if self.word_head is None:
            return lines
        return torch.cat([lines, self.word_logits_from(word_inputs)], dim=1)

    def line_logits_and_word_inputs(self, images: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The line map's logits (N, 1, H, W) and what the word map reads (the backbone's
        features for a word neck of its own, else the line neck's output; empty without a word
        map). Why apart: the word map is only wanted for images ``auto`` gives words, so
        inference runs it later, for those alone (:meth:`word_logits_from`)."""
        feats = self.backbone(images)
        feat = self.line_features(feats)
        return self.prob_head(feat), (self._word_inputs(feats, feat) if self.word_head is not None else [])

    def _word_inputs(self, feats: List[torch.Tensor], feat: torch.Tensor | None = None) -> List[torch.Tensor]:
        """What the word map reads: the backbone's features ``feats`` for a word neck of its own,
        else the line neck's output ``feat`` (computed here when not given)."""
        if self.word_neck is not None:
            return list(feats)
        return [feat if feat is not None else self.line_features(feats)]

    def word_logits_from(self, word_inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """The word map's logits from :meth:`line_logits_and_word_inputs`'s second output."""
        if self.word_head is None:
            raise ValueError("this network has no word map")
        if self.word_neck is not None:
            return self.word_head(self.word_neck(list(word_inputs)))
        return self.word_head(word_inputs[0])

    def _train_maps(self, feat: torch.Tensor, prob_logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The line maps a training step scores: P (and its logits), T and the approximate B."""
        # Maps are formed in fp32: under bf16 autocast, k * (P - T) with k = 50 would
        # amplify bf16 rounding of P and T into visible noise on B.
        prob_logits = prob_logits.float()
        prob = torch.sigmoid(prob_logits)
        thresh = torch.sigmoid(self.thresh_head(feat).float())
        binary = torch.sigmoid(self.config.k * (prob - thresh))
        return {"prob": prob, "prob_logits": prob_logits, "thresh": thresh, "binary": binary}

    def train_with_words(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The line maps of a training step plus the word map's logits (``word_logits``, fp32),
        from one pass through the backbone: what training the whole network with its word map
        needs (``app train --word-joint``)."""
        if self.word_head is None:
            raise ValueError("this network has no word map")
        feats = self.backbone(images)
        feat = self.line_features(feats)
        out = self._train_maps(feat, self.prob_head(feat))
        out["word_logits"] = self.word_logits_from(self._word_inputs(feats, feat)).float()
        return out

    def train_word_logits(self, images: torch.Tensor) -> torch.Tensor:
        """The word map's logits alone, in fp32: what a word-map training step needs (the line
        maps, frozen then, are not computed)."""
        return self.word_logits_from(self._word_inputs(self.backbone(images))).float()
