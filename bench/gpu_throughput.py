"""GPU throughput and memory of the served DBNet-R18 (issue #12.6). Needs CUDA; never a test.

    python -m bench.gpu_throughput [--weights W] [--height 736 --width 1280] \\
        [--batches 1,8,16,32,64] [--images DIR --limit 512]

Three tables, each printed as markdown:

* ``forward``: the network alone on a prepared fp16 batch already on the GPU (channels-last),
  eager and replayed from a CUDA graph, images/s as the median over ``--runs`` timed runs
  after warm-up, and the peak GPU memory allocated by that batch size (``torch.cuda``'s own
  counter, reset before each size). 736 x 1280 is the padded size of a 1280 x 720 photo
  at the default size policy.
* ``forward + copy``: the same with the probability map copied back to the host as float32,
  which is what the detector needs for DB post-processing.
* ``end to end``: ``TextDetector(device="cuda").detect_many`` over the files of ``--images``
  (decode, resize, batching of equal shapes, forward, DB post-processing on CPU threads),
  with the backend's batch size set per row: what a user's folder run gets.
* ``stream``: the same files through :class:`models.gpu_stream.GpuStream` (nvJPEG decode,
  resizing on the device, compact maps, post-processing in a process per core), per batch
  size, with and without nvJPEG; ``--repeat`` cycles a small folder to ``--limit`` files
  (the page cache holds them either way: the disk is not what is measured).
* ``quality`` (with ``--labelled DIR``, an ICDAR layout): hmean of both paths on the same
  labelled images, so that the stream's speed is not bought with boxes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Callable, List, Sequence

import torch

from app.measure.tables import markdown_table
from models.detector import TextDetector
from models.evaluation import evaluate_detector, find_labelled, summarize
from models.gpu_stream import GpuStream
from models.image_types import collect_images
from models.weights import load_model


def _timed(fn: Callable[[], None], runs: int, warmup: int) -> List[float]:
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times


def forward_rows(weights: str | None, batches: Sequence[int], height: int, width: int,
                 runs: int, warmup: int) -> List[List[str]]:
    """Eager vs CUDA-graph forward throughput and peak memory per batch size."""
    net, _ = load_model(weights)
    net = net.cuda().eval().half().to(memory_format=torch.channels_last)
    rows = []
    for b in batches:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        x = torch.randn(b, 3, height, width, device="cuda").half().contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            eager = _timed(lambda x=x: net(x), runs, warmup)
            peak_mb = torch.cuda.max_memory_allocated() / 2**20
            copy = _timed(lambda x=x: net(x)[:, 0].float().cpu(), runs, warmup)
        graph_ips = "n/a"
        try:
            static_x = x.clone()
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream), torch.inference_mode():
                for _ in range(3):
                    net(static_x)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph), torch.inference_mode():
                net(static_x)
            graph_ips = f"{b / statistics.median(_timed(graph.replay, runs, warmup)):.0f}"
            del graph
        except RuntimeError as exc:  # a graph that cannot be captured is a finding, not a crash
            graph_ips = f"failed: {exc}"[:40]
        rows.append([str(b), f"{b / statistics.median(eager):.0f}", graph_ips,
                     f"{b / statistics.median(copy):.0f}", f"{peak_mb:.0f}"])
        print(f"batch {b}: {rows[-1]}", flush=True)
    return rows


def bench_files(folder: Path, limit: int, repeat: bool) -> List[Path]:
    """The first ``limit`` images of ``folder``; with ``repeat``, the list cycled up to ``limit``."""
    files = collect_images(folder)
    if not files:
        raise SystemExit(f"no images under {folder}")
    if repeat and len(files) < limit:
        files = [files[i % len(files)] for i in range(limit)]
    return files[:limit]


def end_to_end_rows(weights: str | None, files: Sequence[Path], batches: Sequence[int],
                    device: str = "cuda") -> List[List[str]]:
    """Folder throughput of the detector's own pipeline on CUDA, per backend batch size."""
    det = TextDetector(weights=weights, device=device, backend="torch")
    rows = []
    for b in batches:
        det.backend.max_batch = b
        list(det.detect_many(files[: 2 * b]))       # warm-up: cuDNN picks its kernels per shape
        t0 = time.perf_counter()
        results = list(det.detect_many(files))
        dt = time.perf_counter() - t0
        boxes = sum(len(r.boxes) for r in results if r.success)
        rows.append([str(b), str(len(files)), f"{len(files) / dt:.1f}", str(boxes)])
        print(f"end to end batch {b}: {rows[-1]}", flush=True)
    return rows


