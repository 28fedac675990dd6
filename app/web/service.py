"""The one detector the server shares between tabs, and swapping it for new weights.

Loaded once at start-up. Without trained weights the server still starts (so users can
train some in the WebUI), but every detection answers with the reason instead of running
a random model. The training tab swaps in freshly trained weights without a restart.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Dict

from models import DEFAULT_WEIGHTS, DetectorConfig, TextDetector, WeightsNotFoundError

from . import wording as W
from .settings import ModelSettings

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx")


class ServiceError(RuntimeError):
    """A problem with the served model, worded for the user (e.g. ONNX Runtime missing)."""


class DetectorService:
    """Holds the current PyTorch detector (and an ONNX Runtime one on demand)."""

    def __init__(self, settings: ModelSettings, config: DetectorConfig | None = None) -> None:
        self.settings = settings
        self.config = config or DetectorConfig()
        self._lock = threading.Lock()
        self._torch: TextDetector | None = None
        self._onnx: TextDetector | None = None
        self._onnx_path: Path | None = settings.onnx_model
        self.problem: str | None = None        # why there is no detector, for the banner
        self._load_initial()

    def _load_initial(self) -> None:
        path = self.settings.weights or DEFAULT_WEIGHTS
        try:
            self._torch = TextDetector(self.config, weights=path, device=self.settings.device)
        except WeightsNotFoundError as exc:
            self.problem = str(exc)   # `serve` logs it; the page shows it in the banner
        except (ValueError, OSError, RuntimeError) as exc:
            self.problem = f"the weights at {path} could not be loaded: {exc}"
            log.error("weights not loaded: %s", self.problem)

    # ------------------------------------------------------------------ state
    @property
    def ready(self) -> bool:
        return self._torch is not None

    @property
    def weights_path(self) -> Path | None:
        return self._torch.weights_path if self._torch else None

    @property
    def model_id(self) -> str | None:
        return self._torch.model_id if self._torch else None

    @property
    def device(self) -> str:
        return self._torch.device if self._torch else self.settings.device

    def banner(self) -> str:
        """Markdown shown at the top of every page: which model serves, or why none does."""
        if self._torch is None:
            return W.BANNER_NO_WEIGHTS.format(problem=self.problem)
        onnx = f" · ONNX: `{self._onnx_path.name}`" if self._onnx_path else ""
        return W.BANNER_MODEL.format(model=self._torch.model_id, device=self._torch.device, onnx=onnx)

    # ------------------------------------------------------------------ use
    def detector(self, backend: str = "torch") -> TextDetector:
        """The detector for ``backend``, or an error that says how to get one."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.require_weights()
        if backend == "torch":
            return self._torch
        return self._onnx_detector()

    def require_weights(self) -> Path:
        """The served weights file, or the explanation of why there is none."""
        if self._torch is None or self._torch.weights_path is None:
            raise WeightsNotFoundError(W.NO_WEIGHTS.format(problem=self.problem))
        return self._torch.weights_path

    def _onnx_detector(self) -> TextDetector:
        with self._lock:
            if self._onnx is not None:
                return self._onnx
            if self._onnx_path is None or not self._onnx_path.is_file():
                raise FileNotFoundError(W.ONNX_NO_MODEL)
            try:
                self._onnx = TextDetector(self.config, device=self.device, backend="onnx", model=self._onnx_path)
            except (ImportError, ValueError) as exc:
                raise ServiceError(W.ONNX_UNAVAILABLE.format(error=exc)) from None
            return self._onnx

    def use_weights(self, path: str | Path) -> str:
        """Serve ``path`` from now on (same device and thresholds); returns the new model id."""
        new = TextDetector(self.config, weights=Path(path), device=self.settings.device)
        with self._lock:
            self._torch, self.problem = new, None
        log.info("now serving %s (%s)", new.model_id, path)
        return new.model_id

    def use_onnx(self, path: str | Path) -> None:
        """Use this exported file for the ONNX backend (loaded on first use)."""
        with self._lock:
            self._onnx_path, self._onnx = Path(path), None

    def info(self) -> Dict[str, Any]:
        return {"ready": self.ready, "model": self.model_id, "device": self.device,
                "weights": str(self.weights_path) if self.weights_path else None,
                "onnx_model": str(self._onnx_path) if self._onnx_path else None, "problem": self.problem}
