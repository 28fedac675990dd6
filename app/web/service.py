"""The one detector the server shares between tabs, and swapping it for new weights.

Loaded once at start-up. Without trained weights the server still starts (so users can
train some in the WebUI), but every detection answers with the reason instead of running
a random model. The training tab swaps in freshly trained weights without a restart.

The default backend is ``auto`` (:mod:`models.backends.auto`): on a CPU it is the int8
ONNX Runtime model of the served weights. Building that model takes about a minute the
first time for each weights file, so the server starts with PyTorch at once and swaps in
the int8 model from a background thread when it is ready; the header says which runs.
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

BACKENDS = ("auto", "torch", "onnx")


class ServiceError(RuntimeError):
    """A problem with the served model, worded for the user (e.g. ONNX Runtime missing)."""


class DetectorService:
    """Holds the default detector, a PyTorch one on demand, and an exported-ONNX one on demand."""

    def __init__(self, settings: ModelSettings, config: DetectorConfig | None = None,
                 background_build: bool = True) -> None:
        self.settings = settings
        self.config = config or DetectorConfig()
        self._lock = threading.Lock()
        self._default: TextDetector | None = None
        self._torch: TextDetector | None = None
        self._onnx: TextDetector | None = None
        self._onnx_path: Path | None = settings.onnx_model
        self._background_build = background_build
        self.builder: threading.Thread | None = None
        self.problem: str | None = None        # why there is no detector, for the banner
        self._load_initial()

    def _load_initial(self) -> None:
        path = self.settings.weights or DEFAULT_WEIGHTS
        try:
            self._set_default(self._load(path, build=False))
        except WeightsNotFoundError as exc:
            self.problem = str(exc)   # `serve` logs it; the page shows it in the banner
        except (ValueError, OSError, RuntimeError) as exc:
            self.problem = f"the weights at {path} could not be loaded: {exc}"
            log.error("weights not loaded: %s", self.problem)

    def _load(self, path: Path, build: bool) -> TextDetector:
        return TextDetector(self.config, weights=path, device=self.settings.device,
                            backend=self.settings.backend, build=build)

    def _set_default(self, det: TextDetector) -> None:
        """Serve ``det``; when auto fell back to PyTorch only because the int8 model is not
        built yet, build it in the background and swap it in."""
        with self._lock:
            self._default, self.problem = det, None
            self._torch = det if det.backend_name == "torch" else None
        pending = self.settings.backend == "auto" and det.choice.reason.endswith("until the int8 model is built")
        if pending and self._background_build:
            # Not a daemon: interpreter exit must not kill the exporter mid-write.
            self.builder = threading.Thread(target=self._build_fast, args=(det.weights_path,),
                                            name="int8-build")
            self.builder.start()

    def _build_fast(self, path: Path) -> None:
        try:
            fast = self._load(path, build=True)
        except Exception:   # the PyTorch detector keeps serving; the reason is in the log
            log.exception("building the fast backend failed; PyTorch keeps serving")
            return
        with self._lock:
            current = self._default
            if current is None or current.weights_path != path:
                return          # the weights changed meanwhile: keep the newer detector
            self._default = fast
        log.info("now serving %s", fast.backend_summary)

    def close(self, timeout: float | None = None) -> None:
        """Wait for a background build (``serve`` calls this on shutdown)."""
        if self.builder is not None and self.builder.is_alive():
            log.info("waiting for the int8 build to finish (up to %s s)", timeout)
            self.builder.join(timeout)

    # ------------------------------------------------------------------ state
    @property
    def ready(self) -> bool:
        return self._default is not None

    @property
    def weights_path(self) -> Path | None:
        return self._default.weights_path if self._default else None

    @property
    def model_id(self) -> str | None:
        return self._default.model_id if self._default else None

    @property
    def device(self) -> str:
        return self._default.device if self._default else self.settings.device

    @property
    def backend_summary(self) -> str | None:
        return self._default.backend_summary if self._default else None

    def banner(self) -> str:
        """Markdown shown at the top of every page: which model serves, or why none does."""
        det = self._default
        if det is None:
            return W.BANNER_NO_WEIGHTS.format(problem=self.problem)
        onnx = f" · ONNX: `{self._onnx_path.name}`" if self._onnx_path else ""
        return W.BANNER_MODEL.format(model=det.model_id, device=det.device, onnx=onnx,
                                     backend=det.backend_summary)

    # ------------------------------------------------------------------ use
    def detector(self, backend: str = "auto") -> TextDetector:
        """The detector for ``backend``, or an error that says how to get one."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.require_weights()
        if backend == "auto":
            return self._default
        if backend == "torch":
            return self._torch_detector()
        return self._onnx_detector()

    def require_weights(self) -> Path:
        """The served weights file, or the explanation of why there is none."""
        if self._default is None or self._default.weights_path is None:
            raise WeightsNotFoundError(W.NO_WEIGHTS.format(problem=self.problem))
        return self._default.weights_path

    def _torch_detector(self) -> TextDetector:
        with self._lock:
            if self._torch is None:
                self._torch = TextDetector(self.config, weights=self._default.weights_path,
                                           device=self.settings.device, backend="torch")
            return self._torch

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
        """Serve ``path`` from now on (same device and thresholds); returns the new model id.

        The switch is immediate (PyTorch when the int8 model of the new weights is not built
        yet; it follows in the background)."""
        new = self._load(Path(path), build=False)
        self._set_default(new)
        log.info("now serving %s (%s)", new.model_id, path)
        return new.model_id

    def use_onnx(self, path: str | Path) -> None:
        """Use this exported file for the ONNX backend (loaded on first use)."""
        with self._lock:
            self._onnx_path, self._onnx = Path(path), None

    def info(self) -> Dict[str, Any]:
        return {"ready": self.ready, "model": self.model_id, "device": self.device,
                "backend": self.backend_summary,
                "weights": str(self.weights_path) if self.weights_path else None,
                "onnx_model": str(self._onnx_path) if self._onnx_path else None, "problem": self.problem}
