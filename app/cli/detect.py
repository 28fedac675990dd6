"""`python -m app detect INPUT --output DIR`: files or folders to JSON, pictures and ICDAR txt."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from app.io.engine import EngineConfig
from models.image_types import IMAGE_EXTS

from .common import (
    add_detector_options,
    add_recognizer_options,
    detector_config_from_args,
    detector_from_args,
    recognizer_from_args,
)
from .options import add_options, config_from_args, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="detect text in an image file or a folder (recursive)",
                       description="Writes DIR/json/<stem>.json, DIR/visualization/<stem>.jpg and "
                                   "DIR/icdar/res_<stem>.txt. Re-running on the same DIR skips done images.")
    p.add_argument("input", help="an image file or a folder of images (searched recursively)")
    p.add_argument("--output", "-o", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="redo images already done with the same model and settings (other settings redo them anyway)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_detector_options(p)
    add_recognizer_options(p)
    add_options(p, EngineConfig, title="engine (where the folder job runs; see README 'Scale-out on Ray')")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.io.batch import FolderBusyError, run_batch
    from app.io.outputs import collect_images

    root = Path(args.input)
    try:
        files = collect_images(root)
    except FileNotFoundError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    if not files:
        print(f"ERROR: no images found in {root} (extensions: {', '.join(e.lstrip('.') for e in IMAGE_EXTS)})",
              file=sys.stderr)
        return 2
    try:
        engine = config_from_args(EngineConfig, args)
    except ValueError as exc:
        return fail(exc)
    if engine.engine != "local" and args.recognize:
        return fail(ValueError(f"--recognize runs with the local engine only (--engine {engine.engine} "
                               "only detects; recognise the folder afterwards with --engine local)"))
    if engine.engine == "gpu" and args.backend not in ("auto", "torch"):
        return fail(ValueError(f"--engine gpu runs the PyTorch network on the GPU, not --backend {args.backend}"))
    try:   # the recogniser first: a missing model stops before the detector's slower start
        recognizer = recognizer_from_args(args)
    except (ValueError, FileNotFoundError) as exc:   # RecognitionModelMissing, OnnxModelError too
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    detector = None
    if engine.engine in ("local", "gpu"):   # the local engine exactly as before; Ray builds it on the workers
        if engine.engine == "gpu":
            args.backend = "torch"
        detector = detector_from_args(args)
        if detector is None:
            return 2
        if engine.engine == "gpu" and not detector.device.startswith("cuda"):
            print("WARNING: --engine gpu on a CPU works but is slower than the local engine "
                  "(which runs the int8 model there)", file=sys.stderr)
    out_dir = Path(args.output)
    bar = tqdm(total=len(files), unit="img", disable=args.no_progress, file=sys.stderr)

    def progress(done: int, total: int, record: dict) -> None:
        bar.n = done
        bar.set_postfix_str(f"boxes={len(record.get('boxes', []))}" if record.get("success") else "FAILED")
        bar.refresh()
        if not record.get("success"):
            tqdm.write(f"failed: {record.get('error')}", file=sys.stderr)

    bar.n = 0
    try:
        if detector is None:
            report = _run_on_ray(args, engine, files, root, out_dir, progress)
        elif engine.engine == "gpu":
            report, stats = _run_on_gpu_stream(args, engine, detector, files, root, out_dir, progress)
        else:
            report = run_batch(detector, files, root, out_dir, overwrite=args.overwrite, progress=progress,
                               recognizer=recognizer)
    except FolderBusyError as exc:
        bar.close()
        return fail(exc)
    except (ValueError, RuntimeError) as exc:   # RayEngineError is a RuntimeError; the gpu engine's too
        if engine.engine == "local":
            raise
        bar.close()
        return fail(exc)
    bar.n = len(files) if not report.cancelled else bar.n
    bar.close()
    s = report.summary
    folder = s["folder"]
    redone = f"  redone (new model or settings): {s['redone']}" if s["redone"] else ""
    print(f"images: {s['total']}  processed: {s['images']}  skipped (already done): {s['skipped']}{redone}  "
          f"boxes: {folder['boxes']}  failures: {folder['failed']}  mean seconds/image: {folder['mean_seconds']:.3f}")
    if "engine" in s:
        _print_ray_summary(s["engine"])
    if engine.engine == "gpu":
        _print_stream_summary(stats)
    print(f"results in {out_dir}")
    if report.cancelled:       # Ctrl-C on the Ray driver: what was written stays, a rerun resumes
        print("interrupted", file=sys.stderr)
        return 130
    return 1 if folder["failed"] else 0


def _run_on_ray(args: argparse.Namespace, engine: EngineConfig, files, root: Path, out_dir: Path, progress):
    """The folder on Ray (:mod:`app.io.ray_engine`); the detector is built on the workers."""
    from app.io.ray_engine import detector_spec, import_ray, run_ray_batch

    import_ray()     # the one-line install hint before any other work
    spec = detector_spec(detector_config_from_args(args), args.weights, args.device, args.backend, args.model,
                         engine)
    return run_ray_batch(spec, engine, files, root, out_dir, overwrite=args.overwrite, progress=progress,
                         on_ready=lambda probe: tqdm.write(f"backend on the workers: {probe['backend']}",
                                                           file=sys.stderr))


def _run_on_gpu_stream(args: argparse.Namespace, engine: EngineConfig, detector, files, root: Path,
                       out_dir: Path, progress):
    """The folder through :class:`models.gpu_stream.GpuStream`; its post-processing processes
    write each image's files (pictures at least 640 px long, drawn on a reduced decode)."""
    from app.io.batch import run_batch
    from models.gpu_stream import GpuStream

    with GpuStream(detector, batch_size=engine.gpu_batch_size, post_workers=engine.post_processes or None) as stream:
        report = run_batch(detector, files, root, out_dir, overwrite=args.overwrite, progress=progress,
                           runner=stream)
        return report, stream.stats


def _print_stream_summary(st) -> None:
    rate = st.images / st.seconds if st.seconds else 0.0
    memory = ("shared memory, pinned" if st.pinned else "shared memory") if st.shared_memory else "pipes"
    print(f"gpu stream: {st.images} images in {st.seconds:.1f} s ({rate:.1f} images/s); decoded on the GPU "
          f"{st.gpu_decoded}, on the CPU {st.cpu_decoded}; maps through {memory}")


def _print_ray_summary(e: dict) -> None:
    print(f"ray ({e['address']}, {e['num_workers']} workers): {e['wall_seconds']:.1f} s, "
          f"{e['images_per_second']:.2f} images/s")
    for w in e["workers"]:
        print(f"  worker {w['worker']}: images {w['images']}  boxes {w['boxes']}  failures {w['failures']}  "
              f"{w['images_per_second']:.2f} images/s while busy")
