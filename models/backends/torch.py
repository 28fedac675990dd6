"""Eager PyTorch backend: a DBNet in memory, channels-last, fp16 on CUDA and fp32 on CPU."""
from __future__ import annotations

import threading
from functools import partial
from typing import List, Sequence, Tuple

import numpy as np
import torch

from ..dbnet import DBNet
from . import WordMapOnDemand, squeeze_maps, word_maps_on_demand


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
        # On a CPU a word map runs only for the images that want words (models.backends.word_branch
        # says why); on CUDA it costs next to nothing and the GPU runs it with the lines.
        self.word_map_on_demand = getattr(model, "word_head", None) is not None and not device.startswith("cuda")
        # On CUDA the detector hands over padded uint8 HxWx3 images and the GPU normalises
        # them (run_uint8): a quarter of the bytes over the bus and no per-image float work
        # on the CPU, which bounds end-to-end throughput there (README, "On a GPU").
        self.uint8_input = device.startswith("cuda")
        # One forward at a time: concurrent CPU forwards only oversubscribe the cores,
        # and a CUDA model shared by threads must not interleave half-finished batches.
        self._lock = threading.Lock()

    @torch.inference_mode()
    def run(self, batch: np.ndarray) -> np.ndarray:
        return self._forward(torch.from_numpy(batch).to(self.device, non_blocking=True))

    @torch.inference_mode()
    def run_uint8(self, batch: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB, padded -> (N, H, W) probabilities; normalised on the device.

        The same float32 arithmetic as :func:`models.preprocess.normalize` (so the same input
        on a CPU, bit for bit), then float16 on CUDA as in :meth:`run`. NHWC permuted to NCHW
        is already the channels-last layout the network runs in.
        """
        if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[-1] != 3:
            raise ValueError(f"run_uint8 expects (N, H, W, 3) uint8 images, got {batch.dtype} {batch.shape}")
        scale = torch.tensor(np.asarray(std, np.float32) * np.float32(255.0), device=self.device)
        offset = torch.tensor(np.asarray(mean, np.float32) * np.float32(255.0), device=self.device)
        x = torch.from_numpy(batch).to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        return self._forward((x - offset.view(1, 3, 1, 1)) * (1.0 / scale).view(1, 3, 1, 1))

    @torch.inference_mode()
    def run_lines(self, batch: np.ndarray) -> Tuple[np.ndarray, List[WordMapOnDemand]]:
        """(N, 3, H, W) -> the (N, H, W) line maps, and each image's word map on demand."""
        x = torch.from_numpy(batch).to(self.device).contiguous(memory_format=torch.channels_last)
        with self._lock:
            lines, inputs = self.model.line_logits_and_word_inputs(x)
        return torch.sigmoid(lines.float())[:, 0].cpu().numpy(), word_maps_on_demand(len(batch), partial(self._word_maps, inputs))

    @torch.inference_mode()
    def _word_maps(self, inputs: List[torch.Tensor]) -> np.ndarray:
        with self._lock:
            return torch.sigmoid(self.model.word_logits_from(inputs).float())[:, 0].cpu().numpy()

    def _forward(self, x: torch.Tensor) -> np.ndarray:
        """Normalised float32 NCHW on the device -> probability maps on the host."""
        x = x.half() if self.half else x
        x = x.contiguous(memory_format=torch.channels_last)
        with self._lock:
            prob = self.model(x)
        # float16 on CUDA: half the bytes over the bus (the copy, not the network, bounds large
        # batches); DBPostProcess widens each map in TextDetector's worker threads
        return squeeze_maps(prob).cpu().numpy()
