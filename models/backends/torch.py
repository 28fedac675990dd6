"""Eager PyTorch backend: a DBNet in memory, channels-last, fp16 on CUDA and fp32 on CPU."""
from __future__ import annotations

import threading

import numpy as np
import torch

from ..dbnet import DBNet


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
        # float16 on CUDA: half the bytes over the bus (the copy, not the network, bounds large
        # batches); DBPostProcess widens each map in TextDetector's worker threads
        return prob[:, 0].cpu().numpy()
