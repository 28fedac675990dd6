"""``detect_many`` on its CUDA code path, run on the CPU: float16 maps and a thread per core.

On CUDA the PyTorch backend hands back float16 probability maps (half the bytes to copy back)
and the detector decodes and post-processes with every core. A GPU is never needed here: a
backend wrapper returns the CPU model's maps as float16 and reports a CUDA device, and the
boxes must match those of the float32 path image by image, in input order.
"""
from __future__ import annotations

import copy
import os
import threading
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
            # the same box, the same mean probability up to float16 rounding; a box whose edge
            # moved a pixel (float16 rounding at the threshold) moves its mean with it: on a
            # 14 px high line of the released weights, by 0.014
            same = np.all(np.asarray(got.boxes) == np.asarray(ref.boxes), axis=(1, 2))
            np.testing.assert_allclose(np.asarray(got.scores)[same], np.asarray(ref.scores)[same], atol=1e-2)
            np.testing.assert_allclose(got.scores, ref.scores, atol=3e-2)


class CountingZeroBackend:
    """A CPU backend that returns empty maps instantly and signals its second call."""

    name = "torch"
    fixed_shape = None
    max_batch = 1
    device = "cpu"

    def __init__(self) -> None:
        self.calls = 0
        self.second_call = threading.Event()

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls == 2:
            self.second_call.set()
        return np.zeros((batch.shape[0],) + batch.shape[2:], np.float32)


def test_the_backend_infers_the_next_image_while_the_previous_one_is_post_processed(monkeypatch):
    """detect_many must not wait for an image's post-processing before the next inference.

    The first image's post-processing blocks until the backend has been called a second
    time (30 s at most): a pipeline that drains every batch before inferring the next one
    never makes that call and times out here. A working pipeline makes it within
    milliseconds; the long limit only keeps a loaded machine from failing a correct pipeline
    (at 5 s it failed once, with other work on the two cores, and passed on every rerun).
    """
    import models.detector as detector_module

    det = TextDetector(device="cpu", backend="torch")
    backend = CountingZeroBackend()
    det = copy.copy(det)
    det.backend = backend
    overlapped = []
    first = threading.Lock()     # taken once, never given back: only the first map waits
    real_post = detector_module.DBPostProcess

    class FirstMapWaits(real_post):
        def __call__(self, prob, info, gray=None, **kw):
            # (a check of ``overlapped`` instead let a second post-processing thread in while
            # the first was still waiting: a race of the test, not of the pipeline)
            if first.acquire(blocking=False):
                overlapped.append(backend.second_call.wait(timeout=30))
            return super().__call__(prob, info, gray, **kw)

    monkeypatch.setattr(detector_module, "DBPostProcess", FirstMapWaits)
    images = [np.full((64 + 32 * i, 96, 3), 255, np.uint8) for i in range(4)]
    results = list(det.detect_many(images, names=[f"im{i}" for i in range(4)]))
    assert overlapped == [True]
    assert [r.image_path for r in results] == [f"im{i}" for i in range(4)]
    assert all(r.success and len(r.boxes) == 0 for r in results)
    assert backend.calls == 4


def test_uint8_images_normalised_by_the_backend_give_the_same_maps_and_boxes():
    """The CUDA path hands the PyTorch backend padded uint8 images (run_uint8); on a CPU the
    same arithmetic must give the float path's input bit for bit, so the same maps and boxes."""
    from models.preprocess import prepare, resize_for_model

    det = TextDetector(device="cpu", backend="torch")
    page = np.asarray(Image.open(SAMPLES / "page.png").convert("RGB"))
    x, _ = prepare(page, det.config)
    padded, _ = resize_for_model(page, det.config)
    np.testing.assert_array_equal(det.backend.run_uint8(padded[None], det.config.mean, det.config.std),
                                  det.backend.run(x[None]))
    reference = det.detect(page)
    assert not det.backend.uint8_input and len(reference.boxes) > 0
    on_device = copy.copy(det)
    on_device.backend = copy.copy(det.backend)
    on_device.backend.uint8_input = True
    many = list(on_device.detect_many([page, page[:, ::-1].copy()]))
    np.testing.assert_array_equal(on_device.detect(page).boxes, reference.boxes)
    np.testing.assert_array_equal(many[0].boxes, reference.boxes)
    np.testing.assert_array_equal(many[1].boxes, det.detect(page[:, ::-1].copy()).boxes)
    with pytest.raises(ValueError, match="uint8"):
        det.backend.run_uint8(x[None], det.config.mean, det.config.std)
