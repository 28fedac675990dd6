"""Inference backends: run a batch of normalised images, return probability maps.

Both backends take and return numpy arrays so the detector's pre- and post-processing
are shared byte for byte between PyTorch and ONNX Runtime.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import List, Protocol, Tuple

import numpy as np
import torch

from .dbnet import DBNet

log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str
    device: str
    fixed_shape: Tuple[int, int] | None   # (H, W) for fixed-shape ONNX models
    max_batch: int

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 -> (N, H, W) float32 probabilities."""
        ...


def pick_device(requested: str | None = None) -> str:
    """``cuda`` when available (or asked for), else ``cpu``; a bad request is an error."""
    req = (requested or "auto").lower()
    if req == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if req.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was requested but no CUDA GPU is available; use --device cpu")
        return req
    if req == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {requested!r}; use auto, cpu or cuda")


class TorchBackend:
    """Eager PyTorch; fp16 on CUDA, fp32 on CPU, channels-last memory layout."""

    name = "torch"
    fixed_shape = None

    def __init__(self, model: DBNet, device: str = "cpu") -> None:
        self.device = device
        self.model = model.to(device).eval()
        self.model = self.model.to(memory_format=torch.channels_last)
        self.half = device.startswith("cuda")
        if self.half:
            self.model = self.model.half()
        self.max_batch = 8 if device.startswith("cuda") else 1
        # One forward at a time: concurrent CPU forwards only oversubscribe the cores,
        # and a CUDA model shared by threads must not interleave half-finished batches.
        self._lock = threading.Lock()

    @torch.inference_mode()
    def run(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).to(self.device, non_blocking=True)
        x = x.half() if self.half else x
        x = x.contiguous(memory_format=torch.channels_last)
        with self._lock:
            prob = self.model(x)
        return prob[:, 0].float().cpu().numpy()


def cpu_threads() -> int:
    """Physical cores if known (hyper-threads do not help convolutions), else all CPUs."""
    try:
        import psutil
        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except Exception:
        pass
    return os.cpu_count() or 1


def onnx_providers(device: str) -> List[str]:
    """CUDA (and TensorRT when present) first on a GPU box, always CPU last."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted: List[str] = []
    if device.startswith("cuda") and torch.cuda.is_available():
        for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider"):
            if p in available:
                wanted.append(p)
    wanted.append("CPUExecutionProvider")
    return wanted
