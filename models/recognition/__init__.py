"""Optional, offline text recognition of detected boxes (PP-OCRv4 via ONNX Runtime).

``from models.recognition import TextRecognizer, RecognizerConfig``; nothing here is
imported by the detector, so detection works without the recognition model installed.
"""
from .config import RecognizerConfig
from .crop import crop_size, rectify_crop
from .ctc import ctc_greedy_decode
from .files import RecognitionModelMissing
from .recognizer import TextRecognizer

__all__ = ["TextRecognizer", "RecognizerConfig", "RecognitionModelMissing", "rectify_crop", "crop_size",
           "ctc_greedy_decode"]
