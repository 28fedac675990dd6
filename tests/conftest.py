"""Shared fixtures: a random-weight model file (tests never need trained weights)."""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "2")
# backend="auto" builds an int8 model once per weights into this cache: one fresh cache per
# test run (servers started by the tests inherit it), never the user's.
os.environ["OCR_DET_CACHE"] = tempfile.mkdtemp(prefix="ocr-det-test-cache-")
atexit.register(shutil.rmtree, os.environ["OCR_DET_CACHE"], True)


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory) -> Path:
    """A DBNet-R18 with random weights saved as safetensors (what --weights takes)."""
    import torch

    from models.backends.auto import choose_backend
    from models.dbnet import DBNet
    from models.weights import save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "random.safetensors"
    save_weights(DBNet(), path, meta={"note": "random weights for tests"})
    # Resolve backend="auto" once, before any server starts: untrained weights fail the int8
    # verification (their maps carry no text), so every later detector and server of this run
    # reads the cached verdict and serves PyTorch instead of building in the background.
    assert choose_backend("cpu", path).backend == "torch"
    return path


@pytest.fixture(scope="session")
def random_detector(random_weights):
    from models import TextDetector

    return TextDetector(weights=random_weights, device="cpu", backend="torch")


def text_like_image(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A light page with dark bars: cheap stand-in for a document photo."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 235, np.uint8)
    for y in range(20, h - 20, 30):
        x0 = int(rng.integers(10, 40))
        img[y:y + 12, x0:x0 + int(rng.integers(60, w - 60))] = 30
    return img
