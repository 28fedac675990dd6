"""What machine a measurement ran on, and how much memory it took.

Benchmark numbers mean little without the hardware next to them, so every report names
the CPU model, the cores the process may use, the GPU and the library versions, and
records peak memory while the work runs (RSS by sampling, GPU memory from the driver's
allocator statistics).
"""
from __future__ import annotations

import os
import platform
import threading
from pathlib import Path
from typing import Any, Dict

import psutil

MB = 1024 * 1024


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                name = line.split(":", 1)[1].strip()
                if name:
                    return name
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cores() -> int:
    """CPUs this process may run on (a container or taskset may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gpu_info() -> Dict[str, Any] | None:
    """Name and memory of the first CUDA device, or None without one."""
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        props = torch.cuda.get_device_properties(0)
        return {"name": props.name, "memory_gb": round(props.total_memory / 1024 ** 3, 1),
                "count": torch.cuda.device_count(), "cuda": torch.version.cuda}
    except Exception:   # a broken driver must not break the report
        return None


def hardware_info() -> Dict[str, Any]:
    """Everything a reader needs to compare our numbers with theirs."""
    import torch

    try:
        import onnxruntime as ort
        ort_version: str | None = ort.__version__
    except ImportError:
        ort_version = None
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cpu": cpu_model(),
        "cores_usable": usable_cores(),
        "cores_physical": psutil.cpu_count(logical=False),
        "cores_logical": psutil.cpu_count(logical=True),
        "memory_gb": round(psutil.virtual_memory().total / 1024 ** 3, 1),
        "gpu": gpu_info(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "onnxruntime": ort_version,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average": load,   # other work on the box at the start (1, 5, 15 min)
    }


def describe(hw: Dict[str, Any]) -> str:
    """One line: ``AMD EPYC, 2 cores (2 usable), 23.4 GB RAM; GPU: none``."""
    gpu = hw.get("gpu")
    gpu_text = f"{gpu['name']} ({gpu['memory_gb']} GB)" if gpu else "none"
    return (f"{hw['cpu']}, {hw['cores_logical']} logical cores ({hw['cores_usable']} usable, "
            f"torch threads {hw['torch_threads']}), {hw['memory_gb']} GB RAM; GPU: {gpu_text}")


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / MB


class PeakMemory:
    """Context manager recording peak process RSS (sampled) and peak CUDA memory.

    RSS is sampled every ``interval`` seconds by a daemon thread. The GPU figure is
    ``torch.cuda.max_memory_allocated`` (tensors PyTorch allocated, reset on entry), or
    with ``device_wide`` (ONNX Runtime allocates outside PyTorch) the sampled growth of
    the device's used memory over its level on entry.
    """

    def __init__(self, interval: float = 0.01, cuda: bool = False, device_wide: bool = False) -> None:
        self.interval = interval
        self.cuda = cuda
        self.device_wide = cuda and device_wide
        self.peak_rss_mb = 0.0
        self.peak_gpu_mb: float | None = None
        self._gpu_base = 0.0
        self._gpu_peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc = psutil.Process()

    def _sample(self) -> None:
        while True:
            self.peak_rss_mb = max(self.peak_rss_mb, self._proc.memory_info().rss / MB)
            if self.device_wide:
                self._gpu_peak = max(self._gpu_peak, _device_used_mb())
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "PeakMemory":
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._gpu_base = self._gpu_peak = _device_used_mb() if self.device_wide else 0.0
        self.peak_rss_mb = rss_mb()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_rss_mb = max(self.peak_rss_mb, rss_mb())
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            if self.device_wide:
                self.peak_gpu_mb = max(self._gpu_peak, _device_used_mb()) - self._gpu_base
            else:
                self.peak_gpu_mb = torch.cuda.max_memory_allocated() / MB


def _device_used_mb() -> float:
    """Memory in use on CUDA device 0 by every process and library (driver's view)."""
    import torch

    free, total = torch.cuda.mem_get_info()
    return (total - free) / MB
