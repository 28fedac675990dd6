"""Training loop for DBNet-R18: resumable, bf16 on CPU, mixed precision on CUDA.

``Trainer(TrainConfig(...), progress=callback, cancel=threading.Event()).fit()`` is what
`python -m app train` and the WebUI's training tab both run. A run folder holds:

* ``checkpoint.pt``: model, optimizer, step, epoch, config (every ``checkpoint_every``
  steps, each epoch, on cancel and on Ctrl-C); ``--resume`` continues from it exactly;
* ``log.jsonl``: one JSON record per logged step and per evaluation;
* ``last.safetensors`` and ``best.safetensors`` (by test hmean): weights usable by TextDetector.
"""
from __future__ import annotations

import copy
import json
import logging
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np
import torch
from torch.utils.data import DataLoader

from .config import DetectorConfig
from .data.augment import AugmentConfig
from .data.dataset import DetectionDataset
from .data.icdar import DatasetError, Sample, read_split, validate_dataset
from .dbnet import DBNet, DBNetConfig
from .detector import TextDetector
from .loss import DBLoss, LossConfig
from .metrics import DetectionMetric
from .weights import load_model, save_weights

log = logging.getLogger(__name__)
ProgressFn = Callable[[Dict[str, Any]], None]


@dataclass
class TrainConfig:
    """One training run. Defaults are the seed's: batch 8, 5 epochs, lr 0.007 (SGD)."""

    data_dir: str = ""
    workdir: str = ""                    # default: workdirs/<timestamp>
    epochs: int = 5
    batch_size: int = 8
    lr: float = 0.007
    optimizer: str = "sgd"               # "sgd" (momentum 0.9) or "adam"
    weight_decay: float = 1e-4
    warmup_steps: int = 0
    poly_power: float = 0.9
    max_steps: int = 0                   # 0 = epochs * steps per epoch
    input_size: int = 512                # training crop
    init_weights: str | None = None      # fine-tune from a safetensors file
    resume: bool = False
    device: str = "auto"
    precision: str = "auto"              # auto: bf16 on CPU, fp16 AMP on CUDA; or fp32
    workers: int = 1
    checkpoint_every: int = 200
    log_every: int = 10
    eval_every_epochs: int = 1
    eval_limit: int = 200                # test images per evaluation (0 = all)
    seed: int = 0
    threads: int = 0                     # torch CPU threads (0 = torch default)

    def validate(self) -> None:
        problems = []
        if not 1 <= self.batch_size <= 256:
            problems.append(f"batch size must be 1-256 (got {self.batch_size})")
        if not 1 <= self.epochs <= 10000:
            problems.append(f"epochs must be 1-10000 (got {self.epochs})")
        if not 0 < self.lr <= 1:
            problems.append(f"learning rate must be in (0, 1] (got {self.lr})")
        if self.optimizer not in ("sgd", "adam"):
            problems.append(f"optimizer must be sgd or adam (got {self.optimizer!r})")
        if self.input_size % 32 or not 128 <= self.input_size <= 2048:
            problems.append(f"input size must be a multiple of 32 in 128-2048 (got {self.input_size})")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            problems.append(f"precision must be auto, fp32, bf16 or fp16 (got {self.precision!r})")
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))


@dataclass
class TrainResult:
    workdir: Path
    last_weights: Path | None
    best_weights: Path | None
    best_hmean: float | None
    step: int
    cancelled: bool = False
    history: List[Dict[str, Any]] = field(default_factory=list)


