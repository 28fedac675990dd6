"""Where the recogniser's model comes from: the ONNX file inside the ``rapidocr-onnxruntime``
wheel (PP-OCRv4, Apache-2.0), found through the package metadata.

Why not ``import rapidocr_onnxruntime``: its ``__init__`` imports ``cv2`` from
``opencv-python``, which clashes with our ``opencv-python-headless``. We install the wheel
with ``--no-deps`` (scripts/ensure_venv.sh) and only read its data files; importlib.metadata
locates them without executing any of its code.
"""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

PACKAGE = "rapidocr-onnxruntime"
PACKAGE_VERSION = "1.4.4"
REC_MODEL = "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"
INSTALL_HINT = (f"install it offline-capable once with `.venv/bin/python -m pip install --no-deps "
                f"{PACKAGE}=={PACKAGE_VERSION}` (scripts/ensure_venv.sh does this), or pass a "
                f"recognition model with --rec-model")


class RecognitionModelMissing(FileNotFoundError):
    """No recognition model on disk; the message says how to get one."""


def default_model_path() -> Path:
    """The PP-OCRv4 recognition ONNX file of the installed wheel.

    Raises:
        RecognitionModelMissing: the wheel is not installed or lacks the file.
    """
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RecognitionModelMissing(f"text recognition needs the {PACKAGE} package: {INSTALL_HINT}") from None
    path = Path(str(dist.locate_file(REC_MODEL)))
    if not path.is_file():
        raise RecognitionModelMissing(f"{PACKAGE} {dist.version} has no {REC_MODEL} ({path}); {INSTALL_HINT}")
    return path


def resolve_model_path(model: str | Path | None) -> Path:
    """``model`` when given (it must exist), else :func:`default_model_path`."""
    if model:
        path = Path(model)
        if not path.is_file():
            raise RecognitionModelMissing(f"recognition model not found: {path}")
        return path
    return default_model_path()
