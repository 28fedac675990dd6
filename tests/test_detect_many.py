"""``detect_many`` on its CUDA code path, run on the CPU: float16 maps and a thread per core.

On CUDA the PyTorch backend hands back float16 probability maps (half the bytes to copy back)
and the detector decodes and post-processes with every core. A GPU is never needed here: a
backend wrapper returns the CPU model's maps as float16 and reports a CUDA device, and the
boxes must match those of the float32 path image by image, in input order.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models import TextDetector
from models.weights import DEFAULT_WEIGHTS

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "real_samples"


class HalfMapsOnCuda:
    """Wraps a CPU backend the way TorchBackend behaves on CUDA (float16 maps, batches of 4)."""

    name = "torch"
    fixed_shape = None
    max_batch = 4
    device = "cuda:0"

    def __init__(self, inner) -> None:
        self.inner = inner

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.inner.run(batch).astype(np.float16)


@pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="released weights not present")
def test_float16_maps_on_every_core_give_the_float32_boxes_in_order():
    det = TextDetector(device="cpu", backend="torch")
    page = np.asarray(Image.open(SAMPLES / "page.png").convert("RGB"))
    h, w = page.shape[:2]
    # crops of a real scanned page: three padded shapes, interleaved, so batches split by shape
    images = [page[(i % 3) * h // 6:, (i // 3) * w // 8:] for i in range(9)]
    reference = [det.detect(img) for img in images]
    assert sum(len(r.boxes) for r in reference) > 0
    cuda_like = copy.copy(det)
    cuda_like.backend = HalfMapsOnCuda(det.backend)
    assert det.io_threads == 2
    assert cuda_like.io_threads == max(2, min(16, os.cpu_count() or 2))
    results = list(cuda_like.detect_many(images, names=[f"page{i}" for i in range(len(images))]))
    assert [r.image_path for r in results] == [f"page{i}" for i in range(len(images))]
    for ref, got in zip(reference, results):
        assert got.success and len(got.boxes) == len(ref.boxes)
        if len(ref.boxes):
            np.testing.assert_allclose(np.asarray(got.boxes), np.asarray(ref.boxes), atol=2)
            # a box edge one pixel off moves its mean probability by a few thousandths
            np.testing.assert_allclose(got.scores, ref.scores, atol=1e-2)