def _ignore_stop_signals(worker_id: int) -> None:
    """Data workers leave SIGINT/SIGTERM to the trainer, which finishes the step and saves a
    checkpoint; a worker killed by a group-wide signal (Ctrl-C, ``pkill``, a service stop)
    would otherwise abort the run with "DataLoader worker is killed" and no checkpoint."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _collate(batch: List[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    return {k: torch.stack([b[k] for b in batch]) for k in batch[0]}


class Trainer:
    def __init__(self, cfg: TrainConfig, progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None) -> None:
        cfg.validate()
        self.cfg = cfg
        self.progress = progress or (lambda event: None)
        self.cancel = cancel or threading.Event()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
        self.workdir = Path(cfg.workdir or Path("workdirs") / time.strftime("run_%Y%m%d_%H%M%S"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.summary = validate_dataset(cfg.data_dir)   # fails fast, before any model work
        self.train_samples = read_split(cfg.data_dir, "train")
        self.test_samples: List[Sample] = (read_split(cfg.data_dir, "test") if "test" in self.summary.splits else [])
        if cfg.eval_limit and len(self.test_samples) > cfg.eval_limit:
            self.test_samples = self.test_samples[: cfg.eval_limit]
        self.amp_dtype = self._amp_dtype()
        torch.manual_seed(cfg.seed)
        self.model = self._build_model().to(self.device).to(memory_format=torch.channels_last)
        self.loss_fn = DBLoss(LossConfig())
        self.optimizer = self._build_optimizer()
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.dataset = DetectionDataset(self.train_samples, AugmentConfig(size=cfg.input_size), cfg.seed)
        if len(self.dataset) < cfg.batch_size:
            raise ValueError(f"the training split has {len(self.dataset)} images, fewer than the batch size "
                             f"{cfg.batch_size}; lower the batch size or add images")
        self.steps_per_epoch = max(1, len(self.dataset) // cfg.batch_size)
        self.total_steps = cfg.max_steps or cfg.epochs * self.steps_per_epoch
        self.step = 0
        self.epoch = 0
        self.best_hmean: float | None = None
        self.history: List[Dict[str, Any]] = []
        if cfg.resume:
            self._load_checkpoint()

    # ------------------------------------------------------------------ setup
    def _amp_dtype(self) -> torch.dtype | None:
        p = self.cfg.precision
        if p == "fp32":
            return None
        if self.device.startswith("cuda"):
            return torch.bfloat16 if p == "bf16" else torch.float16
        return torch.bfloat16 if p in ("auto", "bf16") else None

    def _build_model(self) -> DBNet:
        if self.cfg.init_weights:
            model, _ = load_model(self.cfg.init_weights)
            log.info("initialised from %s", self.cfg.init_weights)
            return model.train()
        return DBNet(DBNetConfig()).train()

    def _build_optimizer(self) -> torch.optim.Optimizer:
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)   # no weight decay on BN and biases
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        if self.cfg.optimizer == "adam":
            return torch.optim.AdamW(groups, lr=self.cfg.lr)
        return torch.optim.SGD(groups, lr=self.cfg.lr, momentum=0.9)

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then polynomial decay to zero at ``total_steps``."""
        c = self.cfg
        if c.warmup_steps and step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        frac = min(1.0, (step - c.warmup_steps) / max(1, self.total_steps - c.warmup_steps))
        return c.lr * (1 - frac) ** c.poly_power

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path:
        return self.workdir / "checkpoint.pt"

    def save_checkpoint(self) -> None:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "step": self.step, "epoch": self.epoch, "best_hmean": self.best_hmean,
                 "config": asdict(self.cfg), "arch": asdict(self.model.config),
                 "scaler": self.scaler.state_dict() if self.scaler else None}
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)

    def _load_checkpoint(self) -> None:
        if not self.checkpoint_path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}")
        state = torch.load(self.checkpoint_path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.best_hmean = state.get("best_hmean")
        for g in self.optimizer.param_groups:
            g["lr"] = self.lr_at(self.step)
        log.info("resumed %s at step %d (epoch %d)", self.checkpoint_path, self.step, self.epoch)

    def _meta(self) -> Dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "data": str(self.cfg.data_dir),
                "input_size": self.cfg.input_size, "optimizer": self.cfg.optimizer, "lr": self.cfg.lr,
                "best_hmean": self.best_hmean, "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}

    # ------------------------------------------------------------------ logging
    def _emit(self, event: Dict[str, Any]) -> None:
        event = dict(event, time=round(time.time(), 3))
        self.history.append(event)
        with open(self.workdir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(event, ensure_ascii=False) + "\n")
        try:
            self.progress(event)
        except Exception:   # a UI callback must never kill training
            log.exception("progress callback failed")

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self, det_cfg: DetectorConfig | None = None) -> Dict[str, float]:
        """P/R/hmean on the test split with the inference pipeline (ICDAR-2015 protocol)."""
        net = copy.deepcopy(self.model).float().eval()
        detector = TextDetector.from_model(net, det_cfg or DetectorConfig(), self.device)
        metric = DetectionMetric()
        paths = [str(s.image_path) for s in self.test_samples]
        for s, res in zip(self.test_samples, detector.detect_many(paths)):
            metric.update(res.boxes if res.success else [], s.polygons, s.ignore)
        return metric.result()

    # ------------------------------------------------------------------ loop
    def fit(self) -> TrainResult:
        cfg = self.cfg
        self._emit({"type": "log", "message": f"training on {self.device} "
                    f"({'fp32' if self.amp_dtype is None else str(self.amp_dtype).replace('torch.', '')}), "
                    f"{len(self.train_samples)} train / {len(self.test_samples)} test images, "
                    f"{self.total_steps} steps, workdir {self.workdir}"})
        cancelled = False
        try:
            cancelled = self._loop()
        except KeyboardInterrupt:
            cancelled = True
            self._emit({"type": "log", "message": "interrupted: checkpoint saved"})
        finally:
            self.save_checkpoint()
        last = save_weights(self.model, self.workdir / "last.safetensors", self._meta())
        best = self.workdir / "best.safetensors"
        if not best.exists():
            best = None if self.test_samples else save_weights(self.model, self.workdir / "best.safetensors", self._meta())
        result = TrainResult(self.workdir, last, best, self.best_hmean, self.step, cancelled, self.history)
        self._emit({"type": "done", "step": self.step, "cancelled": cancelled, "last_weights": str(last),
                    "best_weights": str(best) if best else None, "best_hmean": self.best_hmean})
        return result

    def _loop(self) -> bool:
        cfg = self.cfg
        self.model.train()
        t_last, seen = time.time(), 0
        while self.step < self.total_steps:
            self.dataset.set_epoch(self.epoch)
            # The epoch's order comes from (seed, epoch) alone; a run resumed mid-epoch drops
            # the batches already trained on from the order instead of loading and skipping them.
            g = torch.Generator().manual_seed(cfg.seed * 1000 + self.epoch)
            order = torch.randperm(len(self.dataset), generator=g).tolist()
            skip = max(0, self.step - self.epoch * self.steps_per_epoch)
            loader = DataLoader(self.dataset, batch_size=cfg.batch_size, sampler=order[skip * cfg.batch_size:],
                                drop_last=True, num_workers=cfg.workers, collate_fn=_collate,
                                worker_init_fn=_ignore_stop_signals if cfg.workers else None,
                                persistent_workers=False, prefetch_factor=4 if cfg.workers else None)
            for batch in loader:
                if self.cancel.is_set():
                    self._emit({"type": "log", "message": f"cancelled at step {self.step}"})
                    return True
                stats = self._train_step(batch)
                self.step += 1
                seen += cfg.batch_size
                if self.step % cfg.log_every == 0 or self.step == 1:
                    dt = time.time() - t_last
                    self._emit({"type": "step", "epoch": self.epoch, "step": self.step,
                                "total_steps": self.total_steps, "lr": self.optimizer.param_groups[0]["lr"],
                                "images_per_s": round(seen / dt, 2) if dt > 0 else None, **stats})
                    t_last, seen = time.time(), 0
                if self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                    save_weights(self.model, self.workdir / "last.safetensors", self._meta())
                if self.step >= self.total_steps:
                    break
            # A run that stops at max_steps mid-epoch stays in that epoch, so a resume with a
            # larger --max-steps continues the same epoch order.
            epoch_done = self.step >= (self.epoch + 1) * self.steps_per_epoch
            if epoch_done:
                self.epoch += 1
            if self.test_samples and ((epoch_done and self.epoch % cfg.eval_every_epochs == 0)
                                      or self.step >= self.total_steps):
                self._evaluate_and_keep_best()
            self.save_checkpoint()
        return False

    def _train_step(self, batch: Dict[str, torch.Tensor]) -> Dict[str, float]:
        for g in self.optimizer.param_groups:
            g["lr"] = self.lr_at(self.step)
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        images = batch["image"].contiguous(memory_format=torch.channels_last)
        dev_type = "cuda" if self.device.startswith("cuda") else "cpu"
        with torch.autocast(dev_type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
            out = self.model(images)
        losses = self.loss_fn(out, batch)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(losses["loss"]).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            losses["loss"].backward()
            self.optimizer.step()
        return {k: round(float(v.detach()), 5) for k, v in losses.items()}

    def _evaluate_and_keep_best(self) -> None:
        t0 = time.time()
        metrics = self.evaluate()
        self.model.train()
        improved = self.best_hmean is None or metrics["hmean"] > self.best_hmean
        if improved:
            self.best_hmean = metrics["hmean"]
            save_weights(self.model, self.workdir / "best.safetensors", self._meta())
        self._emit({"type": "eval", "epoch": self.epoch, "step": self.step, "seconds": round(time.time() - t0, 1),
                    "best": improved, **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}})


def train_config_fields() -> List[str]:
    return [f.name for f in fields(TrainConfig)]