def stream_rows(weights: str | None, files: Sequence[Path], batches: Sequence[int], workers: int | None,
                gpu_decode: Sequence[bool], device: str = "cuda") -> List[List[str]]:
    """End-to-end throughput of :class:`GpuStream`: start-up once, a warm-up pass, then the files."""
    det = TextDetector(weights=weights, device=device, backend="torch")
    rows = []
    for nvjpeg in gpu_decode:
        for b in batches:
            t0 = time.perf_counter()
            with GpuStream(det, batch_size=b, post_workers=workers, gpu_decode=nvjpeg) as stream:
                start_s = time.perf_counter() - t0
                list(stream.detect_files(files[: 4 * b]))     # cuDNN's kernels, the workers' first imports
                t0 = time.perf_counter()
                results = list(stream.detect_files(files))
                dt = time.perf_counter() - t0
                st = stream.stats
            boxes = sum(len(r.boxes) for r in results if r.success)
            stages = ", ".join(f"{k} {v / dt * 100:.0f}%" for k, v in st.stages.items())
            rows.append([str(b), "nvJPEG" if st.gpu_decoded else "CPU", str(stream.post_workers), str(len(files)),
                         f"{len(files) / dt:.1f}", f"{start_s:.1f}", str(boxes), str(st.failed),
                         ("yes, pinned" if st.pinned else "yes") if st.shared_memory else "no", stages])
            print(f"stream batch {b}: {rows[-1]}", flush=True)
    return rows


def quality_rows(weights: str | None, root: Path, device: str = "cuda") -> List[List[str]]:
    """hmean of ``detect_many`` and of the stream on the labelled images under ``root``."""
    labelled, _ = find_labelled(root)
    det = TextDetector(weights=weights, device=device, backend="torch")
    rows = []
    with GpuStream(det) as stream:
        for label, runner in (("detect_many (CPU decode, threads)", det), ("GpuStream", stream)):
            s = summarize(evaluate_detector(runner, labelled))["all"]
            rows.append([label, str(len(labelled)), f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['hmean']:.4f}"])
            print(f"quality {label}: {rows[-1]}", flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="safetensors file (default: the released weights)")
    ap.add_argument("--height", type=int, default=736)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--batches", default="1,8,16,32,64")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--images", type=Path, default=None, help="folder for the end-to-end table")
    ap.add_argument("--limit", type=int, default=512)
    ap.add_argument("--e2e-batches", default="8,32")
    ap.add_argument("--e2e-limit", type=int, default=512, help="files for the detect_many rows (the slow path)")
    ap.add_argument("--repeat", action="store_true", help="cycle the folder's images up to --limit files")
    ap.add_argument("--stream-batches", default="32,64", help="GpuStream batch sizes ('' skips the stream table)")
    ap.add_argument("--stream-workers", type=int, default=None, help="post-processing processes (default: cores - 2)")
    ap.add_argument("--stream-cpu-decode", action="store_true", help="also a stream row without nvJPEG")
    ap.add_argument("--labelled", type=Path, default=None, help="ICDAR-layout folder: hmean of both paths")
    ap.add_argument("--device", default="cuda", help="'cpu' dry-runs the stream, quality and end-to-end "
                    "tables (slowly) to check a command before a GPU lease; the forward table needs CUDA")
    args = ap.parse_args(argv)
    dev = args.device
    if dev == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench.gpu_throughput needs a CUDA GPU (or --device cpu for a dry run)")
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name() if dev == "cuda" else "CPU (dry run)"
    print(f"{name} | torch {torch.__version__} | {os.cpu_count()} CPU threads | "
          f"input {args.height}x{args.width} fp16 channels-last", flush=True)
    batches = [int(b) for b in args.batches.split(",")] if args.batches else []
    if batches and dev == "cuda":
        print(markdown_table(("batch", "eager img/s", "CUDA graph img/s", "eager + copy to host img/s", "peak GPU MB"),
                             forward_rows(args.weights, batches, args.height, args.width, args.runs, args.warmup)))
    if args.labelled:
        print(markdown_table(("path", "images", "precision", "recall", "hmean"), quality_rows(args.weights, args.labelled, dev)))
    if args.images:
        files = bench_files(args.images, args.limit, args.repeat)
        if args.stream_batches:
            sb = [int(b) for b in args.stream_batches.split(",")]
            decode = [True, False] if args.stream_cpu_decode else [True]
            print(markdown_table(("batch", "decode", "post processes", "images", "end-to-end img/s", "start-up s",
                                  "boxes", "failed", "shared memory", "main thread by stage"),
                                 stream_rows(args.weights, files, sb, args.stream_workers, decode, dev)))
        if args.e2e_batches:
            e2e = [int(b) for b in args.e2e_batches.split(",")]
            print(markdown_table(("batch", "images", "end-to-end img/s", "boxes"),
                                 end_to_end_rows(args.weights, files[:args.e2e_limit], e2e, dev)))


if __name__ == "__main__":
    main()
