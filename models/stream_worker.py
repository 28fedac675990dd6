"""The post-processing process of :mod:`models.gpu_stream`: maps of one image in, boxes out.

Kept apart from the stream so that what a worker runs is plain numpy and OpenCV: DB
post-processing is Python per box, so processes (one per core), not threads, scale it."""
from __future__ import annotations

import os
import pickle
import time
from multiprocessing import shared_memory
from typing import Any, Dict, Tuple

import numpy as np

from .config import DetectorConfig

#: What a process sends once its imports are done.
READY = ("ready",)


def maps_bytes(h: int, w: int, with_gray: bool, with_words: bool = False) -> int:
    """Bytes of one image's maps at padded size ``h`` x ``w``: the uint8 probability map, two
    bitmaps packed eight pixels a byte (``w`` is a multiple of 32; above ``thresh``, and above
    ``thresh + lines_shift`` for an image read by line) and, for ``auto`` and ``words``, the
    uint8 grey image and (a network with a word map) the uint8 word map."""
    return h * w + 2 * h * (w // 8) + (h * w if with_gray else 0) + (h * w if with_words else 0)


def unpack_maps(flat: np.ndarray, h: int, w: int, content: Tuple[int, int], with_gray: bool,
                with_words: bool = False):
    """The probability map (float32, 0..1; (2, h, w) with the word map), the two bitmaps (above
    ``thresh``, above ``thresh + lines_shift``) and the grey image of one image from its packed
    bytes; only the ``content`` (height, width) part, without the padding."""
    rh, rw = content
    n, nb = h * w, h * (w // 8)
    prob = flat[:n].reshape(h, w)[:rh, :rw].astype(np.float32)
    if with_words:
        start = 2 * n + 2 * nb if with_gray else n + 2 * nb
        prob = np.stack([prob, flat[start:start + n].reshape(h, w)[:rh, :rw].astype(np.float32)])
    prob *= np.float32(1.0 / 255.0)
    bitmap, line_bitmap = (np.unpackbits(flat[n + k * nb:n + (k + 1) * nb].reshape(h, w // 8)[:rh], axis=1)[:, :rw]
                           for k in (0, 1))
    gray = flat[n + 2 * nb:2 * n + 2 * nb].reshape(h, w)[:rh, :rw] if with_gray else None
    return prob, bitmap, line_bitmap, gray


def run(shm_name: str | None, slot_bytes: int, jobs: Any, results: Any) -> None:
    """Serve post-processing jobs until ``None``: ``(index, slot, payload, (h, w), info,
    (with_gray, with_words), run, extra)`` in, ``(index, slot, quads, scores, polygons, seconds, error,
    sink_error)`` out. The maps are in shared-memory slot ``slot``, or in ``payload`` when the
    stream sent them by pipe; ``run`` is the pickled (DetectorConfig dict, sink) of the run
    (unpickled once per run); ``extra`` is (name, decode seconds, inference seconds, sink key)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import cv2

    from .detector import DetectionResult
    from .postprocess import DBPostProcess

    cv2.setNumThreads(1)
    runs: Dict[bytes, Tuple[DBPostProcess, Any]] = {}
    shm = shared_memory.SharedMemory(name=shm_name) if shm_name else None
    view = np.ndarray((shm.size // slot_bytes, slot_bytes), np.uint8, buffer=shm.buf) if shm else None
    results.put(READY)          # imports done: the stream's start() waits for every process
    try:
        while True:
            job = jobs.get()
            if job is None:
                return
            index, slot, payload, (h, w), info, layers, run_blob, (name, decode_s, infer_s, key) = job
            t0 = time.perf_counter()
            try:
                if run_blob not in runs:
                    settings, sink = pickle.loads(run_blob)
                    runs[run_blob] = (DBPostProcess(DetectorConfig(**settings)), sink)
                post, sink = runs[run_blob]
                flat = view[slot] if slot is not None else payload
                prob, bitmap, line_bitmap, gray = unpack_maps(flat, h, w, (info.resized_h, info.resized_w), *layers)
                # their crop to the content is a no-op now
                boxes = post(prob, info, gray, bitmap=bitmap, line_bitmap=line_bitmap)
            except Exception as exc:   # one image's failure must not lose the others, nor the run
                results.put((index, slot, None, None, None, time.perf_counter() - t0,
                             f"post-processing failed ({type(exc).__name__}: {exc})", None))
                continue
            post_s = time.perf_counter() - t0
            sink_error = None
            if sink is not None:
                timings = {"decode": decode_s, "inference": infer_s, "postprocess": post_s}
                timings["total"] = sum(timings.values())
                try:
                    sink.write(DetectionResult(boxes.quads, boxes.scores, info.orig_w, info.orig_h, timings,
                                               boxes.polygons, name), key)
                except Exception as exc:       # a full disk: the stream stops the run with this
                    sink_error = f"{type(exc).__name__}: {exc}"
            results.put((index, slot, boxes.quads, boxes.scores, boxes.polygons, post_s, None, sink_error))
    finally:
        if shm is not None:
            del view
            shm.close()
