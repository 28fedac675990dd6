"""Exact rewrites of the network for export: the same function, kernels CPUs run faster.

The probability head upsamples with ``ConvTranspose2d(64, 64, 2, stride=2)``, BatchNorm and
ReLU. A transposed convolution whose kernel equals its stride has no overlapping outputs,
so it is a 1x1 convolution to ``4 x 64`` channels followed by a pixel shuffle
(``DepthToSpace``): output pixel ``(2i + a, 2j + b)`` of channel ``o`` is input channel
``4o + 2a + b`` at ``(i, j)``. The BatchNorm folds into that convolution (each output
channel's scale repeated four times) and the ReLU moves before the shuffle (it is
elementwise). Why: ONNX Runtime's CPU provider has no integer transposed convolution, so
the int8 model ran this layer, 3.9 GMACs at a 1280 x 736 input, in float between a
dequantize and a quantize; as a 1x1 convolution it runs on the int8 kernels, fused with
its ReLU. Weights and training are untouched: only the exported graph changes.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


class ShuffleUpsample(nn.Module):
    """``ConvTranspose2d(k=2, s=2)`` -> ``BatchNorm2d`` -> ``ReLU`` as conv 1x1 -> ReLU -> pixel shuffle."""

    def __init__(self, deconv: nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        if deconv.kernel_size != (2, 2) or deconv.stride != (2, 2) or deconv.padding != (0, 0) \
                or deconv.output_padding != (0, 0) or deconv.groups != 1 or deconv.dilation != (1, 1):
            raise ValueError("only a 2x2 stride-2 transposed convolution without padding is a pixel shuffle")
        cin, cout = deconv.in_channels, deconv.out_channels
        w = deconv.weight.detach().float()                       # (cin, cout, 2, 2)
        bias = deconv.bias.detach().float() if deconv.bias is not None else torch.zeros(cout)
        scale = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
        shift = bn.bias.detach().float() - bn.running_mean.float() * scale + bias * scale
        # channel 4o + 2a + b of the 1x1 convolution is output o at offset (a, b)
        weight = w.permute(1, 2, 3, 0).reshape(cout * 4, cin, 1, 1) * scale.repeat_interleave(4)[:, None, None, None]
        self.conv = nn.Conv2d(cin, cout * 4, 1)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(shift.repeat_interleave(4))
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(torch.relu(self.conv(x)))


def for_export(net: nn.Module) -> nn.Module:
    """An eval-mode copy of ``net`` whose probability head upsamples by pixel shuffle (same outputs)."""
    out = copy.deepcopy(net).float().eval()
    body = out.prob_head.body
    deconv, bn, relu = body[1], body[2], body[3]
    if isinstance(deconv, nn.ConvTranspose2d) and isinstance(bn, nn.BatchNorm2d) and isinstance(relu, nn.ReLU):
        out.prob_head.body = nn.Sequential(body[0], ShuffleUpsample(deconv, bn), *list(body)[4:])
    return out
