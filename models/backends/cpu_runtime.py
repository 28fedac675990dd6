"""Which runtime runs the int8 model on this CPU: ONNX Runtime, or OpenVINO where it is
installed, verified against PyTorch and measured faster here.

Why measure instead of reading CPU flags: the two runtimes were level on an AVX2-only EPYC
(584 vs 583 ms per street photo) and OpenVINO was about twice as fast on a Xeon with AMX
(36-47 vs 80 ms), and on an AVX-512 VNNI + BF16 EPYC without AMX ONNX Runtime was the
faster (54 vs 65 ms; README, "The default backend"); other CPUs (AVX-VNNI laptops) are
unmeasured. A race of a few runs at the photo size settles it on the machine itself, once
per int8 model, and the verdict is cached next to the model with both timings, so the
reason shown to people carries the numbers. A new runtime version or another CPU gets a
new race.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np

from ..cpu_features import cpu_features
from ..files import atomic_write_bytes
from .openvino_runtime import openvino_missing

log = logging.getLogger(__name__)

RACE_SHAPE = (1, 3, 736, 1280)   # a 1280x720 street photo as the detector pads it
RACE_RUNS = 7
MIN_SPEEDUP = 1.1                # below this the extra runtime is not worth its memory


@dataclass(frozen=True)
class RuntimeVerdict:
    """The runtime picked for one int8 model on this machine, with the evidence."""

    runtime: str                      # "onnx" | "openvino"
    reason: str                       # one line for people
    versions: Dict[str, str]          # runtimes and CPU the verdict holds for
    onnx_ms: float | None = None
    openvino_ms: float | None = None
    agreement: float | None = None    # OpenVINO int8 boxes vs PyTorch fp32 boxes (hmean)


def verdict_path(model: Path) -> Path:
    return model.with_suffix(".runtime.json")


def _versions() -> Dict[str, str]:
    import onnxruntime as ort

    from .openvino_runtime import openvino_version

    return {"onnxruntime": ort.__version__, "openvino": openvino_version(), "cpu": cpu_features().describe()}


def cached_verdict(model: Path) -> RuntimeVerdict | None:
    """The verdict for ``model`` if one was measured with the runtimes installed now."""
    if openvino_missing():
        return None
    path = verdict_path(model)
    try:
        verdict = RuntimeVerdict(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return verdict if verdict.versions == _versions() else None


def race(onnx_run: Callable[[np.ndarray], np.ndarray], openvino_run: Callable[[np.ndarray], np.ndarray],
         runs: int = RACE_RUNS) -> Dict[str, float]:
    """Median ms per forward pass of each runtime on one photo-sized input, runs alternated
    (a busy neighbour slows both alike), after two warm-up passes each."""
    x = np.random.default_rng(0).standard_normal(RACE_SHAPE, dtype=np.float32)
    contenders = {"onnx": onnx_run, "openvino": openvino_run}
    for fn in contenders.values():
        fn(x)
        fn(x)
    times: Dict[str, List[float]] = {k: [] for k in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            fn(x)
            times[name].append(1000.0 * (time.perf_counter() - t0))
    return {k: float(np.median(v)) for k, v in times.items()}


def _agreement(weights: Path, model: Path,
               openvino_run: Callable[[np.ndarray], np.ndarray]) -> Tuple[bool, float | None, List[str]]:
    """OpenVINO's maps against PyTorch fp32 on the export's rendered verification pages,
    through the same int8 gate the export applies to ONNX Runtime (box agreement)."""
    from ..export.check import int8_checks, run_all
    from ..export.config import INT8_MIN_HMEAN, INT8_MIN_LOGIT_CORR, ExportConfig
    from ..export.exporter import torch_map_fn, verification_samples
    from ..weights import load_model

    cfg = ExportConfig(weights=weights, output=model, dynamic=True, precision="int8")
    net, _ = load_model(weights)
    samples = [s for s in verification_samples(cfg) if s.info is not None]
    ref = run_all(torch_map_fn(net), samples)
    got = run_all(openvino_run, samples)
    checks, _, hmean = int8_checks(ref, got, samples, cfg.detector, cfg.int8_check, INT8_MIN_HMEAN,
                                   INT8_MIN_LOGIT_CORR)
    failed = [c.name for c in checks if not c.passed]
    return not failed, hmean, failed


def measure_verdict(weights: Path, model: Path) -> RuntimeVerdict:
    """Verify OpenVINO on ``model`` and race it against ONNX Runtime; cache and return the verdict."""
    from .onnx import OnnxBackend
    from .openvino_runtime import OpenVinoBackend

    versions = _versions()
    ov_name = f"OpenVINO {versions['openvino']}"
    try:
        openvino = OpenVinoBackend(model)
        ok, hmean, failed = _agreement(weights, model, openvino.run)
        if not ok:
            verdict = RuntimeVerdict("onnx", f"{ov_name} failed verification on this machine ({', '.join(failed)})",
                                     versions, agreement=hmean)
        else:
            onnx = OnnxBackend(model, "cpu")
            ms = race(onnx.run, openvino.run)
            speedup = ms["onnx"] / ms["openvino"]
            timing = (f"{ms['openvino']:.0f} vs {ms['onnx']:.0f} ms per {RACE_SHAPE[2]}x{RACE_SHAPE[3]} "
                      f"input, {speedup:.2f}x")
            if speedup >= MIN_SPEEDUP:
                verdict = RuntimeVerdict("openvino", f"{ov_name}, faster than ONNX Runtime here ({timing})",
                                         versions, ms["onnx"], ms["openvino"], hmean)
            else:
                verdict = RuntimeVerdict("onnx", f"{ov_name} not faster here ({timing})", versions,
                                         ms["onnx"], ms["openvino"], hmean)
    except Exception as exc:   # a runtime that cannot run the model must not stop detection
        log.exception("OpenVINO could not be measured")
        verdict = RuntimeVerdict("onnx", f"{ov_name} could not run the model ({type(exc).__name__}: {exc})",
                                 versions)
    atomic_write_bytes(verdict_path(model), json.dumps(asdict(verdict), indent=1).encode())
    log.info("CPU runtime for %s: %s (%s)", model.name, verdict.runtime, verdict.reason)
    return verdict
