"""Speed, memory and cost of the detector on the user's own machine (`python -m app bench`).

The seed article sells cost with tables of seconds per image and memory per card; this
module measures the same quantities here, per backend, precision and input size limit:
end-to-end seconds per image (decode from file to boxes; mean and p90), images per
second single-stream and pipelined/batched (``detect_many``), peak RSS and GPU memory,
and cost per 1000 images at the user's price per hour.

The pieces: :mod:`.bench_inputs` (settings, images, weights), :mod:`.bench_backends`
(what runs), :mod:`.timing` (measuring one detector); this module runs them all and
writes the report. ``bench/latency.py`` reuses them for its per-stage table.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from models.backends.device import pick_device

from .bench_backends import BackendUnavailable, plan
from .bench_inputs import BenchConfig, LogFn, WeightsChoice, bench_images, resolve_weights
from .hardware import describe, hardware_info
from .tables import markdown_table, text_table, write_report_files
from .timing import BenchRow, cost_per_1000, measure_backend


@dataclass
class BenchReport:
    config: BenchConfig
    hardware: Dict[str, Any]
    weights: WeightsChoice
    images_note: str
    rows: List[BenchRow] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    command: str = ""
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    def headers(self) -> Tuple[str, ...]:
        cost = f"cost/1000 img ({self.config.currency})"
        return ("backend", "device", "precision", "size", "input", "mean s/img", "p90 s/img",
                "img/s single", "img/s batched", "batch", "peak RSS MB", "peak GPU MB", "img/hour", cost)

    def table_rows(self) -> List[List[Any]]:
        return [[r.backend, r.device, r.precision, r.size, r.input_shape, r.mean_s, r.p90_s,
                 r.single_ips, r.batched_ips, r.batch, round(r.peak_rss_mb),
                 None if r.peak_gpu_mb is None else round(r.peak_gpu_mb), round(r.images_per_hour),
                 None if r.cost_per_1000 is None else round(r.cost_per_1000, 4)] for r in self.rows]

    def _price_line(self) -> str:
        if self.config.price_per_hour is None:
            return "price: not given (add --price-per-hour P --currency C for the cost column)"
        return (f"price: {self.config.price_per_hour:g} {self.config.currency}/hour; cost per 1000 images "
                f"assumes the machine is kept busy at the batched rate")

    def text(self) -> str:
        lines = [f"hardware: {describe(self.hardware)}", f"images: {self.images_note}",
                 self.weights.note, self._price_line(), "", text_table(self.headers(), self.table_rows())]
        return "\n".join(lines + [f"skipped: {s}" for s in self.skipped])

    def markdown(self) -> str:
        hw = self.hardware
        lines = ["# Detector benchmark", "",
                 f"- Hardware: {describe(hw)}",
                 f"- Software: torch {hw['torch']}, onnxruntime {hw['onnxruntime']}, Python {hw['python']}, {hw['os']}",
                 f"- Load average at start (1/5/15 min): {hw['load_average']}",
                 f"- Images: {self.images_note}", f"- {self.weights.note[0].upper()}{self.weights.note[1:]}",
                 f"- {self._price_line()[0].upper()}{self._price_line()[1:]}"]
        if self.command:
            lines.append(f"- Command: `{self.command}`")
        lines += [f"- Date: {self.created}", "",
                 "Size = long-side limit in pixels; input = padded network input; end to end = file to boxes "
                 "(decode, resize, forward, post-processing); batched = `detect_many` (pipelined decode/"
                 "post-processing, batches of `batch` on GPU); peak RSS = the whole process measuring "
                 "that backend (a fresh one per backend), model and runtime included.", "",
                 markdown_table(self.headers(), self.table_rows())]
        if self.skipped:
            lines += [""] + [f"- Skipped: {s}" for s in self.skipped]
        return "\n".join(lines) + "\n"

    def to_json(self) -> Dict[str, Any]:
        cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.config).items()}
        return {"created": self.created, "command": self.command, "config": cfg, "hardware": self.hardware,
                "weights": {"path": str(self.weights.path), "random": self.weights.random, "note": self.weights.note},
                "images": self.images_note, "skipped": self.skipped,
                "rows": [dict(asdict(r), images_per_hour=r.images_per_hour) for r in self.rows]}

    @property
    def ok(self) -> bool:
        """At least one configuration was measured."""
        return bool(self.rows)

    def write(self, out_dir: Path, name: str = "bench") -> Tuple[Path, Path]:
        return write_report_files(out_dir, name, self.to_json(), self.markdown())


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_bench(cfg: BenchConfig, workdir: Path, command: str = "", say: LogFn = _stderr) -> BenchReport:
    """Measure every (backend, precision, size) of ``cfg``; unavailable backends are skipped with a reason."""
    device = pick_device(cfg.device)
    paths, images_note = bench_images(cfg, workdir, say)
    weights = resolve_weights(cfg.weights, workdir)
    if weights.random:
        say(f"NOTE: {weights.note}")
    report = BenchReport(cfg, hardware_info(), weights, images_note, command=command)
    for backend, precision in plan(cfg.backends, cfg.onnx_precisions, device):
        try:
            rows = measure_backend(backend, precision, weights.path, device, workdir, paths, cfg.sizes,
                                   cfg.repeats, cfg.warmup, cfg.isolate)
        except BackendUnavailable as exc:
            report.skipped.append(f"{backend} {precision}: {exc}")
            say(f"skipped {backend} {precision}: {exc}")
            continue
        for row in rows:
            row.cost_per_1000 = cost_per_1000(row.batched_ips, cfg.price_per_hour)
            say(f"{backend} {precision} {row.size}: {row.mean_s:.3f} s/img, {row.batched_ips:.2f} img/s batched, "
                f"peak RSS {row.peak_rss_mb:.0f} MB")
        report.rows += rows
    return report
