"""Training data loading: what a sample costs and what a loader delivers (what bounds a GPU run).

    .venv/bin/python -m bench.data_loading [--data scripts/mixes/release2.toml] [--size 640] [--workers 2]

Takes ``--per-source`` training images of every source of the mix (seeded), then prints the
milliseconds per sample (read, augment, DB target maps) in this process, the bytes each
sample carries through the worker queue and the collate, and the images per second of a
``DataLoader`` with ``--workers`` workers and batch ``--batch`` (after one warm-up batch).
Pause background jobs while measuring.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from torch.utils.data import DataLoader

from models.data.augment import AugmentConfig
from models.data.dataset import DetectionDataset
from models.data.mix import load_sources, resolve_sources
from models.train import _collate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="scripts/mixes/release2.toml")
    ap.add_argument("--size", type=int, default=640, help="square crop in pixels")
    ap.add_argument("--per-source", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batches", type=int, default=9)
    args = ap.parse_args()
    sources, seed = resolve_sources([args.data])
    rng = np.random.default_rng(0)
    picked = []
    for ls in load_sources(sources, seed):
        picked += [ls.train[i] for i in rng.choice(len(ls.train), min(args.per_source, len(ls.train)), replace=False)]
    ds = DetectionDataset(picked, AugmentConfig(size=args.size), seed=1)
    ds[0]
    t0 = time.perf_counter()
    for i in range(len(ds)):
        sample = ds[i]
    per_sample = (time.perf_counter() - t0) / len(ds)
    nbytes = sum(v.element_size() * v.nelement() for v in sample.values())
    pool = [picked[i % len(picked)] for i in range(args.batch * args.batches)]
    loader = DataLoader(DetectionDataset(pool, AugmentConfig(size=args.size), seed=1), batch_size=args.batch,
                        num_workers=args.workers, collate_fn=_collate, prefetch_factor=4 if args.workers else None)
    batches = iter(loader)
    next(batches)
    t0, n = time.perf_counter(), 0
    for batch in batches:
        n += len(batch["image"])
    rate = n / (time.perf_counter() - t0)
    print(f"| crop | samples | ms per sample | MB per sample | loader img/s ({args.workers} workers, batch {args.batch}) |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {args.size} | {len(ds)} | {per_sample * 1000:.1f} | {nbytes / 1e6:.2f} | {rate:.1f} |")


if __name__ == "__main__":
    main()
