"""The folder job on a Ray cluster: Ray Data hands the image list to a pool of actors,
each holding one :class:`TextDetector`, and each actor writes its results itself.

Why this shape: the output files are written where the detection ran, through the same
:class:`ResultWriter` as the local engine (atomic files, JSON last), into an output folder
every node sees (shared storage), so only a small JSON record travels back to the driver,
and a driver or worker killed at any moment loses nothing already written. The driver
keeps the local engine's other duties: the folder lock, the resume plan (same rule:
:func:`app.io.batch.plan_batch`), ``manifest.json``, progress and ``summary.json``.

The model id the resume rule compares is the one the *workers* load (with ``--backend
auto`` their device and cache decide it), so the driver asks one worker-shaped task first
(:func:`_probe`) instead of loading the model itself; with ``--backend torch`` the id is
the weights file's hash whatever the device, and the driver reads it (a worker start saved).
"""
from __future__ import annotations

import json
import logging
import math
import os
import socket
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from models import DetectorConfig, TextDetector
from models.files import atomic_write_text
from models.progress import ProgressFn
from models.weights import DEFAULT_WEIGHTS, weights_id

from .batch import BatchReport, folder_lock, plan_batch, write_manifest
from .engine import EngineConfig
from .outputs import ResultWriter

REPO_ROOT = Path(__file__).resolve().parents[2]
RAY_MISSING = "--engine ray needs Ray, which is not installed: .venv/bin/pip install -r requirements-ray.txt"
PROBE_TIMEOUT_S = 600.0     # a worker-shaped task that cannot start in this time: the cluster lacks room


