"""TextRecognizer: reads the text inside each detected box (crop -> resize -> ONNX -> CTC).

Beside :class:`models.TextDetector` and just as thin: the geometry lives in
:mod:`.crop`, the decoding in :mod:`.ctc`, the model file in :mod:`.files`. The model is
PaddleOCR's PP-OCRv4 recogniser as shipped in the rapidocr-onnxruntime wheel, run by our
own ONNX Runtime session (same thread policy as the detector's ONNX backend).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from ..backends.onnx import OnnxModelError, onnx_providers, session_options
from ..detector import DetectionResult
from ..files import sha256_file
from ..preprocess import load_image
from .config import RecognizerConfig
from .crop import rectify_crop
from .ctc import ctc_greedy_decode
from .files import resolve_model_path

log = logging.getLogger(__name__)


def read_charset(metadata: dict, path: Path) -> List[str]:
    """Class labels: blank, the model's ``character`` list, then the space PaddleOCR appends."""
    chars = metadata.get("character")
    if not chars:
        raise OnnxModelError(f"{path}: no 'character' list in the model metadata; this is not a "
                             f"PaddleOCR recognition model exported with its dictionary")
    return ["<blank>", *chars.splitlines(), " "]


class TextRecognizer:
    """PP-OCRv4 text recognition of detected boxes.

    Args:
        config: batching and crop policy (``RecognizerConfig()`` defaults).
        device: ``cpu`` or ``cuda`` (CUDA provider when present, CPU fallback).
        threads: intra-op threads (default: physical cores).

    Raises:
        RecognitionModelMissing: the model file (or the wheel that ships it) is absent.
        OnnxModelError: the file is not a usable CTC recognition model.
    """

    def __init__(self, config: RecognizerConfig | None = None, device: str = "cpu",
                 threads: int | None = None) -> None:
        import onnxruntime as ort

        self.config = config or RecognizerConfig()
        self.path = resolve_model_path(self.config.model)
        try:
            self.session = ort.InferenceSession(str(self.path), session_options(threads),
                                                providers=onnx_providers(device))
        except Exception as exc:   # ORT raises its own exception types per failure
            raise OnnxModelError(f"{self.path}: ONNX Runtime cannot load this model ({exc})") from exc
        self.charset = read_charset(self.session.get_modelmeta().custom_metadata_map, self.path)
        inp = self.session.get_inputs()[0]
        if len(inp.shape) != 4 or inp.shape[1] != 3:
            raise OnnxModelError(f"{self.path}: expected one input [N,3,H,W], got {inp.shape}")
        self.input_name = inp.name
        self.height = inp.shape[2] if isinstance(inp.shape[2], int) and inp.shape[2] > 0 else 48
        self.model_id = f"{self.path.stem}-{sha256_file(self.path)[:10]}"
        self.device = "cuda" if self.session.get_providers()[0] != "CPUExecutionProvider" else "cpu"
        self._lock = threading.Lock()
        log.info("text recognizer ready: %s on %s (%d classes)", self.model_id, self.device, len(self.charset))

    def params(self) -> dict:
        """What a result's ``params`` records about recognition (resuming compares it)."""
        return {"model": self.model_id, "batch_size": self.config.batch_size,
                "rotate_ratio": self.config.rotate_ratio, "min_width": self.config.min_width,
                "max_width": self.config.max_width}

    # ------------------------------------------------------------------ steps
    def _normalise(self, crop: np.ndarray, width: int) -> np.ndarray:
        """Resize to the model's height keeping aspect (capped at ``width``), scale to [-1, 1],
        pad right with 0 (mid grey). PaddleOCR's models read BGR, our images are RGB."""
        h, w = crop.shape[:2]
        new_w = max(1, min(width, int(math.ceil(self.height * w / h))))
        resized = cv2.resize(crop[:, :, ::-1], (new_w, self.height), interpolation=cv2.INTER_LINEAR)
        out = np.zeros((3, self.height, width), np.float32)
        out[:, :, :new_w] = resized.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
        return out

    def _run(self, crops: Sequence[np.ndarray]) -> List[Tuple[str, float]]:
        ratio = max(c.shape[1] / c.shape[0] for c in crops)
        width = min(self.config.max_width, max(self.config.min_width, int(math.ceil(self.height * ratio))))
        batch = np.stack([self._normalise(c, width) for c in crops])
        with self._lock:
            probs = self.session.run(None, {self.input_name: batch})[0]
        return ctc_greedy_decode(probs, self.charset)

    # ------------------------------------------------------------------ public API
    def read_crops(self, crops: Sequence[np.ndarray | None]) -> List[Tuple[str, float]]:
        """``(text, score)`` for each upright RGB crop; None (a degenerate box) reads as ``("", 0.0)``.

        Crops are sorted by aspect ratio and batched ``batch_size`` at a time, so each batch
        pads to a similar width.
        """
        out: List[Tuple[str, float]] = [("", 0.0)] * len(crops)
        valid = [i for i, c in enumerate(crops) if c is not None and c.shape[0] > 0 and c.shape[1] > 0]
        valid.sort(key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        step = self.config.batch_size
        for start in range(0, len(valid), step):
            ids = valid[start:start + step]
            for i, res in zip(ids, self._run([crops[i] for i in ids])):
                out[i] = res
        return out

    def recognize(self, image: np.ndarray, boxes: np.ndarray) -> List[Tuple[str, float]]:
        """``(text, score)`` per box of ``image`` (RGB ``H x W x 3`` uint8; gray and RGBA are
        accepted), in the order of ``boxes`` (``(N, 4, 2)`` pixels, clockwise from top-left).

        Raises:
            ValueError: not an image, or boxes not of shape (N, 4, 2).
        """
        image = load_image(image, name="image")   # the detector's own array rules (gray, alpha, dtype)
        quads = np.asarray(boxes, np.float32)
        if quads.size == 0:
            return []
        if quads.ndim == 2 and quads.shape[1] == 8:
            quads = quads.reshape(-1, 4, 2)
        if quads.ndim != 3 or quads.shape[1:] != (4, 2):
            raise ValueError(f"expected boxes of shape (N, 4, 2) or (N, 8), got {quads.shape}")
        crops = [rectify_crop(image, q, self.config.rotate_ratio) for q in quads]
        return self.read_crops(crops)

    def annotate(self, result: DetectionResult) -> DetectionResult:
        """Fill ``texts``/``text_scores`` of a successful :class:`~models.DetectionResult` (detected
        with ``keep_image=True``) and add the seconds spent to its timings; returns it."""
        if not result.success:
            return result
        if result.image is None:
            raise ValueError("recognition needs the decoded image: detect with keep_image=True")
        t0 = time.perf_counter()
        read = self.recognize(result.image, result.boxes_in(result.image))
        seconds = time.perf_counter() - t0
        result.texts = [t for t, _ in read]
        result.text_scores = [s for _, s in read]
        total = result.timings.pop("total", 0.0) + seconds
        result.timings["recognition"] = seconds
        result.timings["total"] = total     # stays last, as in every record
        return result
