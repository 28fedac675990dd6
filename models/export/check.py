"""Checks an exported model against PyTorch on rendered pages.

Every export is compared with the float32 PyTorch model it came from, on pages rendered by
:mod:`models.export.samples` (dark text on a light page, light text on a dark page, a noisy
photo), brought to the network input exactly as the detector does (``prepare``):

* fp32 / fp16: the largest absolute difference of the probability map, over every pixel
  of every page and a batch of two (checks the dynamic batch dimension too).
* int8: **box agreement**, the hmean of the int8 boxes against the fp32 boxes (ICDAR
  matching at IoU 0.5) with the shipped thresholds. This only means something when the
  fp32 model finds text: with random or barely trained weights the map is flat (a random
  DBNet outputs about 0.01 everywhere), no box passes the shipped thresholds, and "no
  boxes vs no boxes" would score a perfect but empty 1.0. Thresholds picked relative to
  such a map only turn noise into speckle boxes whose agreement says nothing either. So
  ``auto`` mode uses boxes when the fp32 model finds text on at least half of the pages,
  and otherwise gates on **probability-map agreement**: the Pearson correlation of int8
  and fp32 logits per page (scale-free, so it is as strict on a flat random map as on a
  trained one). The report says which gate was applied and why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Sequence, Tuple

import numpy as np

from ..config import DetectorConfig
from ..metrics import ImageCounts, match_image, summarize_counts
from ..postprocess import DBPostProcess
from ..preprocess import ResizeInfo

MapFn = Callable[[np.ndarray], np.ndarray]   # (N,3,H,W) float32 -> (N,H,W) probabilities


@dataclass
class Check:
    """One measured quantity against its limit (``limit`` None: informational only)."""

    name: str
    value: float
    limit: float | None = None
    op: str = "<="            # "<=": value must not exceed limit; ">=": must reach it
    note: str = ""

    @property
    def passed(self) -> bool:
        if self.limit is None:
            return True
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit

    @property
    def gating(self) -> bool:
        return self.limit is not None

    def line(self) -> str:
        mark = "info" if not self.gating else ("ok" if self.passed else "FAIL")
        val = f"{self.value:.3g}" if abs(self.value) < 1e-2 and self.value != 0 else f"{self.value:.4f}"
        lim = f"  (limit {self.op} {self.limit:g})" if self.gating else ""
        note = f"  {self.note}" if self.note else ""
        return f"  [{mark:>4}] {self.name} = {val}{lim}{note}"


@dataclass
class CheckInput:
    """One network input and how it maps back to the page (plus the page's true boxes)."""

    tensor: np.ndarray               # (3, H, W) float32 or (N, 3, H, W) for the batch sample
    info: ResizeInfo | None          # None for the batch sample
    gt: List[np.ndarray]             # text-line boxes in page pixels
    label: str


def run_all(fn: MapFn, samples: Sequence[CheckInput]) -> List[np.ndarray]:
    """Probability maps of every sample (one run per sample; the batch sample stays a batch)."""
    out = []
    for s in samples:
        x = s.tensor if s.tensor.ndim == 4 else s.tensor[None]
        prob = fn(np.ascontiguousarray(x, dtype=np.float32))
        out.append(prob if s.tensor.ndim == 4 else prob[0])
    return out


def max_abs_diff(ref: Sequence[np.ndarray], got: Sequence[np.ndarray]) -> Tuple[float, float]:
    """Largest and mean absolute difference over all maps."""
    diffs = [np.abs(a.astype(np.float64) - b) for a, b in zip(ref, got)]
    return float(max(d.max() for d in diffs)), float(np.mean([d.mean() for d in diffs]))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _content(prob: np.ndarray, info: ResizeInfo) -> np.ndarray:
    """The page's pixels of each map (padding dropped): (maps, h, w), one map or a line and a word map."""
    return prob[..., :info.resized_h, :info.resized_w].reshape(-1, info.resized_h, info.resized_w)


def logit_correlation(ref: Sequence[np.ndarray], got: Sequence[np.ndarray],
                      samples: Sequence[CheckInput]) -> float:
    """Smallest per-page Pearson correlation of the logits (page content, padding excluded; the
    worse of the two maps of a network with a word map)."""
    worst = 1.0
    for a, b, s in zip(ref, got, samples):
        if s.info is None:
            continue
        for ma, mb in zip(_content(a, s.info), _content(b, s.info)):   # each map of a page
            la, lb = _logit(ma).ravel(), _logit(mb).ravel()
            if la.std() == 0 or lb.std() == 0:
                corr = 1.0 if np.allclose(la, lb, atol=1e-3) else 0.0
            else:
                corr = float(np.corrcoef(la, lb)[0, 1])
            worst = min(worst, corr)
    return worst


def boxes(maps: Sequence[np.ndarray], samples: Sequence[CheckInput], cfg: DetectorConfig) -> List[np.ndarray]:
    post = DBPostProcess(cfg)
    return [post(m, s.info).quads for m, s in zip(maps, samples) if s.info is not None]


def hmean_against(preds: Sequence[np.ndarray], refs: Sequence[Sequence[np.ndarray]]) -> Tuple[float, List[ImageCounts]]:
    counts = [match_image(p, r) for p, r in zip(preds, refs)]
    return float(summarize_counts(counts)["hmean"]), counts


def int8_checks(ref: Sequence[np.ndarray], got: Sequence[np.ndarray], samples: Sequence[CheckInput],
                cfg: DetectorConfig, mode: str, min_hmean: float, min_corr: float) -> Tuple[List[Check], str, float | None]:
    """The int8 gate (see the module docstring). Returns checks, the mode used and the hmean."""
    pages = [s for s in samples if s.info is not None]
    ref_boxes = boxes(ref, samples, cfg)
    with_text = sum(1 for b in ref_boxes if len(b))
    corr = logit_correlation(ref, got, samples)
    if mode == "auto":
        mode = "boxes" if with_text * 2 >= len(pages) else "map"
    checks: List[Check] = []
    hmean = None
    if mode == "boxes":
        got_boxes = boxes(got, samples, cfg)
        n_ref = sum(len(b) for b in ref_boxes)
        hmean, _ = hmean_against(got_boxes, ref_boxes)
        checks.append(Check("box agreement hmean (int8 boxes vs fp32 boxes)", hmean if n_ref else 0.0,
                            min_hmean, ">=", f"{n_ref} fp32 boxes on {len(pages)} pages" +
                            ("" if n_ref else "; nothing to compare: the fp32 model finds no text")))
        gt = [s.gt for s in pages]
        h32, _ = hmean_against(ref_boxes, gt)
        h8, _ = hmean_against(got_boxes, gt)
        checks.append(Check("hmean vs rendered ground truth, fp32", h32))
        checks.append(Check("hmean vs rendered ground truth, int8", h8, note=f"change {100 * (h8 - h32):+.1f} points"))
        if ref and ref[0].ndim == 3:   # a word map: its boxes must agree too
            words = cfg.with_overrides(granularity="words")
            ref_words = boxes(ref, samples, words)
            word_hmean, _ = hmean_against(boxes(got, samples, words), ref_words)
            checks.append(Check("word-map box agreement hmean (int8 vs fp32)",
                                word_hmean if any(len(b) for b in ref_words) else 0.0, min_hmean, ">=",
                                f"{sum(len(b) for b in ref_words)} fp32 word boxes"))
        checks.append(Check("logit correlation (worst page)", corr))
    else:
        checks.append(Check("logit correlation int8 vs fp32 (worst page)", corr, min_corr, ">=",
                            f"box check not applicable: the fp32 model finds text on {with_text} of "
                            f"{len(pages)} pages at thresh {cfg.thresh} (untrained weights?)"))
    return checks, mode, hmean
