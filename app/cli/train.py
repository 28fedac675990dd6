"""`python -m app train --data DIR`: train or fine-tune DBNet-R18 (ICDAR-2015 layout)."""
from __future__ import annotations

import argparse
import signal
import sys
import threading


def add_parser(sub: argparse._SubParsersAction) -> None:
    from models.train import TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="train / fine-tune the detector on an ICDAR-2015 folder",
                       description="Checkpoints go to WORKDIR/checkpoint.pt; best and last weights to "
                                   "WORKDIR/{best,last}.safetensors (usable with --weights).")
    p.add_argument("--data", required=True, action="append",
                   help="dataset folder (ICDAR 2015/2013 layout or a PaddleOCR label file), optionally DIR:WEIGHT; "
                        "repeat to mix sources, each batch drawn by weight; or a .toml mix file with held-out "
                        "validation counts (see models/data/mix.py)")
    p.add_argument("--workdir", default="", help="run folder (default workdirs/run_<time>)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=d.optimizer)
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0 = epochs)")
    p.add_argument("--input-size", type=int, default=d.input_size, help="training crop (multiple of 32)")
    p.add_argument("--init", dest="init_weights", help="start from these weights (fine-tune)")
    p.add_argument("--resume", action="store_true", help="continue WORKDIR/checkpoint.pt exactly")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                   help="auto: bf16 only on CPUs with native bf16 (else fp32), fp16 AMP on CUDA")
    p.add_argument("--freeze", type=int, choices=[0, 1, 2], default=d.freeze,
                   help="keep early parts fixed: 1 = stem, 2 = stem + layer1 (faster fine-tuning)")
    p.add_argument("--eval-every", type=int, default=d.eval_every,
                   help="validate every N steps (0 = after every epoch)")
    p.add_argument("--workers", type=int, default=d.workers, help="data loading processes")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--eval-limit", type=int, default=d.eval_limit)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from models.data.icdar import DatasetError
    from models.train import TrainConfig, Trainer

    cfg = TrainConfig(data=tuple(args.data), workdir=args.workdir, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, optimizer=args.optimizer, warmup_steps=args.warmup_steps,
                      max_steps=args.max_steps, input_size=args.input_size, init_weights=args.init_weights,
                      resume=args.resume, device=args.device, precision=args.precision, workers=args.workers,
                      checkpoint_every=args.checkpoint_every, eval_limit=args.eval_limit, seed=args.seed,
                      threads=args.threads, freeze=args.freeze, eval_every=args.eval_every)

    def progress(e: dict) -> None:
        if e["type"] == "step":
            print(f"epoch {e['epoch']} step {e['step']}/{e['total_steps']} loss {e['loss']:.4f} "
                  f"(prob {e['prob']:.4f} thresh {e['thresh']:.4f} binary {e['binary']:.4f}) "
                  f"lr {e['lr']:.2e} {e.get('images_per_s') or 0:.2f} img/s", flush=True)
        elif e["type"] == "eval":
            print(f"eval step {e['step']} epoch {e['epoch']}: precision {e['precision']:.4f} recall {e['recall']:.4f} "
                  f"hmean {e['hmean']:.4f}{' (best)' if e['best'] else ''}", flush=True)
        elif e["type"] in ("log", "done"):
            print(e.get("message") or {k: v for k, v in e.items() if k not in ("type", "time")}, flush=True)

    cancel = threading.Event()
    try:
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
