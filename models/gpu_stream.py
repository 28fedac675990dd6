"""Folder-scale detection on a GPU with the CPU side out of the way (issue #12.6).

Why: on an H200 the network alone does about 2,000 images/s at 736 x 1280, but
``TextDetector.detect_many`` delivered 90 end to end (README, "On a GPU"): every image was
decoded (8-16 ms), resized and post-processed on the CPU, and DB post-processing (Python per
box) runs under one GIL whatever the thread count. Here:

* JPEGs are decoded on the GPU (nvJPEG through ``torchvision.io.decode_jpeg``, when
  torchvision imports: it is optional and never needed on a CPU box), in several loader
  threads at once; other formats, and any JPEG nvJPEG refuses, take the CPU decoder of
  :mod:`models.preprocess` (the same checks and error messages);
* resizing (the same size policy), padding, normalising and the grey copy for ``auto``'s
  cues run on the device, batched by padded shape;
* only compact maps come back: the probability map as uint8 (scores, word gaps) and the
  thresholded bitmap packed eight pixels a byte (exact: thresholded on the device), about
  half the bytes of a float16 map;
* DB post-processing runs in a process per core (spawned), reading the maps from one
  shared-memory ring (a pipe carries them where shared memory is short).

Loading is :mod:`models.gpu_decode`, the ring :mod:`models.shm_ring`, the processes
:mod:`models.stream_worker`; this module batches, runs the network and keeps the order.

Use it from a script guarded by ``if __name__ == "__main__":`` (the processes are spawned, and
a spawned process imports the main module)::

    det = TextDetector(device="cuda", backend="torch")
    with GpuStream(det) as stream:
        for result in stream.detect_files(paths):
            ...

The boxes are those of the ordinary path up to nvJPEG's rounding, bilinear instead of area
resizing, and box scores from a uint8 map (within 1/255): ``bench.gpu_throughput`` checks the
hmean of both paths on labelled photos. On a CPU the same code runs (CPU decode and torch on
the CPU), which is how the tests check it; it only pays on a GPU.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import pickle
import queue
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Sequence, Tuple

import torch
import torch.nn.functional as F

from .config import DetectorConfig
from .gpu_decode import GpuLoader, Loaded
from .preprocess import ResizeInfo, pad_to_stride, target_size
from .shm_ring import SlotRing, try_ring
from .stream_worker import READY, maps_bytes
from .stream_worker import run as post_worker

if TYPE_CHECKING:
    from .detector import DetectionResult

log = logging.getLogger(__name__)

#: ITU-R BT.601 luma, as OpenCV's RGB2GRAY.
GRAY_WEIGHTS = (0.299, 0.587, 0.114)
#: Seconds the post-processing processes get to import numpy, OpenCV and torch.
READY_TIMEOUT_S = 120.0


@dataclass
class StreamStats:
    """What one :meth:`GpuStream.detect_files` run did, for logs and the bench."""

    images: int = 0
    gpu_decoded: int = 0
    cpu_decoded: int = 0
    failed: int = 0
    batches: int = 0
    shared_memory: bool = False
    pinned: bool = False                 # the ring registered with CUDA: copies into it are DMA
    seconds: float = 0.0
    stages: Dict[str, float] = field(default_factory=dict)   # main-thread seconds per stage

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


@dataclass
class _Flight:
    """A batch launched on the device whose maps are not yet with the post-processing processes."""

    group: list
    shape: Tuple[int, int]
    layers: Tuple[bool, bool]                # (grey image, word map) packed after the line map
    job_cfg: bytes
    t0: float
    slots: List[int] | None = None
    host: torch.Tensor | None = None         # the maps in host memory when not copied into slots
    event: Any = None                        # torch.cuda.Event after the copies


# ---------------------------------------------------------------------------- the stream
class GpuStream:
    """Detect text in many image files with the decode, resize and post-processing off the
    main CPU thread. Wraps a :class:`TextDetector` whose backend is PyTorch.

    Args:
        detector: a ``TextDetector(device="cuda", backend="torch")`` (the CPU works, slowly).
        batch_size: images per forward pass (16 was the fastest end to end on an H200).
        post_workers: post-processing processes (default: the cores less two).
        loader_threads: threads that read and decode (nvJPEG calls release the GIL).
        gpu_decode: decode JPEGs with nvJPEG where torchvision imports.
    """

    #: Settings the stream always runs with, whatever the detector's: the post-processing
    #: processes get each image's maps once and cannot run the network again, so a scene photo
    #: is not also read enlarged (models.zoom) or mirrored (models.mirror). Results record these
    #: (app.io.batch).
    FIXED_SETTINGS = {"zoom_words": 1.0, "mirror_words": False}

    def __init__(self, detector, batch_size: int = 16, post_workers: int | None = None,
                 loader_threads: int = 4, gpu_decode: bool = True, decode_chunk: int = 32) -> None:
        if detector.backend.name != "torch":
            raise ValueError(f"GpuStream runs the PyTorch backend (got {detector.backend.name!r}); "
                             "use TextDetector(device='cuda', backend='torch')")
        self.detector = detector
        self.net = detector.backend.model
        self.word_map = self.net.config.word_head
        self.device = torch.device(detector.backend.device)
        self.half = detector.backend.half
        self.batch_size = max(1, int(batch_size))
        self.post_workers = max(1, int(post_workers if post_workers else (os.cpu_count() or 2) - 2))
        self.loader_threads = max(1, int(loader_threads))
        self.decode_chunk = max(1, int(decode_chunk))
        self.loader = GpuLoader(self.device, gpu_decode)
        self.stats = StreamStats()
        self._procs: List[Any] = []
        self._ring: SlotRing | None = None

    # ------------------------------------------------------------------ on the device
    def _prepare(self, image: torch.Tensor, orig: Tuple[int, int], cfg: DetectorConfig) -> Tuple[torch.Tensor, ResizeInfo]:
        """CHW uint8 on the device -> content-sized CHW (uint8 as it came when the size policy
        keeps it, float 0..255 when resized) and the mapping back."""
        rh, rw = target_size(orig[0], orig[1], cfg)
        x = image
        if (rh, rw) != tuple(image.shape[1:]):
            shrink = rh < image.shape[1] or rw < image.shape[2]
            x = F.interpolate(image.unsqueeze(0).float(), size=(rh, rw), mode="bilinear", align_corners=False,
                              antialias=shrink)[0]
            x = x.clamp_(0.0, 255.0).round_()
        info = ResizeInfo(orig[0], orig[1], rh, rw, pad_to_stride(rh), pad_to_stride(rw))
        return x, info

    @torch.inference_mode()
    def _forward(self, group: List[Tuple[Loaded, torch.Tensor, ResizeInfo]], cfg: DetectorConfig) -> torch.Tensor:
        """A batch of one padded shape -> packed maps on the device, (N, bytes) uint8."""
        ih, iw = group[0][2].input_h, group[0][2].input_w
        mean = torch.tensor(cfg.mean, device=self.device).view(3, 1, 1) * 255.0
        std = torch.tensor(cfg.std, device=self.device).view(3, 1, 1) * 255.0
        batch = torch.zeros((len(group), 3, ih, iw), device=self.device)   # the mean colour, normalised
        gray = torch.zeros((len(group), ih, iw), dtype=torch.uint8, device=self.device) if cfg.granularity != "lines" else None
        weights = torch.tensor(GRAY_WEIGHTS, device=self.device).view(1, 3, 1, 1)
        sizes = {(info.resized_h, info.resized_w) for _, _, info in group}
        if len(sizes) == 1:      # a folder of one camera's photos: a few kernels for the whole batch
            rh, rw = sizes.pop()
            xs = torch.stack([x for _, x, _ in group]).float()
            batch[:, :, :rh, :rw] = (xs - mean) / std
            if gray is not None:
                gray[:, :rh, :rw] = (xs * weights).sum(1).round_().clamp_(0, 255).to(torch.uint8)
        else:
            for k, (_, x, info) in enumerate(group):
                x = x.float()
                batch[k, :, :info.resized_h, :info.resized_w] = (x - mean) / std
                if gray is not None:
                    gray[k, :info.resized_h, :info.resized_w] = (x * weights[0]).sum(0).round_().clamp_(0, 255).to(torch.uint8)
        batch = batch.half() if self.half else batch
        maps = self.net(batch.contiguous(memory_format=torch.channels_last))
        words = maps[:, 1] if self.word_map and gray is not None else None   # only auto and words use it
        return self._pack_maps(maps[:, 0], gray, cfg.thresh, words, cfg.line_cut[0])

    @staticmethod
    def _pack_maps(prob: torch.Tensor, gray: torch.Tensor | None, thresh: float,
                   words: torch.Tensor | None = None, line_thresh: float | None = None) -> torch.Tensor:
        """(N, H, W) probabilities -> (N, bytes): uint8 map, bitmaps above ``thresh`` and above
        ``line_thresh`` (``thresh + lines_shift``: for images read by line; default ``thresh``)
        8 pixels a byte, grey, uint8 word map (:func:`models.stream_worker.maps_bytes`)."""
        n, h, w = prob.shape
        p8 = (prob.float() * 255.0).round_().clamp_(0, 255).to(torch.uint8).reshape(n, -1)
        order = torch.tensor([128, 64, 32, 16, 8, 4, 2, 1], dtype=torch.uint8, device=prob.device)
        exact = prob.float()                                      # float32, as the CPU path compares

        def packed(cut: float) -> torch.Tensor:
            bits = (exact > cut).to(torch.uint8).reshape(n, h, w // 8, 8)
            return (bits * order).sum(-1, dtype=torch.uint8).reshape(n, -1)

        above = packed(thresh)
        # the second bitmap is the first where no lines_shift raises the cut (the default)
        lines = above if line_thresh is None or line_thresh == thresh else packed(line_thresh)
        parts = [p8, above, lines] + ([gray.reshape(n, -1)] if gray is not None else [])
        if words is not None:
            parts.append((words.float() * 255.0).round_().clamp_(0, 255).to(torch.uint8).reshape(n, -1))
        return torch.cat(parts, dim=1)

    # ------------------------------------------------------------------ workers
    def start(self) -> "GpuStream":
        """Start the post-processing processes and the shared-memory ring (a few seconds:
        each process imports its libraries); :meth:`detect_files` starts them when needed.
        They stay up for further calls until :meth:`close` (or the ``with`` block ends)."""
        if self._procs:
            return self
        side = pad_to_stride(self.detector.config.limit_side)
        self._slot_bytes = maps_bytes(side, side, True, self.word_map)
        # The batches in flight plus one per process. A slot holds a square input of the size
        # limit (3.5 MB at 1280 px); the maps of a larger one (a tall receipt kept at its
        # short-side floor) take the pipe.
        self._ring = try_ring(2 * self.batch_size + self.post_workers, self._slot_bytes)
        if self._ring is not None and self.device.type == "cuda":
            self._ring.pin()
        ctx = mp.get_context("spawn")     # never fork a process that holds a CUDA context
        self._jobs, self._results = ctx.Queue(), ctx.Queue()
        shm_name = self._ring.shm.name if self._ring else None
        self._procs = [ctx.Process(target=post_worker, args=(shm_name, self._slot_bytes, self._jobs, self._results),
                                   daemon=True, name=f"stream-post-{i}") for i in range(self.post_workers)]
        for proc in self._procs:
            proc.start()
        self._wait_ready(READY_TIMEOUT_S)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Wait until every process has imported its libraries: a failing import (a broken
        install) surfaces here, with the exit code, not as a stalled run."""
        ready, deadline = 0, time.monotonic() + timeout
        while ready < len(self._procs):
            try:
                ready += self._results.get(timeout=0.5) == READY
            except queue.Empty:
                try:
                    self._check_alive()
                except RuntimeError:
                    self.close()
                    raise
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"post-processing processes not ready after {timeout:.0f} s") from None

    def close(self) -> None:
        """Stop the processes and free the shared memory."""
        procs, self._procs = self._procs, []
        for _ in procs:
            self._jobs.put(None)
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        if procs:
            self._jobs.close()
            self._results.close()
        if self._ring is not None:
            self._ring.close()
            self._ring = None

    def __enter__(self) -> "GpuStream":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ public API
    def detect_many(self, images: Iterable[str | Path], names: Sequence[str] | None = None,
                    keep_image: bool = False, **overrides: Any) -> Iterator[DetectionResult]:
        """:meth:`detect_files` under ``TextDetector.detect_many``'s name, so evaluators, benches
        and the folder runner take either. The decoded images stay on the GPU: ``keep_image``
        (pictures) is refused rather than silently ignored."""
        if keep_image:
            raise ValueError("the GPU stream keeps no decoded image on the CPU (--engine gpu draws its "
                             "pictures from a CPU decode of their own: app.io.outputs.FolderSink)")
        return self.detect_files(images, names, **overrides)

    def detect_files(self, files: Iterable[str | Path], names: Sequence[str] | None = None,
                     sink: Any = None, keys: Sequence[Any] | None = None,
                     **overrides: Any) -> Iterator[DetectionResult]:
        """Detect text in image files, yielding :class:`DetectionResult` in input order.

        A file that cannot be read or decoded yields a failed result with the reason, as
        ``detect_many`` does; the run goes on.

        ``sink`` (picklable, with ``write(result, key)``) is called in the post-processing
        processes for each successful image, with its entry of ``keys``: the folder command
        writes its files there (``app.io.outputs.FolderSink``), since building and writing
        them on the thread that feeds the GPU halved its rate on an H100. Failed images are
        left to the caller; a failing ``write`` (a full disk) stops the run with its error."""
        from .detector import DetectionResult

        cfg = self.detector._config({**(overrides or {}), **self.FIXED_SETTINGS})
        paths = [Path(f) for f in files]
        labels = list(names) if names is not None else [str(p) for p in paths]
        if len(labels) != len(paths):
            raise ValueError(f"{len(labels)} names for {len(paths)} files")
        if sink is not None and (keys is None or len(keys) != len(paths)):
            raise ValueError("a sink needs one key per file")
        self._keys = list(keys) if sink is not None else None
        self.stats = stats = StreamStats(images=len(paths))
        if not paths:
            return
        own = not self._procs
        self.start()
        stats.shared_memory = self._ring is not None
        stats.pinned = bool(self._ring is not None and self._ring.pinned)
        job_cfg = pickle.dumps((cfg.to_dict(), sink))     # pickled once, not with every image
        self._flight: _Flight | None = None
        t_start = time.perf_counter()
        self._pending: Dict[int, Any] = {}      # index -> result, waiting to be yielded in order
        self._waiting: Dict[int, Tuple[Loaded, ResizeInfo, float]] = {}   # index -> in post-processing
        next_out = 0
        try:
            chunks = [[(i, labels[i], paths[i]) for i in range(s, min(s + self.decode_chunk, len(paths)))]
                      for s in range(0, len(paths), self.decode_chunk)]
            buckets: Dict[Tuple[int, int], List[Tuple[Loaded, torch.Tensor, ResizeInfo]]] = {}
            with ThreadPoolExecutor(self.loader_threads, thread_name_prefix="stream-load") as pool:
                futures: List[Future | None] = [pool.submit(self.loader.load_chunk, c, cfg)
                                                for c in chunks[:2 * self.loader_threads]]
                for c in range(len(chunks)):
                    t0 = time.perf_counter()
                    loaded = futures[c].result()
                    futures[c] = None
                    if len(futures) < len(chunks):
                        futures.append(pool.submit(self.loader.load_chunk, chunks[len(futures)], cfg))
                    stats.add("wait for decode", time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    for item in loaded:
                        if item.error is not None:
                            stats.failed += 1
                            self._pending[item.index] = DetectionResult.failure(item.error, item.name)
                            continue
                        stats.gpu_decoded += item.on_gpu
                        stats.cpu_decoded += not item.on_gpu
                        if item.ready is not None:     # the loader's stream wrote it: wait, and keep
                            main = torch.cuda.current_stream(self.device)   # its memory until used here
                            main.wait_event(item.ready)
                            item.image.record_stream(main)
                        x, info = self._prepare(item.image, item.orig_size, cfg)
                        item.image = None
                        buckets.setdefault((info.input_h, info.input_w), []).append((item, x, info))
                    stats.add("resize", time.perf_counter() - t0)
                    last = c == len(chunks) - 1
                    for shape in list(buckets):
                        held = sum(map(len, buckets.values()))
                        if len(buckets[shape]) >= self.batch_size or last or held > 4 * self.batch_size:
                            group = buckets.pop(shape)
                            for s in range(0, len(group), self.batch_size):
                                self._run_group(group[s:s + self.batch_size], cfg, job_cfg)
                    next_out = yield from self._emit(next_out, block=False)
            self._land_last()
            while next_out < len(paths):
                next_out = yield from self._emit(next_out, block=True)
        finally:
            stats.seconds = time.perf_counter() - t_start
            if own or next_out < len(paths):   # an abandoned run leaves jobs behind: start afresh
                self.close()

    def _run_group(self, group: List[Tuple[Loaded, torch.Tensor, ResizeInfo]], cfg: DetectorConfig,
                   job_cfg: bytes) -> None:
        """Launch one batch (forward, maps into free slots) and land the one before it.

        Why one batch in flight: the copies into the slots are queued behind the forward on
        the GPU, so waiting for them at once left the CPU idle for the whole forward; now the
        CPU prepares and launches the next batch while the GPU runs this one."""
        t0 = time.perf_counter()
        flight = self._launch(group, cfg, job_cfg)
        if self._flight is not None:
            self._land(self._flight)
        self._flight = flight
        self.stats.batches += 1
        self.stats.add("forward and copy", time.perf_counter() - t0)

    def _launch(self, group, cfg: DetectorConfig, job_cfg: bytes) -> "_Flight":
        """Queue the forward and the copies of the maps to the host; nothing waits for the GPU
        here, except a pinned staging copy where the ring could not be pinned."""
        t0 = time.perf_counter()
        packed = self._forward(group, cfg)
        with_gray = cfg.granularity != "lines"
        layers = (with_gray, with_gray and self.word_map)
        ih, iw = group[0][2].input_h, group[0][2].input_w
        nbytes = maps_bytes(ih, iw, *layers)
        ring = self._ring
        cuda = self.device.type == "cuda"
        flight = _Flight(group, (ih, iw), layers, job_cfg, t0)
        if ring is None or nbytes > ring.slot_bytes:
            flight.host = torch.empty(packed.shape, dtype=torch.uint8, pin_memory=True).copy_(
                packed, non_blocking=True) if cuda else packed
        elif ring.pinned or not cuda:
            flight.slots = [self._take_slot() for _ in group]
            for k, slot in enumerate(flight.slots):
                torch.from_numpy(ring.array[slot, :nbytes]).copy_(packed[k], non_blocking=cuda)
        else:                     # a pinned staging buffer, copied into the slots on landing
            flight.slots = [self._take_slot() for _ in group]
            flight.host = torch.empty(packed.shape, dtype=torch.uint8, pin_memory=True).copy_(packed, non_blocking=True)
        if cuda:
            flight.event = torch.cuda.Event()
            flight.event.record()
        return flight

    def _land(self, flight: "_Flight") -> None:
        """Wait for a launched batch's maps and hand its images to the post-processing processes."""
        if flight.event is not None:
            t0 = time.perf_counter()
            flight.event.synchronize()
            self.stats.add("wait for the GPU", time.perf_counter() - t0)   # the GPU is the limit while this grows
        ih, iw = flight.shape
        nbytes = maps_bytes(ih, iw, *flight.layers)
        host = flight.host.numpy() if flight.host is not None else None
        if flight.slots is not None and host is not None:
            for k, slot in enumerate(flight.slots):
                self._ring.array[slot, :nbytes] = host[k]
            host = None
        infer_s = (time.perf_counter() - flight.t0) / len(flight.group)
        slots = flight.slots if flight.slots is not None else [None] * len(flight.group)
        for k, ((item, _, info), slot) in enumerate(zip(flight.group, slots)):
            self._waiting[item.index] = (item, info, infer_s)
            payload = host[k] if host is not None else None
            extra = (item.name, item.decode_s, infer_s, self._keys[item.index] if self._keys else None)
            self._jobs.put((item.index, slot, payload, (ih, iw), info, flight.layers, flight.job_cfg, extra))

    def _land_last(self) -> None:
        if self._flight is not None:
            flight, self._flight = self._flight, None
            self._land(flight)

    def _take_slot(self) -> int:
        """A free slot; while none is free, collect finished images (which free theirs)."""
        try:
            return self._ring.free.get_nowait()
        except queue.Empty:
            pass
        t0 = time.perf_counter()
        try:
            while True:
                try:
                    return self._ring.free.get_nowait()
                except queue.Empty:
                    if not self._collect(timeout=0.5):
                        self._check_alive()
        finally:     # the post-processing processes are the limit while this grows
            self.stats.add("wait for a free slot", time.perf_counter() - t0)

    def _collect(self, timeout: float | None) -> bool:
        """Move one finished post-processing job into ``_pending``; False when none came."""
        from .detector import DetectionResult

        try:
            got = self._results.get(timeout=timeout) if timeout else self._results.get_nowait()
        except queue.Empty:
            return False
        index, slot, quads, scores, polygons, post_s, error, sink_error = got
        if slot is not None and self._ring is not None:
            self._ring.free.put(slot)
        item, info, infer_s = self._waiting.pop(index)
        if sink_error is not None:
            raise RuntimeError(f"writing the results of {item.name} failed: {sink_error}")
        if error is not None:
            self.stats.failed += 1
            self._pending[index] = DetectionResult.failure(f"{item.name}: {error}", item.name)
            return True
        timings = {"decode": item.decode_s, "inference": infer_s, "postprocess": post_s}
        timings["total"] = sum(timings.values())
        self._pending[index] = DetectionResult(quads, scores, info.orig_w, info.orig_h, timings, polygons, item.name)
        return True

    def _emit(self, next_out: int, block: bool):
        """Yield the results that are next in input order; with ``block``, wait for one."""
        while self._collect(timeout=None):
            pass
        if block and next_out not in self._pending:
            if not self._waiting:
                raise RuntimeError("detection stream stalled: an image neither finished nor failed")
            while next_out not in self._pending:
                if not self._collect(timeout=1.0):
                    self._check_alive()
        while next_out in self._pending:
            yield self._pending.pop(next_out)
            next_out += 1
        return next_out

    def _check_alive(self) -> None:
        """A post-processing process that died (killed, out of memory) must not hang the run."""
        dead = [p.exitcode for p in self._procs if not p.is_alive()]
        if dead:
            raise RuntimeError(f"a post-processing process died (exit code {dead[0]}); the results "
                               "so far were yielded, rerun the rest")
