"""`python -m app train --data DIR`: train or fine-tune DBNet-R18 (ICDAR-2015 layout)."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .options import add_options, config_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    from models.train import TrainConfig

    p = sub.add_parser("train", help="train / fine-tune the detector on an ICDAR-2015 folder",
                       description="Checkpoints go to WORKDIR/checkpoint.pt; best and last weights to "
                                   "WORKDIR/{best,last}.safetensors (usable with --weights).")
    add_options(p, TrainConfig)
    p.set_defaults(run=run)


#: The fields of a step record that are not loss terms (the terms depend on what is trained).
STEP_FIELDS = frozenset({"type", "time", "epoch", "step", "total_steps", "lr", "images_per_s", "loss"})


def run(args: argparse.Namespace) -> int:
    from models.data.icdar import DatasetError
    from models.train import TrainConfig, Trainer

    def progress(e: dict) -> None:
        if e["type"] == "step":
            terms = " ".join(f"{k} {v:.4f}" for k, v in e.items() if k not in STEP_FIELDS)
            print(f"epoch {e['epoch']} step {e['step']}/{e['total_steps']} loss {e['loss']:.4f} ({terms}) "
                  f"lr {e['lr']:.2e} {e.get('images_per_s') or 0:.2f} img/s", flush=True)
        elif e["type"] == "eval":
            print(f"eval step {e['step']} epoch {e['epoch']}: precision {e['precision']:.4f} recall {e['recall']:.4f} "
                  f"hmean {e['hmean']:.4f}{' (best)' if e['best'] else ''}", flush=True)
        elif e["type"] in ("log", "done"):
            print(e.get("message") or {k: v for k, v in e.items() if k not in ("type", "time")}, flush=True)

    cancel = threading.Event()
    try:
        cfg = config_from_args(TrainConfig, args)
        trainer = Trainer(cfg, progress=progress, cancel=cancel)
    except (DatasetError, ValueError, FileNotFoundError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    _stop_on_signals(cancel)
    result = trainer.fit()
    print(f"weights: last {result.last_weights}, best {result.best_weights} (hmean {result.best_hmean})")
    return 130 if result.cancelled else 0


def _stop_on_signals(cancel: threading.Event) -> None:
    """SIGTERM (kill, stop scripts, spot-instance reclaim) and SIGINT (Ctrl-C, also when a
    background shell ignored it) finish the current step and save a checkpoint, so
    ``--resume`` loses nothing. A second signal stops at once."""
    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise SystemExit(130)
        print(f"{signal.Signals(signum).name}: saving a checkpoint after this step "
              f"(send it again to stop at once)", file=sys.stderr, flush=True)
        cancel.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
