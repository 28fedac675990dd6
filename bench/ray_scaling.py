"""Folder throughput of the local engine vs Ray at 1, 2, ... workers on this machine.

    python -m bench.ray_scaling [--images DIR] [--count 24] [--workers 1,2] [--price-per-hour 0.5]

Each configuration runs the real command (``python -m app detect DIR --output OUT
[--engine ray --num-workers N]``) in a fresh process, twice: over ``count`` images and over
``2 * count``. The difference gives the steady rate (images/s once running) and the fixed
start-up cost (Python, Ray, the actors, the model); both matter for the cost of a job:
``seconds(n) = startup + n / rate``. Pause other load on the machine while measuring.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence

from app.measure.bench_inputs import synthetic_pages
from app.measure.hardware import describe, hardware_info
from app.measure.tables import markdown_table, text_table
from models.image_types import collect_images

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ("engine", "workers", "wall s (n)", "wall s (2n)", "startup s", "steady img/s", "vs local",
           "s per 1000 img", "cost per 1000 img")


def _images(src: Path | None, count: int, work: Path) -> List[Path]:
    """``2 * count`` image files (rendered pages by default; copies when there are too few)."""
    if src is not None:
        found = collect_images(src)
        if not found:
            raise FileNotFoundError(f"{src}: no images")
    else:
        found = synthetic_pages(work / "pages", min(count, 8))
    out = []
    for i in range(2 * count):
        f = found[i % len(found)]
        dst = work / "all" / f"{i:04d}{f.suffix.lower()}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst)
        out.append(dst)
    return out


def _folder(files: Sequence[Path], dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in files:
        (dst / f.name).symlink_to(f)
    return dst


def _run(folder: Path, out: Path, extra: Sequence[str]) -> Dict[str, object]:
    """One fresh ``python -m app detect`` over ``folder``; wall seconds and its summary."""
    cmd = [sys.executable, "-m", "app", "detect", str(folder), "--output", str(out), "--no-progress", *extra]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()[-800:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {"wall": wall, "summary": summary, "stdout": res.stdout}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, help="folder of your images (default: rendered document pages)")
    ap.add_argument("--count", type=int, default=24, help="n: images of the short run (the long one has 2n)")
    ap.add_argument("--workers", default="1,2", help="Ray worker counts, comma-separated")
    ap.add_argument("--price-per-hour", type=float, default=0.5, help="machine price (an assumption; pass yours)")
    ap.add_argument("--currency", default="USD")
    ap.add_argument("--output", type=Path, help="also write the table here (Markdown) and JSON beside it")
    ap.add_argument("detect_args", nargs="*", help="after --: options for `app detect` (e.g. --backend torch)")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    with tempfile.TemporaryDirectory(prefix="ray-scaling-") as tmp:
        work = Path(tmp)
        files = _images(args.images, args.count, work)
        small, large = _folder(files[: args.count], work / "n"), _folder(files, work / "2n")
        configs = [("local", 0, [])] + [("ray", n, ["--engine", "ray", "--num-workers", str(n)]) for n in workers]
        rows, raw = [], []
        local_rate = None
        for name, n, extra in configs:
            extra = [*extra, *args.detect_args]
            print(f"measuring {name}{f' x{n}' if n else ''} ...", file=sys.stderr, flush=True)
            a = _run(small, work / f"out_{name}{n}_n", extra)
            b = _run(large, work / f"out_{name}{n}_2n", extra)
            delta = b["wall"] - a["wall"]
            rate = args.count / delta if delta > 0 else float("nan")
            startup = max(0.0, a["wall"] - args.count / rate) if delta > 0 else float("nan")
            local_rate = rate if name == "local" else local_rate
            per_1000 = startup + 1000 / rate
            cost = args.price_per_hour * per_1000 / 3600
            rows.append([name, n or "-", round(a["wall"], 1), round(b["wall"], 1), round(startup, 1), round(rate, 2),
                         f"{rate / local_rate:.2f}x" if local_rate else "-", round(per_1000, 0),
                         f"{cost:.4f} {args.currency}"])
            raw.append({"engine": name, "workers": n, "wall_n": a["wall"], "wall_2n": b["wall"], "startup_s": startup,
                        "steady_images_per_s": rate, "seconds_per_1000": per_1000, "cost_per_1000": cost,
                        "ray": b["summary"].get("engine")})
    hw = describe(hardware_info())
    print(f"\n{hw}; n = {args.count} images; price {args.price_per_hour} {args.currency}/hour (assumed)")
    print(text_table(HEADERS, rows))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown_table(HEADERS, rows) + "\n")
        args.output.with_suffix(".json").write_text(json.dumps({"hardware": hw, "rows": raw}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
