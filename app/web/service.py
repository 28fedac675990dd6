"""The one detector the server shares between tabs, and swapping it for new weights.

Loaded once at start-up. Without trained weights the server still starts (so users can
train some in the WebUI), but every detection answers with the reason instead of running
a random model. The training tab swaps in freshly trained weights without a restart.

The default backend is ``auto`` (:mod:`models.backends.auto`): on a CPU it is the int8
ONNX Runtime model of the served weights. Building that model takes about a minute the
first time for each weights file, so the server starts with PyTorch at once and swaps in
the int8 model from a background thread when it is ready; the header says which runs.

Swapping is guarded: :meth:`use_weights` refuses the weights of a training run that did not
finish (cancelled, failed, still running), :meth:`revert` serves the released weights (those
the server started with) again, and every swap or revert drops a user-exported ONNX file,
which belongs to the previous weights, so the ONNX backend never serves other weights than
the rest (the header says it needs a new export).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Dict

from models import DEFAULT_WEIGHTS, DetectorConfig, TextDetector, WeightsNotFoundError
from models.recognition import TextRecognizer

from . import wording as W
from .runs import run_of_weights
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
        self._recognizer: TextRecognizer | None = None   # loaded on the first request that asks for it
        self._onnx_path: Path | None = settings.onnx_model
        self._onnx_dropped: str | None = None   # name of the export a swap dropped, for the banner
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
        pending = det.choice.int8_pending
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
    def released_weights(self) -> Path:
        """The weights :meth:`revert` serves: those the server started with (``--weights``,
        by default the released ``weights/db_resnet18.safetensors``)."""
        return Path(self.settings.weights or DEFAULT_WEIGHTS)

    @property
    def swapped(self) -> bool:
        """Whether weights other than the released ones are served."""
        path = self.weights_path
        return path is not None and path.resolve() != self.released_weights.resolve()

    @property
    def can_revert(self) -> bool:
        return self.swapped and self.released_weights.is_file()

    @property
    def backend_summary(self) -> str | None:
        return self._default.backend_summary if self._default else None

    def banner(self) -> str:
        """Markdown shown at the top of every page: which model serves, or why none does."""
        det = self._default
        if det is None:
            return W.BANNER_NO_WEIGHTS.format(problem=self.problem)
        onnx = f" · ONNX: `{self._onnx_path.name}`" if self._onnx_path else ""
        if self._onnx_path is None and self._onnx_dropped:
            onnx = W.BANNER_ONNX_DROPPED.format(name=self._onnx_dropped)
        swapped = W.BANNER_SWAPPED.format(path=det.weights_path) if self.swapped else ""
        return W.BANNER_MODEL.format(model=det.model_id, device=det.device, onnx=onnx,
                                     backend=det.backend_summary, swapped=swapped)

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

    def recognizer(self) -> TextRecognizer:
        """The shared text recogniser (loaded once, on first use; it does not depend on the
        served detector weights, so swaps keep it), or an error that says how to get one."""
        with self._lock:
            if self._recognizer is None:
                try:
                    self._recognizer = TextRecognizer(device=self.device)
                except (ImportError, ValueError, FileNotFoundError) as exc:   # model missing or unusable
                    raise ServiceError(W.RECOGNITION_UNAVAILABLE.format(error=exc)) from None
            return self._recognizer

    def use_weights(self, path: str | Path) -> str:
        """Serve ``path`` from now on (same device and thresholds); returns the new model id.

        Weights written by a training run are served only when that run finished (see
        :func:`app.web.runs.run_of_weights`); otherwise a ``ValueError`` says why. The
        switch is immediate (PyTorch when the int8 model of the new weights is not built
        yet; it follows in the background) and drops the user-exported ONNX file."""
        path = Path(path)
        run = run_of_weights(path)
        if run is not None and not run.finished:
            raise ValueError(W.REFUSED_WEIGHTS.format(path=path, reason=run.problem))
        return self._swap(path)

    def revert(self) -> str:
        """Serve the released weights again (see :attr:`released_weights`); returns the model id."""
        path = self.released_weights
        if not path.is_file():
            raise FileNotFoundError(W.NO_RELEASED_WEIGHTS.format(path=path))
        return self._swap(path)

    def _swap(self, path: Path) -> str:
        new = self._load(path, build=False)
        self._set_default(new)
        with self._lock:
            if self._onnx_path is not None:
                self._onnx_dropped = self._onnx_path.name
            self._onnx_path, self._onnx = None, None
        log.info("now serving %s (%s); the exported ONNX model, if any, was dropped", new.model_id, path)
        return new.model_id

    def use_onnx(self, path: str | Path, weights: Path | None = None) -> bool:
        """Use this exported file for the ONNX backend (loaded on first use). ``weights``:
        those it was exported from; when other weights are served by now (a swap during
        the export) the file is not used and False is returned."""
        with self._lock:
            served = self._default.weights_path if self._default else None
            if weights is not None and served is not None and Path(weights).resolve() != served.resolve():
                return False
            self._onnx_path, self._onnx, self._onnx_dropped = Path(path), None, None
            return True

    def info(self) -> Dict[str, Any]:
        return {"ready": self.ready, "model": self.model_id, "device": self.device,
                "backend": self.backend_summary,
                "weights": str(self.weights_path) if self.weights_path else None,
                "onnx_model": str(self._onnx_path) if self._onnx_path else None, "problem": self.problem,
                "released": not self.swapped}
