"""DBNet-ResNet18 text detector: network, pre/post-processing, inference and training.

``from models import TextDetector, DetectorConfig`` is all that inference callers need.
"""
from .config import DetectorConfig
from .detector import DetectionResult, TextDetector
from .preprocess import ImageDecodeError, load_image
from .weights import DEFAULT_WEIGHTS, WeightsNotFoundError

__all__ = ["TextDetector", "DetectorConfig", "DetectionResult", "ImageDecodeError",
           "WeightsNotFoundError", "load_image", "DEFAULT_WEIGHTS"]
