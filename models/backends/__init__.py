"""Inference backends: each runs a batch of normalised images and returns probability maps.

Every backend takes and returns numpy arrays, so the detector's pre- and post-processing
are shared byte for byte between them: ``torch`` (eager PyTorch, :mod:`.torch`) and
``onnx`` (ONNX Runtime on an exported file, :mod:`.onnx`); :mod:`.device` picks the device
and the thread count.
"""
from __future__ import annotations

import functools
import threading
import time
from typing import Any, Callable, Protocol, Tuple

import numpy as np


class Backend(Protocol):
    name: str
    device: str
    fixed_shape: Tuple[int, int] | None   # (H, W) for fixed-shape ONNX models
    max_batch: int
    word_map_on_demand: bool              # run_lines below: the word map only when asked for

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 -> (N, H, W) float32 probabilities, or (N, 2, H, W) (lines,
        words) for a network with a word map (:func:`squeeze_maps`)."""
        ...

    # A backend whose network has a word map it can run apart (``word_map_on_demand`` True)
    # also has ``run_lines(batch) -> ((N, H, W) lines, [WordMapOnDemand] * N)``.


class WordMapOnDemand:
    """The word map of one image, computed the first time it is asked for.

    Backends that cut the word branch off (:mod:`.word_branch`; PyTorch on a CPU) hand one of
    these per image to the post-processing, which asks only where ``granularity`` wants words:
    a page of lines never runs the word map. ``seconds`` is what computing it took (0.0 if
    it was never asked for), so that the timings count it as inference; ``asked`` whether the
    post-processing wanted it (:class:`models.detector.WordShare` counts those)."""

    def __init__(self, compute: Callable[[], np.ndarray]) -> None:
        self._compute: Callable[[], np.ndarray] | None = compute
        self._map: np.ndarray | None = None
        self.seconds = 0.0
        self.asked = False

    def __call__(self) -> np.ndarray:
        self.asked = True
        if self._map is None:
            t0 = time.perf_counter()
            self._map = np.asarray(self._compute(), dtype=np.float32)
            self._compute = None    # drop the features it read
            self.seconds = time.perf_counter() - t0
        return self._map


def word_maps_on_demand(n: int, compute: Callable[[], np.ndarray]) -> list:
    """One :class:`WordMapOnDemand` per image of a batch whose word maps ``compute`` gives at
    once, (n, H, W): the first image that asks runs it for the batch (the word graph's shape
    arithmetic is the batch's; on a CPU a batch is one image)."""
    lock = threading.Lock()
    maps: list = []

    def image(k: int) -> np.ndarray:
        with lock:
            if not maps:
                maps.append(compute())
        return maps[0][k]

    return [WordMapOnDemand(functools.partial(image, k)) for k in range(n)]


def run_lines_in_chunks(x: np.ndarray, step: int, lines_graph: Callable[[np.ndarray], list],
                        word_graph: Callable[[list], np.ndarray]) -> Tuple[np.ndarray, list]:
    """A backend's ``run_lines``: ``lines_graph`` on at most ``step`` images at a time gives
    [line maps, *what the word graph reads]; each image gets its word map on demand from
    ``word_graph`` (that list -> (n, H, W)). Returns the (N, H, W) line maps and the N words."""
    lines, words = [], []
    for i in range(0, len(x), step):
        chunk = x[i:i + step]
        out = lines_graph(chunk)
        lines.append(out[0])
        words += word_maps_on_demand(len(chunk), functools.partial(word_graph, out[1:]))
    return squeeze_maps(np.concatenate(lines, axis=0)).astype(np.float32, copy=False), words


def check_batch(batch: np.ndarray, fixed_shape: Tuple[int, int] | None) -> None:
    """Refuse what no backend can run: not (N, 3, H, W), or another size than a fixed-shape model's."""
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected a (N, 3, H, W) batch, got shape {batch.shape}")
    if fixed_shape is not None and tuple(batch.shape[2:]) != fixed_shape:
        raise ValueError(f"this model takes {fixed_shape[0]}x{fixed_shape[1]} inputs; got "
                         f"{batch.shape[2]}x{batch.shape[3]} (pad with prepare(..., pad_to=fixed_shape))")


def squeeze_maps(prob: Any) -> Any:
    """(N, 1, H, W) -> (N, H, W); (N, 2, H, W), a line and a word map, stays as it is."""
    return prob[:, 0] if prob.ndim == 4 and prob.shape[1] == 1 else prob


def run_in_chunks(x: np.ndarray, step: int, forward: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``forward`` on at most ``step`` images at a time -> (N, H, W) float32 probabilities
    ((N, 2, H, W) with a word map)."""
    prob = np.concatenate([forward(x[i:i + step]) for i in range(0, len(x), step)], axis=0)
    return squeeze_maps(prob).astype(np.float32, copy=False)
