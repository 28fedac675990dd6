"""Per-stage latency of one image: decode, preprocess, inference, post-process, total.

    python -m bench.latency [--images DIR] [--sizes 640,800,1024] [--backends torch,onnx]

Prints one row per backend / precision / input size (mean milliseconds per stage over
the images, peak RSS) and checks the detector-core targets: end to end within 10 % of
the raw forward time, and DB post-processing under 15 ms for an image with 200 boxes
(a micro-benchmark on a synthetic probability map, independent of the weights).
The measuring itself is app.measure.timing.measure_backend, shared with `python -m app bench`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from app.cli.options import add_options, config_from_args
from app.measure.bench_backends import BackendUnavailable, plan
from app.measure.bench_inputs import BenchConfig, bench_images, resolve_weights
from app.measure.hardware import describe, hardware_info
from app.measure.tables import markdown_table, text_table
from app.measure.timing import BenchRow, measure_backend
from models.backends.device import pick_device
from models.postprocess import DBPostProcess
from models.preprocess import ResizeInfo

OVERHEAD_TARGET = 0.10      # end to end may exceed the forward pass by at most 10 %
POSTPROCESS_TARGET_MS = 15.0
HEADERS = ("backend", "precision", "size", "input", "decode ms", "preprocess ms", "inference ms",
           "post-process ms", "total ms", "overhead", "peak RSS MB")


@dataclass(frozen=True)
class PostprocessBench:
    boxes_drawn: int
    boxes_found: int
    map_shape: Tuple[int, int]
    mean_ms: float
    p90_ms: float

    @property
    def ok(self) -> bool:
        return self.p90_ms < POSTPROCESS_TARGET_MS

    def line(self) -> str:
        verdict = "OK" if self.ok else "OVER TARGET"
        return (f"post-processing, {self.boxes_drawn} text lines on a {self.map_shape[0]}x{self.map_shape[1]} "
                f"probability map: mean {self.mean_ms:.2f} ms, p90 {self.p90_ms:.2f} ms, "
                f"{self.boxes_found} boxes found (target < {POSTPROCESS_TARGET_MS:g} ms: {verdict})")


def synthetic_probability_map(rows: int = 20, cols: int = 10, shape: Tuple[int, int] = (960, 960),
                              seed: int = 0) -> np.ndarray:
    """``rows x cols`` text-line blobs with soft edges, as a trained network outputs them."""
    rng = np.random.default_rng(seed)
    h, w = shape
    prob = rng.uniform(0.0, 0.05, size=shape).astype(np.float32)
    cell_h, cell_w = h // rows, w // cols
    for r in range(rows):
        for c in range(cols):
            bw, bh = int(cell_w * rng.uniform(0.5, 0.8)), int(cell_h * rng.uniform(0.3, 0.5))
            x, y = c * cell_w + (cell_w - bw) // 2, r * cell_h + (cell_h - bh) // 2
            prob[y:y + bh, x:x + bw] = rng.uniform(0.8, 0.98)
    return cv2.GaussianBlur(prob, (5, 5), 1.0)


def bench_postprocess(repeats: int = 50) -> PostprocessBench:
    prob = synthetic_probability_map()
    h, w = prob.shape
    info = ResizeInfo(h, w, h, w, h, w)
    post = DBPostProcess()
    found = len(post(prob, info).quads)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        post(prob, info)
        times.append((time.perf_counter() - t0) * 1000.0)
    return PostprocessBench(200, found, (h, w), float(np.mean(times)), float(np.percentile(times, 90)))


def latency_rows(rows: Sequence[BenchRow]) -> List[list]:
    out = []
    for r in rows:
        s = r.stages_ms
        overhead = s["total"] / s["inference"] - 1.0
        mark = "ok" if overhead <= OVERHEAD_TARGET else "over"
        out.append([r.backend, r.precision, r.size, r.input_shape, s["decode"], s["preprocess"], s["inference"],
                    s["postprocess"], s["total"], f"{overhead * 100:+.1f} % {mark}", round(r.peak_rss_mb)])
    return out


LATENCY_DEFAULTS = BenchConfig(synthetic_images=3)
FIELDS = ["images", "synthetic_images", "sizes", "backends", "onnx_precisions", "repeats", "warmup", "weights",
          "device"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(p, BenchConfig, FIELDS, base=LATENCY_DEFAULTS)
    p.add_argument("--markdown", help="also write the report as Markdown to this file")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = config_from_args(BenchConfig, args, LATENCY_DEFAULTS)
    device = pick_device(cfg.device)
    say = lambda m: print(m, file=sys.stderr, flush=True)
    rows: List[BenchRow] = []
    skipped: List[str] = []
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        workdir = Path(tmp)
        paths, images_note = bench_images(cfg, workdir, say)
        weights = resolve_weights(cfg.weights, workdir)
        for backend, precision in plan(cfg.backends, cfg.onnx_precisions, device):
            try:
                measured = measure_backend(backend, precision, weights.path, device, workdir, paths,
                                           cfg.sizes, cfg.repeats, cfg.warmup)
            except BackendUnavailable as exc:
                skipped.append(f"{backend} {precision}: {exc}")
                continue
            for row in measured:
                say(f"{backend} {precision} {row.size}: total {row.stages_ms['total']:.1f} ms")
            rows += measured
    post = bench_postprocess()
    hw = hardware_info()
    head = [f"hardware: {describe(hw)}", f"load average at start (1/5/15 min): {hw['load_average']}",
            f"images: {images_note}", weights.note,
            "overhead = end to end vs the forward pass alone (target <= +10 %)"]
    tail = [f"skipped: {s}" for s in skipped] + [post.line()]
    print("\n".join(head + ["", text_table(HEADERS, latency_rows(rows)), ""] + tail))
    if args.markdown:
        md = "\n".join([f"- {h}" for h in head] + ["", markdown_table(HEADERS, latency_rows(rows)), ""]
                       + [f"- {t}" for t in tail]) + "\n"
        Path(args.markdown).write_text(md, encoding="utf-8")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
