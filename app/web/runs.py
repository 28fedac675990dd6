"""What a training run offers for serving: read from its ``log.jsonl`` (the trainer's record).

Only a run that finished (not cancelled, not failed) offers weights: its best checkpoint
(by validation hmean) when it has one, else its last weights. The served model is scored on
the same validation images with the same evaluation engine before a swap
(:func:`served_hmean`), so the choice is made on numbers, not on a button.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List

from . import wording as W

LOG_NAME = "log.jsonl"


@dataclass(frozen=True)
class RunOutcome:
    """A run's end as far as serving its weights is concerned."""

    workdir: Path | None
    finished: bool                 # a "done" record without cancel
    cancelled: bool
    weights: Path | None           # best checkpoint, else last weights (None when not offered)
    which: str                     # "best" or "last"
    hmean: float | None            # validation hmean of ``weights`` (None: no validation split)
    eval_step: int | None          # the step whose evaluation gave ``hmean``
    val_images: int | None         # validation images the evaluations scored
    config: Dict[str, Any] = field(default_factory=dict)
    problem: str | None = None     # why the weights are not offered (worded for the user)

    @property
    def servable(self) -> bool:
        return self.problem is None and self.weights is not None


def outcome_from_events(events: Iterable[Dict[str, Any]], state: str | None = None,
                        workdir: Path | None = None) -> RunOutcome:
    """Read the run's records; ``state`` is the job's (``failed`` wins over any record)."""
    events = list(events)
    config = next((e.get("config") or {} for e in events if e.get("type") == "config"), {})
    if workdir is None and config.get("workdir"):
        workdir = Path(config["workdir"])
    done = next((e for e in reversed(events) if e.get("type") == "done"), None)
    evals = [e for e in events if e.get("type") == "eval" and "hmean" in e]
    best = max(evals, key=lambda e: e["hmean"], default=None) if evals else None
    common = dict(workdir=workdir, config=config)
    if state == "failed":
        return RunOutcome(finished=False, cancelled=False, weights=None, which="", hmean=None, eval_step=None,
                          val_images=None, problem=W.RUN_FAILED, **common)
    if done is None:
        return RunOutcome(finished=False, cancelled=False, weights=None, which="", hmean=None, eval_step=None,
                          val_images=None, problem=W.RUN_NOT_FINISHED, **common)
    if done.get("cancelled"):
        return RunOutcome(finished=False, cancelled=True, weights=None, which="", hmean=None, eval_step=None,
                          val_images=None, problem=W.RUN_CANCELLED, **common)
    path, which = (done.get("best_weights"), "best") if done.get("best_weights") else (done.get("last_weights"), "last")
    weights = Path(path) if path else None
    problem = None if weights is not None and weights.is_file() else W.RUN_WEIGHTS_MISSING.format(path=path)
    hmean = done.get("best_hmean")
    if hmean is None and best is not None:
        hmean = best["hmean"]
    # Without any evaluation (no validation split) best.safetensors is the last weights.
    step = best.get("step") if best is not None else None
    images = best.get("images") if best is not None else None
    return RunOutcome(finished=True, cancelled=False, weights=weights, which=which,
                      hmean=float(hmean) if hmean is not None else None, eval_step=step,
                      val_images=images, problem=problem, **common)


def read_events(workdir: Path) -> List[Dict[str, Any]]:
    """The records of ``workdir/log.jsonl`` (a torn last line, from a crash, is skipped)."""
    events = []
    for line in (workdir / LOG_NAME).read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def run_of_weights(path: Path) -> RunOutcome | None:
    """The outcome of the training run that wrote ``path``, or None when ``path`` does not
    lie in a run folder (weights copied in by an admin, the released weights)."""
    workdir = Path(path).resolve().parent
    if not (workdir / LOG_NAME).is_file():
        return None
    return outcome_from_events(read_events(workdir), workdir=workdir)


def served_hmean(detector: Any, run: RunOutcome) -> Dict[str, Any] | None:
    """Precision/recall/hmean of ``detector`` on the run's validation images (same split
    seed and limit, same engine as the trainer's evaluations); None without a validation split."""
    from models.train import TrainConfig, validation_sources
    from models.validation import evaluate_detector_on_sources

    sources = validation_sources(TrainConfig.from_dict(run.config))
    if not any(ls.val for ls in sources):
        return None
    return evaluate_detector_on_sources(detector, sources)
