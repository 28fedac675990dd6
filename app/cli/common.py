"""Options shared by the commands that run the detector, and building it from them."""
from __future__ import annotations

import argparse
import sys

from models import DetectorConfig, TextDetector
from models.backends.auto import BACKENDS
from models.backends.device import pick_device
from models.recognition import RecognizerConfig, TextRecognizer

from .options import add_options, config_from_args


def add_detector_options(p: argparse.ArgumentParser) -> None:
    """Which model runs where (``--weights``, ``--backend``, ...) and every DetectorConfig knob."""
    g = p.add_argument_group("detector")
    g.add_argument("--weights", help="safetensors weights (default: weights/db_resnet18.safetensors)")
    g.add_argument("--backend", choices=list(BACKENDS), default="auto",
                   help="auto: the fastest verified backend here (the int8 model, built once per weights, "
                        "run by ONNX Runtime, or by OpenVINO where it is installed and measured faster; "
                        "PyTorch on CUDA); torch; onnx (with --model); openvino (--model, default the "
                        "int8 model)")
    g.add_argument("--model", help="exported .onnx file (with --backend onnx or openvino)")
    g.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    add_options(g, DetectorConfig)


def detector_config_from_args(args: argparse.Namespace) -> DetectorConfig:
    return config_from_args(DetectorConfig, args)


def detector_from_args(args: argparse.Namespace) -> TextDetector | None:
    """Build the detector, or print a clear message and return None."""
    try:
        cfg = detector_config_from_args(args)
        det = TextDetector(cfg, weights=args.weights, device=args.device,
                           backend=args.backend, model=args.model)
        print(f"backend: {det.backend_summary}", file=sys.stderr)
        return det
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:   # WeightsNotFoundError too
        print(f"ERROR: {exc}", file=sys.stderr)
    return None


def add_recognizer_options(p: argparse.ArgumentParser) -> None:
    """``--recognize`` (off by default) and every RecognizerConfig knob as ``--rec-...``."""
    g = p.add_argument_group("recognition (optional, offline: PP-OCRv4 from the rapidocr-onnxruntime wheel)")
    g.add_argument("--recognize", action="store_true",
                   help="also read the text in each box: adds 'texts' and 'text_scores' (aligned with "
                        "'boxes') to each JSON")
    add_options(g, RecognizerConfig, prefix="rec-")


def recognizer_from_args(args: argparse.Namespace) -> TextRecognizer | None:
    """The recogniser when ``--recognize`` was given, else None; raises with a clear message
    (RecognitionModelMissing, OnnxModelError, ValueError) when it cannot be built."""
    if not getattr(args, "recognize", False):
        return None
    cfg = config_from_args(RecognizerConfig, args, prefix="rec-")
    rec = TextRecognizer(cfg, device=pick_device(getattr(args, "device", "auto")))
    print(f"recognizer: {rec.model_id} on {rec.device}", file=sys.stderr)
    return rec
