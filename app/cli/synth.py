"""`python -m app synth --count N --output DIR`: render a training set in the ICDAR-2015 layout."""
from __future__ import annotations

import argparse
import sys
import time

from tqdm import tqdm


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="render synthetic training images (ICDAR-2015 layout)",
                       description="Deterministic for a given --seed; images already present are kept.")
    p.add_argument("--count", type=int, required=True, help="images to render")
    p.add_argument("--output", "-o", required=True, help="dataset folder")
    p.add_argument("--split", default="train", choices=["train", "test"], help="which split to write")
    p.add_argument("--seed", type=int, default=0, help="render seed (use another one for validation sets)")
    p.add_argument("--start", type=int, default=0, help="index of the first image (to extend a set)")
    p.add_argument("--workers", type=int, default=1, help="parallel render processes")
    p.add_argument("--mix", default="",
                   help="category weights, e.g. receipt=2,scene=1 (default: built-in mix); html and pdf add pages "
                        "rendered by headless Chromium and poppler from installed PDF manuals (see README)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from models.synth.types import CATEGORIES, SynthConfig
    from models.synth.writer import write_dataset

    if args.count < 1:
        print("ERROR: --count must be at least 1", file=sys.stderr)
        return 2
    cfg = SynthConfig(seed=args.seed)
    if args.mix:
        try:
            mix = tuple((k.strip(), float(v)) for k, v in (part.split("=") for part in args.mix.split(",")))
        except ValueError:
            print(f"ERROR: --mix must look like receipt=2,scene=1 (got {args.mix!r})", file=sys.stderr)
            return 2
        bad = [k for k, _ in mix if k not in CATEGORIES]
        if bad:
            print(f"ERROR: unknown categories {bad}; choose from {', '.join(CATEGORIES)}", file=sys.stderr)
            return 2
        cfg = SynthConfig(seed=args.seed, mix=mix)
    from models.synth.layout_boxes import EngineUnavailable

    try:
        check_engines((name for name, weight in cfg.mix if weight > 0), keep=args.workers <= 1)
    except EngineUnavailable as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    bar = tqdm(total=args.count, unit="img", file=sys.stderr)
    t0 = time.time()

    def progress(done: int, total: int, name: str) -> None:
        bar.update(done - bar.n)

    try:
        cats = write_dataset(args.output, args.count, cfg, args.split, args.workers, start=args.start, progress=progress)
    except EngineUnavailable as exc:
        bar.close()
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    bar.close()
    dt = time.time() - t0
    print(f"rendered {args.count} images into {args.output} ({args.split}) in {dt:.1f} s "
          f"({args.count / dt:.1f} images/s); categories: {cats}")
    return 0


def check_engines(categories, keep: bool = True) -> None:
    """Fail early, with what to install, when a category's layout engine is missing.

    ``keep``: leave the browser started by the check running (the writer renders in this
    process); otherwise close it (each worker process starts its own)."""
    categories = set(categories)
    if "html" in categories:
        from models.synth.html.browser import check_available, close_engine

        check_available()
        if not keep:
            close_engine()
    if "pdf" in categories:
        from models.synth.pdf import check_available

        check_available()
