"""Training loop for DBNet-R18: resumable, bf16 on CPU, mixed precision on CUDA.

``Trainer(TrainConfig(...), progress=callback, cancel=threading.Event()).fit()`` is what
`python -m app train` and the WebUI's training tab both run. A run folder holds:

* ``checkpoint.pt``: model, optimizer, step, epoch, config (``asdict(TrainConfig)``, loss
  and augmentation included; every ``checkpoint_every`` steps, each epoch, on cancel and
  on Ctrl-C); ``--resume`` continues from it exactly (checkpoints with the older flat
  config load too, see :func:`saved_config`);
* ``log.jsonl``: the run's settings first (``type: config``), ``phase`` records while the
  run prepares (reading data, building the model), then one JSON record per logged step
  (always the first and the last) and per evaluation;
* ``last.safetensors`` and ``best.safetensors`` (by test hmean): weights usable by TextDetector.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from .backbone import parse_depths
from .config import DetectorConfig
from .cpu_features import CpuFeatures, cpu_features
from .data.augment import AugmentConfig
from .data.dataset import DetectionDataset, to_device
from .data.icdar import Sample
from .data.mix import LoadedSource, load_sources, resolve_sources, sample_weights, split_record
from .dbnet import DBNet, DBNetConfig
from .loss import DBLoss, LossConfig
from .onnx_teacher import OnnxTeacher
from .settings import changed, check_settings, from_dict, setting
from .validation import evaluate_sources
from .weights import load_model, save_weights, transplant

log = logging.getLogger(__name__)
ProgressFn = Callable[[Dict[str, Any]], None]


def load_teacher(path: str | Path) -> torch.nn.Module:
    """What ``--teacher`` names, in eval mode: our weights (a DBNet) or another detector's ONNX
    file (:class:`models.onnx_teacher.OnnxTeacher`); either maps a training batch to probabilities."""
    teacher = OnnxTeacher(path) if Path(path).suffix.lower() == ".onnx" else load_model(path)[0]
    return teacher.eval()


def _check_depths(name: str, value: str) -> None:
    """Empty (keep --init's), or four blocks-per-stage counts (ValueError otherwise)."""
    if value:
        try:
            parse_depths(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None


@dataclass
class TrainConfig:
    """One training run. Defaults are the seed's: batch 8, 5 epochs, lr 0.007 (SGD).

    ``data`` holds one or more dataset folders (``DIR`` or ``DIR:WEIGHT``) or TOML mix
    files (:mod:`models.data.mix`); a single string is taken as one entry. ``loss`` and
    ``augment`` are nested so that a checkpoint (``asdict``) records every setting of the run.
    """

    data: Tuple[str, ...] = setting(
        (), "dataset folder (ICDAR 2015/2013 layout or a PaddleOCR label file), optionally DIR:WEIGHT; repeat to "
            "mix sources, each batch drawn by weight; or a .toml mix file with held-out validation counts "
            "(see models/data/mix.py)", cli_repeat=True, cli_required=True)
    workdir: str = setting("", "run folder (default workdirs/run_<time>)")
    epochs: int = setting(5, "passes over the training set", min=1, max=10000, step=1, ui_max=100)
    batch_size: int = setting(8, "images per step", min=1, max=256, step=1, ui_max=32)
    lr: float = setting(0.007, "peak learning rate (after warm-up; polynomial decay to 0)", gt=0.0, max=1.0,
                        ui_min=1e-6)
    optimizer: str = setting("sgd", "sgd (momentum 0.9) or adam (AdamW)", choices=("sgd", "adam"))
    weight_decay: float = setting(1e-4, "weight decay (not on BatchNorm and biases)", min=0.0)
    warmup_steps: int = setting(0, "linear learning-rate warm-up steps", min=0)
    poly_power: float = setting(0.9, "power of the polynomial learning-rate decay", min=0.0)
    max_steps: int = setting(0, "stop after this many steps (0 = epochs)", min=0)
    input_size: int = setting(512, "square training crop in pixels", min=128, max=2048, multiple_of=32)
    init_weights: str | None = setting(None, "start from these weights (fine-tune)", cli_name="init")
    fpn_channels: int = setting(0, "FPN width of the network: 0 = that of --init (256 for a new network); 64 or "
                                   "96 train a lighter, faster one whose backbone still comes from --init "
                                   "(README: speed)", min=0, max=1024, multiple_of=4)
    depths: str = setting("", "residual blocks per backbone stage: empty = those of --init (2,2,2,2, ResNet-18, "
                              "for a new network); 1,1,1,2 is the lighter CPU network, seeded by the blocks "
                              "of --init that it keeps (README: speed)", check=_check_depths,
                          metavar="N,N,N,N")
    asf: bool = setting(False, "add DBNet++'s adaptive scale fusion to the network (a per-pixel weight for each "
                               "FPN scale; new layers that start as a near pass-through, the rest from --init; "
                               "cost: README, speed)")
    teacher: str | None = setting(None, "distil from these weights: the network also learns their probability "
                                        "maps (e.g. the release, when training a lighter network); or from "
                                        "an ONNX DB detector such as PP-OCRv4 mobile's "
                                        "ch_PP-OCRv4_det_infer.onnx (README, training)")
    teacher_weight: float = setting(1.0, "weight of the distillation loss (BCE to the teacher's probability map)",
                                    min=0.0)
    teacher_mirror: bool = setting(False, "the teacher's maps are the mean of its maps of the crop and of the "
                                          "mirrored crop (what the mirror look reads at inference), so one look "
                                          "of the student learns what two looks of the teacher see")
    word_head: bool = setting(False, "train the word map only (its own neck and map on the shared backbone; the "
                                     "network gains one if --init has none, started as a copy of its line map): "
                                     "everything else stays frozen, so the lines are unchanged; give it "
                                     "word-labelled data (scene photos, ICDAR 2013)")
    word_neck: bool = setting(True, "with --word-head or --word-joint: the word map gets a neck of its own; "
                                    "--no-word-neck: it reads the line neck's features (a smaller cost at "
                                    "inference: README, training)")
    word_head_width: int = setting(0, "with --word-head or --word-joint: channels of the word map's head (0: as "
                                      "--init has it, else a quarter of the neck's, like the line map); a head "
                                      "of another shape than --init's starts new", min=0, max=512)
    word_head_convs: int = setting(0, "with --word-head or --word-joint: extra 3x3 convolutions in the word map's "
                                      "head (0: as --init has it)", min=0, max=4)
    word_joint: bool = setting(False, "train the whole network together with a word map (added as with "
                                      "--word-head if --init has none): the line loss on every crop, the word "
                                      "map's loss on crops of sources whose mix file marks granularity = "
                                      "\"words\"; validation then scores --granularity auto")
    word_weight: float = setting(1.0, "with --word-joint: weight of the word map's loss", min=0.0)
    resume: bool = setting(False, "continue WORKDIR/checkpoint.pt exactly")
    device: str = setting("auto", "auto (CUDA when available), cpu or cuda")
    precision: str = setting("auto", "auto: bf16 only on CPUs with native bf16 (else fp32), fp16 AMP on CUDA",
                             choices=("auto", "fp32", "bf16", "fp16"))
    freeze: int = setting(0, "keep early parts fixed: 1 = stem, 2 = stem + layer1 (faster fine-tuning)",
                          choices=(0, 1, 2))
    eval_every: int = setting(0, "validate every N steps (0 = every --eval-every-epochs epochs)", min=0)
    workers: int = setting(1, "data loading processes", min=0)
    checkpoint_every: int = setting(200, "steps between checkpoints", min=1)
    log_every: int = setting(10, "steps between log records", min=1)
    eval_every_epochs: int = setting(1, "epochs between validations (without --eval-every)", min=1)
    eval_limit: int = setting(200, "validation images per source and evaluation (0 = all)", min=0)
    seed: int = setting(0, "seed of the initialisation, augmentation and batch order")
    threads: int = setting(0, "torch CPU threads (0 = torch default)", min=0)
    loss: LossConfig = setting(default_factory=LossConfig, help="DB loss weights")
    augment: AugmentConfig = setting(default_factory=AugmentConfig, help="training augmentation")

    def __post_init__(self) -> None:
        if isinstance(self.data, (str, Path)):
            self.data = (str(self.data),)
        self.data = tuple(str(d) for d in self.data)
        if self.augment.size != self.input_size:   # one crop size: --input-size
            self.augment = replace(self.augment, size=self.input_size)
        check_settings(self, "training", ["--teacher-mirror needs --teacher (the network whose mirror look it "
                                          "teaches)" if self.teacher_mirror and not self.teacher else ""])

    def validate(self) -> None:
        """The checks of construction again (fields may have been changed since), plus data."""
        check_settings(self, "training", ["" if self.data else
                                          "no training data (a dataset folder, DIR:WEIGHT, or a .toml mix file)"])

    @classmethod
    def from_dict(cls, record: Dict[str, Any]) -> "TrainConfig":
        """The config a checkpoint recorded: nested ``loss``/``augment`` or the flat layout of
        checkpoints written before they were nested (they then take their defaults)."""
        return from_dict(cls, record)


@dataclass
class TrainingCancelled(Exception):
    """Raised inside a step or a validation pass once cancel is set, so a cancel takes
    effect within one forward pass (not after a whole step or a whole evaluation)."""


@dataclass
class TrainResult:
    workdir: Path
    last_weights: Path | None
    best_weights: Path | None
    best_hmean: float | None
    step: int
    cancelled: bool = False
    history: List[Dict[str, Any]] = field(default_factory=list)


def autocast_dtype(precision: str, device: str, cpu: CpuFeatures) -> torch.dtype | None:
    """The autocast dtype for a precision setting, or None for fp32.

    ``auto`` means fp16 AMP on CUDA and, on a CPU, bf16 only where the CPU has bf16 units:
    emulated bf16 was measured 10x slower than fp32 (0.11 vs 1.08 img/s on an AVX2 EPYC).
    """
    if precision == "fp32":
        return None
    if device.startswith("cuda"):
        return torch.bfloat16 if precision == "bf16" else torch.float16
    if precision == "auto":
        log.info("CPU: %s -> %s", cpu.describe(), "bf16" if cpu.native_bf16 else "fp32")
        return torch.bfloat16 if cpu.native_bf16 else None
    return torch.bfloat16 if precision == "bf16" else None


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
        self.history: List[Dict[str, Any]] = []
        self._emit({"type": "config", "config": asdict(cfg)})
        self._emit({"type": "phase", "phase": "data", "message": f"reading {len(cfg.data)} dataset(s)"})
        # Every source is read and split before any model work, so data problems fail fast.
        sources, self.split_seed = resolve_sources(cfg.data)
        self.sources: List[LoadedSource] = load_sources(sources, self.split_seed)
        (self.workdir / "split.json").write_text(
            json.dumps(split_record(self.sources, self.split_seed), indent=1, ensure_ascii=False), encoding="utf-8")
        limit_validation(self.sources, cfg.eval_limit)
        self.train_samples: List[Sample] = [s for ls in self.sources for s in ls.train]
        self.test_samples: List[Sample] = [s for ls in self.sources for s in ls.val]
        self.weights = sample_weights(self.sources) if len(self.sources) > 1 else None
        self._emit({"type": "phase", "phase": "model", "message": f"{len(self.train_samples)} train / "
                    f"{len(self.test_samples)} validation images; building the model"})
        self.amp_dtype = autocast_dtype(cfg.precision, self.device, cpu_features())
        torch.manual_seed(cfg.seed)
        self.notes: List[str] = []                      # said in the log when fit() starts
        self.model = self._build_model().to(self.device).to(memory_format=torch.channels_last)
        self.teacher = self._build_teacher()
        self._freeze()
        self.loss_fn = DBLoss(cfg.loss)
        self.optimizer = self._build_optimizer()
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.dataset = DetectionDataset(self.train_samples, replace(cfg.augment, size=cfg.input_size), cfg.seed,
                                        self._word_labelled() if cfg.word_joint else None,
                                        self._paste_groups() if cfg.augment.paste_prob > 0 else None)
        if len(self.dataset) < cfg.batch_size:
            raise ValueError(f"the training split has {len(self.dataset)} images, fewer than the batch size "
                             f"{cfg.batch_size}; lower the batch size or add images")
        self.steps_per_epoch = max(1, len(self.dataset) // cfg.batch_size)
        self.total_steps = cfg.max_steps or cfg.epochs * self.steps_per_epoch
        self.step = 0
        self.epoch = 0
        self.best_hmean: float | None = None
        self.resumed_from: TrainConfig | None = None
        if cfg.resume:
            self._load_checkpoint()

    # ------------------------------------------------------------------ setup
    def _word_sources(self, needed_by: str) -> List[int | None]:
        """One entry per training sample: its source's number when the source labels words,
        else None; ``needed_by`` (what wants word labels) names the option in the error."""
        groups = [k if ls.source.granularity == "words" else None
                  for k, ls in enumerate(self.sources) for _ in ls.train]
        if all(g is None for g in groups):
            raise ValueError(f"{needed_by}, and no source is marked granularity = \"words\" (a mix file's "
                             "[[source]] key; scene photos, ICDAR 2013)")
        return groups

    def _word_labelled(self) -> List[bool]:
        """One flag per training sample: does its source label words? (``--word-joint``)"""
        return [g is not None for g in self._word_sources("--word-joint trains the word map on word-labelled crops")]

    def _paste_groups(self) -> List[int | None]:
        """Copy-paste pastes words of a word-labelled source into that source's samples only
        (documents labelled by line get no pasted words: a lone word there would contradict
        their labels)."""
        return self._word_sources("--augment-paste-prob pastes words between photos of a word-labelled source")

    def _build_model(self) -> DBNet:
        """A new network, the one of ``--init``, or a lighter one (``--fpn-channels``,
        ``--depths``) that takes every tensor of ``--init`` whose name and shape it shares."""
        width = self.cfg.fpn_channels
        depths = parse_depths(self.cfg.depths) if self.cfg.depths else None
        if self.cfg.word_head and self.cfg.word_joint:
            raise ValueError("--word-head trains the word map alone and --word-joint the whole network with it: "
                             "choose one")
        if self.cfg.word_head and (not self.cfg.init_weights or width or depths or self.cfg.teacher
                                   or self.cfg.asf):
            raise ValueError("--word-head trains a word map on the features of a trained network: give it --init "
                             "weights, without --fpn-channels, --depths, --asf or --teacher (the features and the "
                             "line map must stay as trained)")
        if self.cfg.word_joint and (not self.cfg.init_weights or width or depths):
            raise ValueError("--word-joint fine-tunes a trained network with a word map: give it --init weights, "
                             "without --fpn-channels or --depths")
        if not self.cfg.init_weights:
            return DBNet(DBNetConfig(inner_channels=width or DBNetConfig.inner_channels,
                                     depths=depths or DBNetConfig.depths, asf=self.cfg.asf)).train()
        model, _ = load_model(self.cfg.init_weights)
        if model.config.word_head and not (self.cfg.word_head or self.cfg.word_joint):
            # Training the lines alone moves the features a word map reads: the map would go
            # stale in the saved file, and auto would serve it to scene photos. Dropped, words
            # are cut from the line map (as for the releases before 2026-11-27); --word-joint
            # trains the two together instead.
            model = model.without_word_map()
            self.notes.append(f"the word map of {self.cfg.init_weights} is left out (training the lines alone "
                              "would leave it stale); words come from the line map's gaps; --word-joint "
                              "keeps and trains it")
        asf = self.cfg.asf or model.config.asf
        if (self.cfg.word_head or self.cfg.word_joint) and model.config.word_head:
            model = self._reshaped_word_head(model)
        if (self.cfg.word_head or self.cfg.word_joint) and not model.config.word_head:
            wanted = replace(model.config, word_head=True, word_neck=self.cfg.word_neck, asf=asf,
                             word_head_width=self.cfg.word_head_width, word_head_convs=self.cfg.word_head_convs)
            with_words = DBNet(wanted)
            transplant(model, with_words)
            if with_words.word_neck is not None:
                with_words.word_neck.load_state_dict(model.neck.state_dict())
            line_map, word_map = model.prob_head.state_dict(), with_words.word_head.state_dict()
            same_shape = line_map.keys() == word_map.keys() and all(
                line_map[k].shape == word_map[k].shape for k in line_map)
            if same_shape:
                with_words.word_head.load_state_dict(line_map)
            start = "a copy of its line map" if same_shape else "new (its line map has another shape)"
            self.notes.append(f"{wanted.name}: a word map added to {self.cfg.init_weights}, started as {start} "
                              f"({'neck and map' if wanted.word_neck else 'on the line neck'})")
            return with_words.train()
        wanted = replace(model.config, inner_channels=width or model.config.inner_channels,
                         depths=depths or model.config.depths, asf=asf)
        if wanted == model.config:
            log.info("initialised from %s", self.cfg.init_weights)
            return model.train()
        lighter = DBNet(wanted)
        kept = transplant(model, lighter)
        total = len(lighter.state_dict())
        self.notes.append(f"{wanted.name} instead of {model.config.name}: {kept} of {total} tensors from "
                          f"{self.cfg.init_weights}" + (", the rest start new" if kept < total else ""))
        return lighter.train()

    def _reshaped_word_head(self, model: DBNet) -> DBNet:
        """``model`` with a new word head where ``--word-head-width`` / ``--word-head-convs`` ask
        for another shape than its own (its word neck, if any, and everything else kept)."""
        default = model.config.inner_channels // 4    # what a width of 0 means (MapHead)
        own = (model.config.word_head_width or default, model.config.word_head_convs)
        width = self.cfg.word_head_width or own[0]
        convs = self.cfg.word_head_convs or own[1]
        if (width, convs) == own:     # the shape it has, however it was asked for: keep the trained head
            return model
        reshaped = DBNet(replace(model.config, word_head_width=width, word_head_convs=convs))
        reshaped.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("word_head.")},
                                 strict=False)   # the new head keeps its fresh initialisation
        self.notes.append(f"{reshaped.config.name}: the word map's head of {self.cfg.init_weights} replaced by a "
                          f"new one {width} channels wide, with {convs} extra convolutions")
        return reshaped

    def _build_teacher(self) -> torch.nn.Module | None:
        """The frozen network whose probability maps the student's line map also learns, and
        its word map too where both have one (``--teacher``, with ``--word-joint``): our weights,
        or another detector's ONNX file (:mod:`models.onnx_teacher`)."""
        if not self.cfg.teacher:
            return None
        teacher = load_teacher(self.cfg.teacher).to(self.device).to(memory_format=torch.channels_last)
        for param in teacher.parameters():
            param.requires_grad_(False)
        mirror = ", the mean of each crop and its mirror image" if self.cfg.teacher_mirror else ""
        maps = "line and word maps" if self.cfg.word_joint and getattr(teacher, "word_head", None) is not None \
            else "line map"
        self.notes.append(f"distilling the {maps} from {self.cfg.teacher}{mirror} "
                          f"(weight {self.cfg.teacher_weight:g})")
        return teacher

    def _frozen_modules(self) -> List[torch.nn.Module]:
        if self.cfg.word_head:   # everything but the word map: the lines stay exactly as they were
            return [m for name, m in self.model.named_children() if name not in ("word_neck", "word_head")]
        bb = self.model.backbone
        return [bb.stem, bb.layer1][: self.cfg.freeze]

    def _freeze(self) -> None:
        """Fine-tuning on a few hundred real images: the stem and first stage (generic
        edges and strokes) stay as trained, which also skips their weight gradients."""
        for m in self._frozen_modules():
            m.requires_grad_(False)

    def _train_mode(self) -> None:
        """Train mode, with frozen parts' BatchNorm statistics kept fixed."""
        self.model.train()
        for m in self._frozen_modules():
            m.eval()

    def _build_optimizer(self) -> torch.optim.Optimizer:
        decay, no_decay = [], []
        for p in self.model.parameters():
            if not p.requires_grad:
                continue
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
        self.resumed_from = saved_config(state)
        diff = [d for d in changed(self.resumed_from, self.cfg) if not d.startswith(("resume ", "max_steps "))]
        if diff:
            self.notes.append("resumed with settings changed since the checkpoint: " + ", ".join(diff))

    def _meta(self) -> Dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "data": ";".join(self.cfg.data),
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
    def evaluate(self, det_cfg: DetectorConfig | None = None) -> Dict[str, Any]:
        """P/R/hmean per source on the validation images (see :func:`evaluate_sources`), with
        word boxes when the run trains the word map. The rest are the detector's defaults, the
        look at scene photos included (the zoom look since 2026-11-28, the mirror look from the
        eighteenth stop until then): compare a run's street figure with a file's figure under
        the same looks."""
        def stop_if_cancelled(*_: Any) -> None:
            if self.cancel.is_set():
                raise TrainingCancelled
        if det_cfg is None and self.cfg.word_head:   # what is trained: the word map's boxes
            det_cfg = DetectorConfig(granularity="words")
        if det_cfg is None and self.cfg.word_joint:  # both maps, each where the product uses it
            det_cfg = DetectorConfig(granularity="auto")
        return evaluate_sources(self.model, self.sources, det_cfg, self.device, progress=stop_if_cancelled)

    # ------------------------------------------------------------------ loop
    def fit(self) -> TrainResult:
        for note in self.notes:
            self._emit({"type": "log", "message": note})
        self._emit({"type": "log", "message": f"training on {self.device} "
                    f"({'fp32' if self.amp_dtype is None else str(self.amp_dtype).replace('torch.', '')}), "
                    f"{len(self.train_samples)} train / {len(self.test_samples)} validation images from "
                    f"{len(self.sources)} source(s), "
                    f"{self.total_steps} steps, workdir {self.workdir}"})
        self._emit({"type": "phase", "phase": "train", "total_steps": self.total_steps, "start_step": self.step,
                    "train_images": len(self.train_samples), "val_images": len(self.test_samples),
                    "batch_size": self.cfg.batch_size, "log_every": self.cfg.log_every,
                    "steps_per_epoch": self.steps_per_epoch, "first_eval_step": self._first_eval_step(),
                    "message": "first batch loading"})
        cancelled = False
        try:
            cancelled = self._loop()
        except TrainingCancelled:
            cancelled = True
            self._emit({"type": "log", "message": f"cancelled at step {self.step}"})
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

    def _first_eval_step(self) -> int | None:
        """The step of the first validation after this run's start (None without a test split)."""
        if not self.test_samples:
            return None
        every = self.cfg.eval_every or self.steps_per_epoch * self.cfg.eval_every_epochs
        return min(self.total_steps, (self.step // every + 1) * every)

    def _loop(self) -> bool:
        cfg = self.cfg
        self._train_mode()
        t_last, seen = time.time(), 0
        while self.step < self.total_steps:
            self.dataset.set_epoch(self.epoch)
            # The epoch's order comes from (seed, epoch) alone; a run resumed mid-epoch drops
            # the batches already trained on from the order instead of loading and skipping them.
            g = torch.Generator().manual_seed(cfg.seed * 1000 + self.epoch)
            if self.weights is None:
                order = torch.randperm(len(self.dataset), generator=g).tolist()
            else:   # a mix: every batch drawn by the sources' weights
                order = torch.multinomial(torch.from_numpy(self.weights), len(self.dataset), replacement=True,
                                          generator=g).tolist()
            skip = max(0, self.step - self.epoch * self.steps_per_epoch)
            loader = DataLoader(self.dataset, batch_size=cfg.batch_size, sampler=order[skip * cfg.batch_size:],
                                drop_last=True, num_workers=cfg.workers, collate_fn=_collate,
                                worker_init_fn=_ignore_stop_signals if cfg.workers else None,
                                persistent_workers=False, prefetch_factor=4 if cfg.workers else None,
                                pin_memory=self.device.startswith("cuda"))
            for batch in loader:
                if self.cancel.is_set():
                    self._emit({"type": "log", "message": f"cancelled at step {self.step}"})
                    return True
                stats = self._train_step(batch)
                self.step += 1
                seen += cfg.batch_size
                if self.step % cfg.log_every == 0 or self.step == 1 or self.step == self.total_steps:
                    dt = time.time() - t_last
                    self._emit({"type": "step", "epoch": self.epoch, "step": self.step,
                                "total_steps": self.total_steps, "lr": self.optimizer.param_groups[0]["lr"],
                                "images_per_s": round(seen / dt, 2) if dt > 0 else None, **stats})
                    t_last, seen = time.time(), 0
                if self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                    save_weights(self.model, self.workdir / "last.safetensors", self._meta())
                if cfg.eval_every and self.test_samples and self.step % cfg.eval_every == 0 \
                        and self.step < self.total_steps:
                    self._evaluate_and_keep_best()
                    self.save_checkpoint()
                if self.step >= self.total_steps:
                    break
            # A run that stops at max_steps mid-epoch stays in that epoch, so a resume with a
            # larger --max-steps continues the same epoch order.
            epoch_done = self.step >= (self.epoch + 1) * self.steps_per_epoch
            if epoch_done:
                self.epoch += 1
            by_epoch = not cfg.eval_every and epoch_done and self.epoch % cfg.eval_every_epochs == 0
            if self.test_samples and (by_epoch or self.step >= self.total_steps):
                self._evaluate_and_keep_best()
            self.save_checkpoint()
        return False

    def _train_step(self, batch: Dict[str, torch.Tensor]) -> Dict[str, float]:
        for g in self.optimizer.param_groups:
            g["lr"] = self.lr_at(self.step)
        batch = to_device(batch, self.device)
        images = batch["image"].contiguous(memory_format=torch.channels_last)
        dev_type = "cuda" if self.device.startswith("cuda") else "cpu"
        with torch.autocast(dev_type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
            if self.cfg.word_head:
                out = {"word_logits": self.model.train_word_logits(images)}
            elif self.cfg.word_joint:
                out = self.model.train_with_words(images)
            else:
                out = self.model(images)
            target = self._teacher_maps(images) if self.teacher is not None else None
        if self.cancel.is_set():   # before the backward pass, the slower half of a step
            raise TrainingCancelled
        losses = self.loss_fn.words(out, batch) if self.cfg.word_head else self.loss_fn(out, batch)
        if self.cfg.word_joint:
            words = self.loss_fn.words(out, batch, labelled=batch["word_labels"])
            losses = {**losses, "loss": losses["loss"] + self.cfg.word_weight * words.pop("loss"), **words}
        if target is not None:
            # soft targets over every pixel: the teacher's confidence on text and background alike
            distill = F.binary_cross_entropy_with_logits(out["prob_logits"], target[:, :1])
            losses["distill"] = distill
            losses["loss"] = losses["loss"] + self.cfg.teacher_weight * distill
            if self.cfg.word_joint and target.shape[1] > 1:
                word_distill = self._word_distillation(out["word_logits"], target[:, 1:2], batch["word_labels"])
                losses["word_distill"] = word_distill
                losses["loss"] = losses["loss"] + self.cfg.teacher_weight * word_distill
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(losses["loss"]).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            losses["loss"].backward()
            self.optimizer.step()
        return {k: round(float(v.detach()), 5) for k, v in losses.items()}

    @torch.no_grad()
    def _teacher_maps(self, images: torch.Tensor) -> torch.Tensor:
        """The teacher's probability maps of a batch (N, 1 or 2 with a word map, H, W), fp32;
        with ``teacher_mirror`` the mean with its maps of the mirrored batch, mirrored back:
        the mirror look's map (:mod:`models.mirror`), one look's work for the student."""
        maps = self.teacher(images).float()
        if self.cfg.teacher_mirror:
            maps = (maps + self.teacher(images.flip(-1)).float().flip(-1)) / 2
        return maps

    @staticmethod
    def _word_distillation(word_logits: torch.Tensor, target: torch.Tensor, labelled: torch.Tensor) -> torch.Tensor:
        """BCE of the word map to the teacher's word map on word-labelled crops only, as the
        word map's own loss (:meth:`models.loss.DBLoss.words`): a document crop's words are not
        what the word map is for, and teaching them would pull the shared neck towards cutting
        document lines."""
        per_crop = F.binary_cross_entropy_with_logits(word_logits, target, reduction="none").mean(dim=(1, 2, 3))
        keep = labelled.to(per_crop.dtype)
        return (per_crop * keep).sum() / keep.sum().clamp(min=1.0)

    def _evaluate_and_keep_best(self) -> None:
        t0 = time.time()
        self._emit({"type": "phase", "phase": "validate", "step": self.step,
                    "message": f"validating on {len(self.test_samples)} images"})
        metrics = self.evaluate()
        self._train_mode()
        improved = self.best_hmean is None or metrics["hmean"] > self.best_hmean
        if improved:
            self.best_hmean = metrics["hmean"]
            save_weights(self.model, self.workdir / "best.safetensors", self._meta())
        self._emit({"type": "eval", "epoch": self.epoch, "step": self.step, "seconds": round(time.time() - t0, 1),
                    "best": improved, **{k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}})
        if "per_source" in metrics:
            self._emit({"type": "log", "message": "validation per source: " + ", ".join(
                f"{name} {m['hmean']:.3f}" for name, m in metrics["per_source"].items())})



def limit_validation(sources: List[LoadedSource], eval_limit: int) -> List[LoadedSource]:
    """Keep the first ``eval_limit`` validation images of each source (0 = all), in place."""
    for ls in sources:
        if eval_limit and len(ls.val) > eval_limit:
            ls.val = ls.val[:eval_limit]
    return sources


def validation_sources(cfg: TrainConfig) -> List[LoadedSource]:
    """The sources of a run with exactly the validation images its evaluations scored
    (same split seed, same limit); the data folders are read again."""
    sources, seed = resolve_sources(cfg.data)
    return limit_validation(load_sources(sources, seed), cfg.eval_limit)


def saved_config(state: Dict[str, Any]) -> TrainConfig:
    """The settings a checkpoint was written with, whatever its layout (see
    :meth:`TrainConfig.from_dict`); defaults where it recorded none."""
    record = state.get("config") or {}
    try:
        return TrainConfig.from_dict(record)
    except (TypeError, ValueError) as exc:   # a record this version cannot validate: say so, go on
        log.warning("checkpoint settings not readable (%s); using the defaults for comparison", exc)
        return TrainConfig()