class RayEngineError(RuntimeError):
    """The Ray run could not start or stopped; the message says why (one line)."""


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or :class:`RayEngineError` with the install line."""
    try:
        import ray
        import ray.data  # the [data] extra: pyarrow and friends
    except ImportError:
        raise RayEngineError(RAY_MISSING) from None
    return ray


@dataclass(frozen=True)
class DetectorSpec:
    """What a worker needs to build the same detector as the command line asked for
    (picklable; paths absolute, since a worker's working folder is not the driver's)."""

    config: DetectorConfig
    weights: str | None
    device: str
    backend: str
    model: str | None
    threads: int

    def build(self) -> TextDetector:
        # one actor per reserved core(s) on CPU: no oversubscription
        return TextDetector(self.config, weights=self.weights, device=self.device, backend=self.backend,
                            model=self.model, threads=self.threads)


def detector_spec(config: DetectorConfig, weights: str | None, device: str, backend: str, model: str | None,
                  engine: EngineConfig) -> DetectorSpec:
    """The workers' detector: on CUDA when the actors hold GPUs, else on CPU.

    Raises:
        ValueError: ``--device cuda`` without ``--gpus-per-worker``.
    """
    dev = (device or "auto").lower()
    if engine.gpus_per_worker > 0:
        dev = "cuda" if dev == "auto" else dev
    elif dev.startswith("cuda"):
        raise ValueError("--device cuda with --engine ray needs --gpus-per-worker above 0")
    else:
        dev = "cpu"
    absolute = (lambda p: os.path.abspath(p) if p else None)
    return DetectorSpec(config, absolute(weights), dev, backend, absolute(model),
                        max(1, int(engine.cpus_per_worker)))


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _probe(spec: DetectorSpec) -> Dict[str, Any]:
    """Build the detector where workers run: its model id, params and backend line."""
    det = spec.build()
    return {"model": det.model_id, "params": det.config.params(), "backend": det.backend_summary,
            "worker": _worker_name()}


def _known_model(spec: DetectorSpec) -> Dict[str, Any] | None:
    """The probe's answer without a worker, where the driver can know it: ``--backend torch``
    with the weights file readable here (else only the workers may see it: ask them)."""
    path = Path(spec.weights) if spec.weights else DEFAULT_WEIGHTS
    if spec.backend != "torch" or not path.is_file():
        return None
    return {"model": weights_id(path), "params": spec.config.params(),
            "backend": f"torch on {spec.device} (asked for: --backend torch)", "worker": "driver"}


class DetectWorker:
    """One Ray actor: one detector, one writer thread, results written on this node."""

    def __init__(self, spec: DetectorSpec, out_dir: str) -> None:
        self.detector = spec.build()
        self.params = self.detector.config.params()
        self.writer = ResultWriter(Path(out_dir))
        self.name = _worker_name()

    def _write(self, stem: str, result: Any, record: Dict[str, Any]) -> None:
        self.writer.write(stem, result, record, result.image)
        result.image = None

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        t0 = time.perf_counter()
        paths = [str(p) for p in batch["path"]]
        opens = [str(p) for p in batch["open"]]
        stems = [str(s) for s in batch["stem"]]
        records: List[str] = []
        # Same record as the local engine: detect_many names each image by its listed path.
        results = self.detector.detect_many(opens, names=paths, keep_image=True)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ray-write") as pool:
            writes = []
            for path, stem, result in zip(paths, stems, results):
                record = result.to_json(self.detector.model_id, self.params)
                record["image_path"] = path
                writes.append(pool.submit(self._write, stem, result, record))
                records.append(json.dumps(record, ensure_ascii=False))
            for w in writes:
                w.result()      # a write error (disk full) fails this batch loudly; Ray retries it
        per_image = (time.perf_counter() - t0) / max(1, len(paths))
        return {"record": np.array(records, dtype=object),
                "worker": np.array([self.name] * len(records), dtype=object),
                "seconds": np.full(len(records), per_image, dtype=np.float64)}


def _connect(ray: Any, engine: EngineConfig) -> str:
    """Join ``engine.address`` or start a small local Ray; returns where it runs."""
    runtime_env = {"env_vars": {k: v for k, v in {
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "OCR_DET_CACHE": os.environ.get("OCR_DET_CACHE", ""),
    }.items() if v}}
    common = dict(runtime_env=runtime_env, logging_level=logging.WARNING, log_to_driver=True,
                  configure_logging=True)
    if engine.address:
        _check_reachable(engine.address)
        ray.init(address=engine.address, **common)
        return engine.address
    need = math.ceil(engine.num_workers * engine.cpus_per_worker)
    ray.init(num_cpus=max(os.cpu_count() or 1, need), include_dashboard=False,
             object_store_memory=256 * 1024 ** 2, **common)
    return "local"


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail in seconds on a head that does not answer; Ray itself retries for minutes."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RayEngineError(f"--address {address}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayEngineError(f"--address {address}: no Ray head answers there ({exc.strerror or exc}); "
                             "is `ray start --head` running and the port open?") from None


def _check_room(ray: Any, engine: EngineConfig) -> None:
    """Fail at once (not after a timeout) when no node can ever hold one actor."""
    total = ray.cluster_resources()
    if engine.gpus_per_worker > 0 and total.get("GPU", 0) < engine.gpus_per_worker:
        raise RayEngineError(f"--gpus-per-worker {engine.gpus_per_worker:g}: the Ray cluster has "
                             f"{total.get('GPU', 0):g} GPU(s)")
    if total.get("CPU", 0) < engine.cpus_per_worker:
        raise RayEngineError(f"--cpus-per-worker {engine.cpus_per_worker:g}: the Ray cluster has "
                             f"{total.get('CPU', 0):g} CPU(s)")


def _remote_args(engine: EngineConfig) -> Dict[str, Any]:
    return {"num_cpus": engine.cpus_per_worker, "num_gpus": engine.gpus_per_worker}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    cause = [ln for ln in text if "Error:" in ln or "Error(" in ln]
    return (cause[-1] if cause else text[0] if text else type(exc).__name__).strip()


def run_ray_batch(spec: DetectorSpec, engine: EngineConfig, files: Sequence[Path], root: Path, out_dir: Path,
                  overwrite: bool = False, progress: ProgressFn | None = None,
                  on_ready: Any = None) -> BatchReport:
    """Detect ``files`` (found under ``root``) on Ray and write results under ``out_dir``.

    Same files, resume rule and report as :func:`app.io.batch.run_batch`; the report's
    ``engine`` holds the Ray figures (wall time, images/s, per worker). ``progress`` is
    called as records arrive (in completion order); ``on_ready(probe)`` once the workers'
    model is known.

    Raises:
        FolderBusyError: another run is writing into ``out_dir``.
        RayEngineError: Ray is missing, the cluster cannot hold a worker, or the run failed.
    """
    ray = import_ray()
    with folder_lock(out_dir):
        writer = ResultWriter(out_dir)
        stale = writer.remove_stale_temp_files()
        where = _start(ray, engine)
        try:
            return _run(ray, spec, engine, files, root, out_dir, overwrite, progress, on_ready, writer, stale, where)
        finally:
            ray.shutdown()


def _start(ray: Any, engine: EngineConfig) -> str:
    try:
        where = _connect(ray, engine)
    except RayEngineError:
        raise
    except Exception as exc:   # ConnectionError, RuntimeError, ValueError from ray.init
        raise RayEngineError(f"cannot start or join Ray ({engine.address or 'local'}): {_first_line(exc)}") from None
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return where


def _ask_a_worker(ray: Any, spec: DetectorSpec, engine: EngineConfig) -> Dict[str, Any]:
    """Run :func:`_probe` with one actor's resources; a clear error when it cannot."""
    try:
        return ray.get(ray.remote(**_remote_args(engine))(_probe).remote(spec), timeout=PROBE_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        raise RayEngineError(f"no Ray node could start a worker ({engine.cpus_per_worker:g} CPU, "
                             f"{engine.gpus_per_worker:g} GPU) within {PROBE_TIMEOUT_S:.0f} s") from None
    except ray.exceptions.RayError as exc:
        raise RayEngineError(f"a Ray worker could not load the detector: {_first_line(exc)}") from None


def _run(ray: Any, spec: DetectorSpec, engine: EngineConfig, files: Sequence[Path], root: Path, out_dir: Path,
         overwrite: bool, progress: ProgressFn | None, on_ready: Any, writer: ResultWriter, stale: int,
         where: str) -> BatchReport:
    _check_room(ray, engine)
    probe = _known_model(spec) or _ask_a_worker(ray, spec, engine)
    if on_ready is not None:
        on_ready(probe)
    model, params = probe["model"], probe["params"]
    todo, report = plan_batch(writer, files, root, model, params, overwrite)
    write_manifest(out_dir, root, model, params, files, report, len(todo), stale, extra={
        "engine": "ray", "address": where, "num_workers": engine.num_workers,
        "gpus_per_worker": engine.gpus_per_worker, "backend": probe["backend"]})
    t0 = time.perf_counter()
    per_worker: Dict[str, Dict[str, float]] = defaultdict(lambda: {"images": 0, "boxes": 0, "failures": 0,
                                                                   "busy_seconds": 0.0})
    error = None
    try:
        for row in (_dataset(ray, spec, engine, todo, out_dir).iter_rows() if todo else ()):
            record = json.loads(row["record"])
            w = per_worker[str(row["worker"])]
            w["images"] += 1
            w["boxes"] += len(record.get("boxes", [])) if record.get("success") else 0
            w["failures"] += not record.get("success")
            w["busy_seconds"] += float(row["seconds"])
            report.records.append(record)
            if record.get("model") != model:
                print(f"WARNING: {record.get('image_path')} was detected by model {record.get('model')}, "
                      f"not {model} (nodes differ in device or backend)", file=sys.stderr)
            if progress is not None:
                progress(report.skipped + len(report.records), len(files), record)
    except KeyboardInterrupt:
        report.cancelled = True
    except Exception as exc:   # ray.exceptions.RayError and Ray Data's own; the files written stay
        error = f"the Ray run stopped: {_first_line(exc)}"
    wall = time.perf_counter() - t0
    report.engine = _engine_summary(where, engine, probe, per_worker, len(report.records), wall)
    atomic_write_text(out_dir / "summary.json", json.dumps(report.summary, ensure_ascii=False, indent=2))
    if error:
        raise RayEngineError(error)
    return report


def _dataset(ray: Any, spec: DetectorSpec, engine: EngineConfig, todo: List[Tuple[Path, str]], out_dir: Path) -> Any:
    """Image list -> actor pool; one block per batch so idle actors can take the next one."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False                   # the driver shows one bar of its own
    ctx.execution_options.preserve_order = False
    items = [{"path": str(f), "open": os.path.abspath(f), "stem": s} for f, s in todo]
    blocks = min(len(items), max(1, math.ceil(len(items) / engine.ray_batch_size)), 10_000)
    ds = ray.data.from_items(items, override_num_blocks=blocks)
    return ds.map_batches(DetectWorker, batch_size=engine.ray_batch_size, batch_format="numpy",
                          compute=ray.data.ActorPoolStrategy(size=engine.num_workers),
                          fn_constructor_kwargs={"spec": spec, "out_dir": os.path.abspath(out_dir)},
                          **_remote_args(engine))


def _engine_summary(where: str, engine: EngineConfig, probe: Dict[str, Any],
                    per_worker: Dict[str, Dict[str, float]], images: int, wall: float) -> Dict[str, Any]:
    workers = []
    for name, w in sorted(per_worker.items()):
        busy = w["busy_seconds"]
        workers.append({"worker": name, "images": int(w["images"]), "boxes": int(w["boxes"]),
                        "failures": int(w["failures"]), "busy_seconds": round(busy, 3),
                        "images_per_second": round(w["images"] / busy, 3) if busy > 0 else 0.0})
    return {"name": "ray", "address": where, "num_workers": engine.num_workers,
            "gpus_per_worker": engine.gpus_per_worker, "backend": probe["backend"],
            "wall_seconds": round(wall, 3), "images_per_second": round(images / wall, 3) if wall > 0 else 0.0,
            "workers": workers}
