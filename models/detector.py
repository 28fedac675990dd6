"""TextDetector: the one inference API (pre-process -> backend -> DB post-process).

Used identically by the WebUI, the command line, the evaluator and the benchmarks.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, Iterable, Iterator, List, Sequence, Tuple

import cv2
import numpy as np

from .backends import Backend, WordMapOnDemand
from .backends.auto import BACKENDS, BackendChoice, choose_backend, openvino_choice
from .backends.device import pick_device
from .backends.torch import TorchBackend
from .config import DetectorConfig
from .mirror import all_maps, boxes_with_looks, mirror_input
from .postprocess import DBPostProcess
from .preprocess import ImageDecodeError, ImageSource, ResizeInfo, load_image_for_detection, normalize, resize_for_model
from .weights import DEFAULT_WEIGHTS, load_model, weights_id
from .window import Window
from .zoom import zoomed_look

log = logging.getLogger(__name__)


class WordShare:
    """Did most of the last images want words? Then a backend that runs the word map apart
    (``word_map_on_demand``) runs the next batch's whole graph instead, both maps in one call.

    On demand, a scene photo pays two calls, the line graph and then the word graph: 0.067 s
    against 0.060 s for the whole graph (street photos, OpenVINO int8, the Xeon of the model
    card), while a page pays only the line graph (FUNSD forms 0.044 s, whole 0.053 s). Which is
    cheaper depends on what comes, and a stream (a folder, one user's uploads) is mostly of a
    kind: so the recent images decide. The boxes are the same either way (the cut graphs equal
    the whole file bit for bit: ``models.backends.word_branch``); only the time differs."""

    #: recent images counted, and how many of them must have wanted words
    WINDOW = 8
    WORDS_NEEDED = 5

    def __init__(self) -> None:
        self._recent: Deque[bool] = deque(maxlen=self.WINDOW)
        self._lock = threading.Lock()

    def record(self, wanted_words: bool) -> None:
        with self._lock:
            self._recent.append(wanted_words)

    def mostly_words(self) -> bool:
        with self._lock:
            return sum(self._recent) >= self.WORDS_NEEDED


def scale_boxes(boxes: np.ndarray, from_size: Tuple[int, int], to_size: Tuple[int, int]) -> np.ndarray:
    """(N, 4, 2) boxes from an image of ``from_size`` (height, width) to one of ``to_size``."""
    boxes = np.asarray(boxes)
    if tuple(from_size) == tuple(to_size) or boxes.size == 0:
        return boxes
    factor = np.array([to_size[1] / max(1, from_size[1]), to_size[0] / max(1, from_size[0])])
    return np.round(boxes.reshape(-1, 4, 2) * factor).astype(np.int32)


@dataclass
class DetectionResult:
    """Boxes of one image, in original pixels, clockwise from top-left."""

    boxes: np.ndarray                   # (N, 4, 2) int32
    scores: np.ndarray                  # (N,) float32
    width: int
    height: int
    timings: Dict[str, float] = field(default_factory=dict)   # seconds per stage + total
    polygons: List[np.ndarray] = field(default_factory=list)
    image_path: str | None = None
    error: str | None = None
    image: np.ndarray | None = field(default=None, repr=False)  # decoded RGB, if asked for (maybe smaller: boxes_in)
    texts: List[str] | None = None          # with recognition: one per box (models.recognition)
    text_scores: List[float] | None = None

    @property
    def success(self) -> bool:
        return self.error is None

    def boxes_in(self, image: np.ndarray) -> np.ndarray:
        """The boxes in the pixels of ``image``: ``self.image`` or a picture drawn from it can be
        smaller than the original (a large JPEG is decoded at reduced scale), the boxes never are."""
        return scale_boxes(self.boxes, (self.height, self.width), image.shape[:2])

    def box_list(self) -> List[List[int]]:
        """Boxes as lists of 8 ints ``[x1, y1, ..., x4, y4]`` (the seed's JSON format)."""
        return [[int(v) for v in b.reshape(-1)] for b in self.boxes]

    def to_json(self, model: str = "", params: Dict[str, Any] | None = None) -> Dict[str, Any]:
        """The per-image JSON record of DESIGN.md (seed keys plus size, params, model)."""
        out: Dict[str, Any] = {
            "image_path": self.image_path or "",
            "boxes": self.box_list(),
            "scores": [round(float(s), 4) for s in self.scores],
            "success": self.success,
            "inference_time": round(float(self.timings.get("total", 0.0)), 4),
            "width": int(self.width),
            "height": int(self.height),
            "params": params or {},
            "model": model,
            "timings": {k: round(float(v), 4) for k, v in self.timings.items()},
        }
        if self.texts is not None:    # only with recognition: otherwise the record is unchanged
            out["texts"] = list(self.texts)
            out["text_scores"] = [round(float(s), 4) for s in (self.text_scores or [])]
        if self.polygons:
            out["polygons"] = [[int(v) for v in p.reshape(-1)] for p in self.polygons]
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def failure(cls, error: str, image_path: str | None = None) -> "DetectionResult":
        return cls(np.zeros((0, 4, 2), np.int32), np.zeros((0,), np.float32), 0, 0,
                   image_path=image_path, error=error)


@dataclass
class _Prepared:
    index: int
    name: str | None
    tensor: np.ndarray | None
    info: ResizeInfo | None
    timings: Dict[str, float]
    error: str | None = None
    image: np.ndarray | None = None
    gray: np.ndarray | None = None      # the resized image in grey: lines or words (models.granularity)


class TextDetector:
    """DBNet-R18 text detector.

    Args:
        config: thresholds and size policy (``DetectorConfig()`` defaults).
        weights: safetensors file for the torch backend (default: ``weights/db_resnet18.safetensors``).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        backend: ``auto`` (the fastest verified backend here: int8 ONNX Runtime on CPU, or
            OpenVINO where it is installed and faster; PyTorch on CUDA;
            :mod:`models.backends.auto`), ``torch``, ``onnx`` or ``openvino``.
        model: the ``.onnx`` file for the ONNX backend (for ``openvino``: default the int8
            model of ``weights``).
        build: with ``auto``, build the int8 model now when it is not cached yet (about a
            minute once per weights), and where OpenVINO is installed, verify and race it
            against ONNX Runtime (seconds, once per model); ``False`` serves PyTorch until the
            model exists, and ONNX Runtime until the race has run.
        threads: CPU threads for inference (default: the physical cores). Several detectors
            in one machine (Ray actors, one per core) each take their share, never all cores.
            PyTorch's thread count is per process, so with ``torch`` it sets that.

    Raises:
        WeightsNotFoundError: no trained weights; we never fall back to a random model.
    """

    def __init__(self, config: DetectorConfig | None = None, weights: str | Path | None = None,
                 device: str | None = "auto", backend: str = "auto",
                 model: str | Path | None = None, build: bool = True, threads: int | None = None) -> None:
        self.config = config or DetectorConfig()
        self.word_share = WordShare()
        self.device = pick_device(device)
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; use {', '.join(BACKENDS)}")
        if backend == "auto":
            self.choice = choose_backend(self.device, weights, build=build)
        elif backend == "openvino":
            self.choice = openvino_choice(self.device, weights, model)
        elif backend == "onnx":
            self.choice = BackendChoice("onnx", "", Path(model) if model else None, "asked for (--backend onnx)")
        else:
            self.choice = BackendChoice("torch", "fp32", None, "asked for (--backend torch)")
        self.backend_name = self.choice.backend
        if self.choice.backend == "torch":
            path = Path(weights) if weights else DEFAULT_WEIGHTS
            net, meta = load_model(path)
            self.weights_path: Path | None = path
            self.model_id = weights_id(path)
            self.metadata: Dict[str, str] = meta
            if threads and self.device == "cpu":
                import torch

                torch.set_num_threads(int(threads))
            self.backend: Backend = TorchBackend(net, self.device)
        else:
            if self.choice.model is None:
                raise ValueError("the ONNX backend needs an exported model file (model=... / --model)")
            if self.choice.backend == "openvino":
                from .backends.openvino_runtime import OpenVinoBackend  # optional: loaded only when chosen

                self.backend = OpenVinoBackend(self.choice.model, threads=threads)
            else:
                from .backends.onnx import OnnxBackend  # onnxruntime is loaded only when asked for

                self.backend = OnnxBackend(self.choice.model, self.device, threads=threads)
            # auto (and openvino without a model): the served weights stay the safetensors file
            # the int8 model was built from
            built_here = backend == "auto" or (backend == "openvino" and not model)
            self.weights_path = (Path(weights) if weights else DEFAULT_WEIGHTS) if built_here else self.choice.model
            self.model_id = self.backend.model_id
            self.metadata = self.backend.metadata
        log.info("text detector ready: backend=%s device=%s model=%s (%s)",
                 self.backend.name, self.backend.device, self.model_id, self.choice.reason)

    @property
    def backend_summary(self) -> str:
        """``onnx int8 on cpu`` style label plus the reason, for logs, headers and --help output."""
        precision = self.choice.precision or self.metadata.get("precision", "")
        return f"{self.backend.name}{' ' + precision if precision else ''} on {self.backend.device}: {self.choice.reason}"

    @property
    def io_threads(self) -> int:
        """Threads that decode, resize and post-process around the backend in ``detect_many``.

        On a CPU the backend already uses every core, so two threads only overlap the I/O.
        On CUDA the network does over 1,000 images/s and the CPU side is the limit (an H200
        ran 51.6 images/s end to end with two threads: README, "On a GPU"), so every core works.
        """
        if self.backend.device.startswith("cuda"):
            return max(2, min(16, os.cpu_count() or 2))
        return 2

    @property
    def _uint8_input(self) -> bool:
        """Whether ``_prepare`` leaves normalising to the backend (PyTorch on CUDA: ``run_uint8``)."""
        return getattr(self.backend, "uint8_input", False)

    @classmethod
    def from_model(cls, net, config: DetectorConfig | None = None, device: str = "cpu",
                   model_id: str = "in-memory") -> "TextDetector":
        """Wrap a DBNet already in memory (training-time evaluation); same pipeline as inference."""
        self = cls.__new__(cls)
        self.config = config or DetectorConfig()
        self.word_share = WordShare()
        self.device = device
        self.backend_name = "torch"
        self.choice = BackendChoice("torch", "fp32", None, "in-memory network")
        self.weights_path = None
        self.model_id = model_id
        self.metadata = {}
        self.backend = TorchBackend(net, device)
        return self

    # ------------------------------------------------------------------ helpers
    def _config(self, overrides: Dict[str, Any]) -> DetectorConfig:
        return self.config.with_overrides(**overrides) if overrides else self.config

    def _prepare(self, index: int, image: ImageSource, cfg: DetectorConfig,
                 name: str | None, keep_image: bool = False) -> _Prepared:
        label = name if name is not None else (str(image) if isinstance(image, (str, Path)) else None)
        t0 = time.perf_counter()
        try:
            rgb, orig_size = load_image_for_detection(image, cfg, name=name)
        except ImageDecodeError as exc:
            return _Prepared(index, label, None, None, {}, str(exc))
        t1 = time.perf_counter()
        padded, info = resize_for_model(rgb, cfg, self.backend.fixed_shape, orig_size)
        # only 'lines' never looks at the pixels again (models.granularity, models.script_guard)
        gray = cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY) if cfg.granularity != "lines" else None
        tensor = padded if self._uint8_input else normalize(padded, cfg)   # uint8: the backend normalises on its device
        t2 = time.perf_counter()
        return _Prepared(index, label, tensor, info, {"decode": t1 - t0, "preprocess": t2 - t1},
                         image=rgb if keep_image else None, gray=gray)

    def _finish(self, item: _Prepared, prob: np.ndarray, post: DBPostProcess, infer_s: float,
                words: WordMapOnDemand | None = None) -> DetectionResult:
        t0 = time.perf_counter()
        looks_s = 0.0

        def mirrored_maps(with_words: bool, window: Window) -> np.ndarray:
            nonlocal looks_s
            t = time.perf_counter()
            seen = mirror_input(window.crop(item.tensor, self._uint8_input), self._uint8_input)
            probs, word_maps = self._run(seen[None], post.config)
            maps = all_maps(probs[0], word_maps[0] if with_words else None)
            looks_s += time.perf_counter() - t
            return maps

        def zoomed_maps(with_words: bool, window: Window, factor: float) -> np.ndarray | None:
            nonlocal looks_s
            t = time.perf_counter()

            def run(seen: np.ndarray) -> np.ndarray:
                probs, word_maps = self._run(seen[None], post.config)
                return all_maps(probs[0], word_maps[0] if with_words else None)

            maps = zoomed_look(item.tensor, factor, post.config.max_side, run, self._uint8_input, window)
            looks_s += time.perf_counter() - t
            return maps

        # widens CUDA's float16 maps, in the worker thread; a scene photo is also read enlarged
        # (models.zoom; not by a model of one fixed shape) and, where asked, mirrored (models.mirror),
        # each in the window around its text (models.window) unless the model takes one fixed shape only
        fixed = self.backend.fixed_shape is not None
        boxes, _ = boxes_with_looks(post, prob, item.info, item.gray, words, mirrored_maps, whole=fixed,
                                    zoomed_maps=None if fixed else zoomed_maps)
        word_s = words.seconds if words is not None else 0.0   # the word map, where this image wanted one
        if words is not None:
            self.word_share.record(words.asked)
        net_s = word_s + looks_s
        timings = dict(item.timings, inference=infer_s + net_s, postprocess=time.perf_counter() - t0 - net_s)
        timings["total"] = sum(timings.values())
        return DetectionResult(boxes.quads, boxes.scores, item.info.orig_w, item.info.orig_h,
                               timings, boxes.polygons, item.name, image=item.image)

    # ------------------------------------------------------------------ public API
    def detect(self, image: ImageSource, name: str | None = None, keep_image: bool = False,
               **overrides: Any) -> DetectionResult:
        """Detect text in one image; bad input raises :class:`ImageDecodeError`.

        ``overrides`` change single settings for this call (e.g. ``thresh=0.3``);
        ``keep_image`` attaches the decoded RGB image to the result (for drawing).
        """
        cfg = self._config(overrides)
        item = self._prepare(0, image, cfg, name, keep_image)
        if item.error is not None:
            raise ImageDecodeError(item.error)
        t0 = time.perf_counter()
        probs, words = self._run(item.tensor[None], cfg)
        return self._finish(item, probs[0], DBPostProcess(cfg), time.perf_counter() - t0, words[0])

    def detect_many(self, images: Iterable[ImageSource], names: Sequence[str] | None = None,
                    keep_image: bool = False, **overrides: Any) -> Iterator[DetectionResult]:
        """Detect text in many images, yielding results in input order.

        Decoding of the next images and post-processing of the previous ones run in worker
        threads while the backend infers (OpenCV and numpy release the GIL); on CUDA,
        images of the same padded shape are batched. A bad image yields a result with
        ``success == False`` and its error instead of stopping the run.
        """
        cfg = self._config(overrides)
        post = DBPostProcess(cfg)
        batch_size = self.backend.max_batch
        src = list(images)
        labels = list(names) if names is not None else [None] * len(src)
        workers = self.io_threads
        ahead = max(2 * batch_size + 1, 2 * workers)
        window = 2 * batch_size   # post-processed images that may lag behind the backend
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect-io") as pool:
            prepared = [pool.submit(self._prepare, i, img, cfg, labels[i], keep_image) for i, img in enumerate(src[:ahead])]
            next_submit = len(prepared)
            pending: List[Tuple[int, Any]] = []
            cursor = 0
            while cursor < len(src):
                group: List[_Prepared] = []
                while cursor < len(src) and len(group) < batch_size:
                    item = prepared[cursor].result()
                    prepared[cursor] = None  # free memory early
                    if next_submit < len(src):
                        prepared.append(pool.submit(self._prepare, next_submit, src[next_submit], cfg, labels[next_submit], keep_image))
                        next_submit += 1
                    cursor += 1
                    if item.error is not None:
                        pending.append((item.index, DetectionResult.failure(item.error, item.name)))
                        continue
                    if group and group[0].tensor.shape != item.tensor.shape:
                        yield from self._drain(pending, self._infer_group(group, post, pool), window)
                        group = []
                    group.append(item)
                if group:
                    yield from self._drain(pending, self._infer_group(group, post, pool), window)
                yield from self._drain(pending, [], window)
            yield from self._drain(pending, [], 0)

    def _run(self, batch: np.ndarray, cfg: DetectorConfig) -> Tuple[np.ndarray, List[WordMapOnDemand | None]]:
        """The backend on a batch that ``_prepare`` made (uint8 images when it normalises them):
        the maps, and each image's word map on demand where the backend runs it apart (else
        None: a line-only network, or both maps already in ``maps``)."""
        if self._uint8_input:
            return self.backend.run_uint8(batch, cfg.mean, cfg.std), [None] * len(batch)
        if getattr(self.backend, "word_map_on_demand", False):
            if not self.word_share.mostly_words():
                return self.backend.run_lines(batch)
            maps = self.backend.run(batch)          # (N, 2, H, W): lines and words in one call
            return maps[:, 0], [WordMapOnDemand(functools.partial(maps.__getitem__, (k, 1))) for k in range(len(batch))]
        return self.backend.run(batch), [None] * len(batch)

    def _infer_group(self, group: List[_Prepared], post: DBPostProcess, pool: ThreadPoolExecutor):
        t0 = time.perf_counter()
        probs, words = self._run(np.stack([g.tensor for g in group]), post.config)
        per_image = (time.perf_counter() - t0) / len(group)
        return [(g.index, pool.submit(self._finish, g, probs[k], post, per_image, words[k]))
                for k, g in enumerate(group)]

    @staticmethod
    def _drain(pending: List[Tuple[int, Any]], new: List[Tuple[int, Any]], window: int) -> Iterator[DetectionResult]:
        """Yield finished results in input order, waiting only while more than ``window`` are pending.

        Waiting for every post-processing job after each batch left the backend idle for the
        slowest map of the batch; with a window the next batch infers while they finish.
        """
        pending.extend(new)
        pending.sort(key=lambda p: p[0])
        while pending and (len(pending) > window or _ready(pending[0][1])):
            _, res = pending.pop(0)
            yield res.result() if hasattr(res, "result") else res


def _ready(res: Any) -> bool:
    """A failure result, or a post-processing future that has finished."""
    return not hasattr(res, "done") or res.done()
