"""ResNet-18 (and its shallower cuts) in plain ``torch.nn``.

torchvision does not import with the CPU torch build our machines use, so the
backbone is written out here. It returns the four stage outputs (strides 4, 8,
16, 32) that the FPN neck consumes.

``depths`` sets the residual blocks per stage: ``(2, 2, 2, 2)`` is ResNet-18; fewer
blocks (e.g. ``(1, 1, 1, 2)``) make a lighter network for CPUs. The blocks such a cut
keeps have ResNet-18's names and shapes, so a trained ResNet-18 seeds it
(``models.weights.transplant``).

Two stems are offered:

* ``"standard"``: the original 7x7 stride-2 conv + max-pool (He et al. 2016).
* ``"vd"``: ResNet-D (He et al., "Bag of Tricks", 2019): three 3x3 convs in the
  stem and an average-pool before the 1x1 projection in down-sampling shortcuts,
  which keeps the information that a strided 1x1 conv throws away.

The default is ``"standard"``: it is what the seed model uses and it is the
cheaper of the two on CPU; ``"vd"`` stays available for experiments.
"""
from __future__ import annotations

from typing import List, Sequence

import torch
from torch import nn


def conv3x3(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection (ResNet-18/34 block)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, variant: str = "standard") -> None:
        super().__init__()
        self.conv1 = conv3x3(in_ch, out_ch, stride)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = conv3x3(out_ch, out_ch)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_ch != out_ch:
            if variant == "vd" and stride != 1:
                self.downsample = nn.Sequential(
                    nn.AvgPool2d(stride, stride, ceil_mode=True),
                    nn.Conv2d(in_ch, out_ch, 1, bias=False),
                    nn.BatchNorm2d(out_ch),
                )
            else:
                self.downsample = nn.Sequential(
                    nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(out_ch),
                )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


RESNET18_DEPTHS = (2, 2, 2, 2)


DEPTHS_FORM = "four numbers from 1 to 4 like 1,1,1,2"


def check_depths(depths: Sequence[int]) -> tuple[int, ...]:
    """Blocks per stage as a tuple, each 1 to 4 (ValueError otherwise)."""
    depths = tuple(depths)
    if len(depths) != 4 or not all(isinstance(d, int) and 1 <= d <= 4 for d in depths):
        raise ValueError(f"blocks per stage (depths) must be {DEPTHS_FORM} (got {depths})")
    return depths


def parse_depths(text: str) -> tuple[int, ...]:
    """``"1,1,1,2"`` or ``"1112"`` -> (1, 1, 1, 2): blocks per stage, each 1 to 4.

    Raises:
        ValueError: anything else, with the expected form in the message.
    """
    digits = str(text).replace(",", " ").split()
    if len(digits) == 1 and len(digits[0]) == 4:
        digits = list(digits[0])
    if not all(d.isdigit() for d in digits):
        raise ValueError(f"blocks per stage must be {DEPTHS_FORM} (got {text!r})")
    try:
        return check_depths([int(d) for d in digits])
    except ValueError:
        raise ValueError(f"blocks per stage must be {DEPTHS_FORM} (got {text!r})") from None


class ResNet18(nn.Module):
    """ResNet-18 feature extractor returning [C2, C3, C4, C5] (64/128/256/512 ch);
    ``depths`` other than (2, 2, 2, 2) give its shallower cuts."""

    out_channels = (64, 128, 256, 512)

    def __init__(self, variant: str = "standard", depths: Sequence[int] = RESNET18_DEPTHS) -> None:
        super().__init__()
        if variant not in ("standard", "vd"):
            raise ValueError(f"unknown ResNet variant {variant!r}; use 'standard' or 'vd'")
        depths = check_depths(tuple(int(d) for d in depths))
        self.variant = variant
        self.depths = depths
        if variant == "vd":
            self.stem = nn.Sequential(
                conv3x3(3, 32, 2), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
                conv3x3(32, 32), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
                conv3x3(32, 64), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
        stages = []
        in_ch = 64
        for i, (ch, depth) in enumerate(zip(self.out_channels, depths)):
            stride = 1 if i == 0 else 2
            blocks = [BasicBlock(in_ch, ch, stride, variant)]
            blocks += [BasicBlock(ch, ch, 1, variant) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            in_ch = ch
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last BN of each residual branch: every block starts as identity,
        # which makes training from scratch (we have no ImageNet weights) markedly stabler.
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.stem(x)
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return [c2, c3, c4, c5]
