"""DB loss: L = alpha * L_prob + beta * L_thresh + L_binary (alpha 5, beta 10 by default;
the paper's weights are 1 / 10 / 1 with alpha applied by most reference code as 5).

* L_prob: balanced BCE with hard-negative mining, at most 3 negatives per positive.
* L_thresh: L1 inside the dilated text polygons.
* L_binary: dice on the approximate binary map.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

import torch
import torch.nn.functional as F

from .settings import check_settings, setting


@dataclass(frozen=True)
class LossConfig:
    """The DB loss weights; a checkpoint records them (``TrainConfig.loss``)."""

    alpha: float = setting(5.0, "weight of the probability map loss (balanced BCE)", min=0.0)
    beta: float = setting(10.0, "weight of the threshold map loss (L1)", min=0.0)
    gamma: float = setting(1.0, "weight of the approximate binary map loss (dice)", min=0.0)
    negative_ratio: float = setting(3.0, "hard negatives kept per positive pixel (OHEM)", gt=0.0)
    eps: float = setting(1e-6, "added to denominators", gt=0.0)

    def __post_init__(self) -> None:
        check_settings(self, "loss")


def balanced_bce(logits: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor, negative_ratio: float,
                 eps: float) -> torch.Tensor:
    positive = (gt * mask) > 0.5
    negative = ((1 - gt) * mask) > 0.5
    pos_count = int(positive.sum())
    neg_count = min(int(negative.sum()), int(max(pos_count, 1) * negative_ratio))
    loss = F.binary_cross_entropy_with_logits(logits, gt, reduction="none")
    pos_loss = loss[positive].sum()
    neg_loss = loss[negative]
    if neg_count > 0:
        neg_loss, _ = neg_loss.topk(neg_count)
    return (pos_loss + neg_loss.sum()) / (pos_count + neg_count + eps)


def masked_l1(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    return ((pred - gt).abs() * mask).sum() / (mask.sum() + eps)


def dice_loss(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    inter = (pred * gt * mask).sum()
    union = (pred * mask).sum() + (gt * mask).sum() + eps
    return 1 - 2.0 * inter / union


class DBLoss(torch.nn.Module):
    def __init__(self, cfg: LossConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or LossConfig()

    def forward(self, out: Dict[str, torch.Tensor], batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``out`` from DBNet in train mode (fp32 maps); ``batch`` with the target maps."""
        c = self.cfg
        gt, mask = batch["shrink_map"], batch["shrink_mask"]
        l_prob = balanced_bce(out["prob_logits"][:, 0], gt, mask, c.negative_ratio, c.eps)
        l_thresh = masked_l1(out["thresh"][:, 0], batch["thresh_map"], batch["thresh_mask"], c.eps)
        l_binary = dice_loss(out["binary"][:, 0], gt, mask, c.eps)
        total = c.alpha * l_prob + c.beta * l_thresh + c.gamma * l_binary
        return {"loss": total, "prob": l_prob.detach(), "thresh": l_thresh.detach(), "binary": l_binary.detach()}

    def words(self, out: Dict[str, torch.Tensor], batch: Dict[str, torch.Tensor],
              labelled: torch.Tensor | None = None) -> Dict[str, torch.Tensor]:
        """The word map's loss (``TrainConfig.word_head``): the probability terms of the DB loss,
        balanced BCE and dice, on the word map; it has no threshold map of its own.

        ``labelled`` (one flag per crop) keeps the crops whose labels are words: a line label
        says nothing about where its words end, so the other crops teach the word map nothing."""
        c = self.cfg
        gt, mask = batch["shrink_map"], batch["shrink_mask"]
        if labelled is not None:
            mask = mask * labelled.to(mask.dtype).view(-1, 1, 1)
            if not bool(labelled.any()):   # no word-labelled crop in this batch: nothing to learn
                zero = out["word_logits"].sum() * 0.0
                return {"loss": zero, "word_prob": zero.detach(), "word_dice": zero.detach()}
        logits = out["word_logits"][:, 0]
        l_prob = balanced_bce(logits, gt, mask, c.negative_ratio, c.eps)
        l_dice = dice_loss(torch.sigmoid(logits), gt, mask, c.eps)
        total = c.alpha * l_prob + c.gamma * l_dice
        return {"loss": total, "word_prob": l_prob.detach(), "word_dice": l_dice.detach()}
