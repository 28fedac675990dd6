"""RecognizerConfig: every knob of text recognition, declared once (:mod:`models.settings`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict

from ..settings import check_settings, setting


@dataclass(frozen=True)
class RecognizerConfig:
    """How crops are cut, batched and read. The defaults are PaddleOCR's for PP-OCRv4.

    ``model`` empty means the recogniser shipped inside the ``rapidocr-onnxruntime`` wheel
    (:mod:`models.recognition.files`); nothing is ever downloaded at run time.
    """

    model: str = setting("", "recognition ONNX file (default: PP-OCRv4 from the rapidocr-onnxruntime "
                         "wheel); its character list is read from the model's 'character' metadata",
                         metavar="PATH")
    batch_size: int = setting(6, "crops per recogniser run (crops are sorted by width first, so a batch "
                              "pads little)", min=1, max=256)
    rotate_ratio: float = setting(1.5, "a crop at least this many times taller than wide is turned 90 "
                                  "degrees (vertical boxes hold rotated lines)", gt=0.0, max=100.0)
    min_width: int = setting(320, "batches are padded to at least this width in pixels (PaddleOCR trains "
                             "PP-OCRv4 at 48x320; lower is faster on short crops)", min=8, max=16384)
    max_width: int = setting(3200, "cap in pixels on a crop's width after resizing to the model's height "
                             "(a very long line is squeezed instead of exhausting memory)", min=32, max=16384)

    def __post_init__(self) -> None:
        check_settings(self, "recognizer", extra=[
            f"min_width ({self.min_width}) must not exceed max_width ({self.max_width})"
            if self.min_width > self.max_width else ""])

    def with_overrides(self, **overrides: Any) -> "RecognizerConfig":
        """A copy with the given fields changed; ``None`` values are ignored."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown recognizer setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
