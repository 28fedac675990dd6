"""What one ONNX export is asked for, and the limits it is held to.

Sizes are multiples of 32 in [320, 1536] (:func:`check_size` says why); each precision has
its tolerance against PyTorch fp32, and int8 its box- or map-agreement gate
(:mod:`models.export.check`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import DetectorConfig
from ..weights import DEFAULT_WEIGHTS

SIZE_MIN, SIZE_MAX, SIZE_STEP = 320, 1536, 32
PRECISIONS = ("fp32", "fp16", "int8")
TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2}      # max |p_onnx - p_torch| on the probability map
INT8_MIN_HMEAN = 0.95                          # box agreement, int8 boxes vs fp32 boxes
INT8_MIN_LOGIT_CORR = 0.99                     # map agreement when boxes cannot be compared
OPSET_MIN, OPSET_DEFAULT = 17, 18


def check_size(name: str, value: int) -> None:
    """Heights and widths must be multiples of 32 in [320, 1536] (the reason is in the message)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer number of pixels (got {value!r})")
    if value < SIZE_MIN or value > SIZE_MAX or value % SIZE_STEP:
        lo = max(SIZE_MIN, value // SIZE_STEP * SIZE_STEP)
        hi = min(SIZE_MAX, lo + SIZE_STEP if value % SIZE_STEP else lo)
        hint = f"; nearest allowed: {lo} or {hi}" if SIZE_MIN <= value <= SIZE_MAX else ""
        raise ValueError(
            f"{name} {value} is not allowed: use a multiple of {SIZE_STEP} between {SIZE_MIN} and "
            f"{SIZE_MAX}{hint}. The network downsamples by 32, so other sizes would be padded "
            f"anyway; below {SIZE_MIN} text becomes too small to find, above {SIZE_MAX} memory "
            f"and time grow with no gain for the detector's size policy.")


@dataclass(frozen=True)
class ExportConfig:
    """One export. ``height``/``width``: the fixed input, or for ``dynamic`` the size used
    to trace, calibrate (int8) and verify."""

    height: int = 800
    width: int = 800
    output: str | Path | None = None        # None: model_<H>x<W>[_dynamic][_<precision>].onnx
    weights: str | Path | None = None       # None: weights/db_resnet18.safetensors
    dynamic: bool = False
    precision: str = "fp32"                 # fp32 | fp16 | int8
    opset: int = OPSET_DEFAULT
    verify_images: int = 6                  # rendered pages compared with PyTorch
    calibration_images: int = 16            # int8: rendered pages for activation ranges
    calibration_method: str = "minmax"      # int8: minmax | percentile | entropy
    int8_check: str = "auto"                # auto | boxes | map (see models.export.check)
    keep_float_head: bool = True            # int8: keep the logit layer + sigmoid in float
    seed: int = 0                           # rendered pages; calibration uses seed + 1
    keep_failed: bool = False               # keep a failed export as <stem>.FAILED.onnx
    detector: DetectorConfig = field(default_factory=DetectorConfig)

    def __post_init__(self) -> None:
        check_size("height", self.height)
        check_size("width", self.width)
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {self.precision!r})")
        import onnx

        top = onnx.defs.onnx_opset_version()
        if not OPSET_MIN <= self.opset <= top:
            raise ValueError(f"opset must be between {OPSET_MIN} and {top} (got {self.opset})")
        if self.verify_images < 3:
            raise ValueError(f"verify_images must be >= 3 to cover the three page styles (got {self.verify_images})")
        if self.precision == "int8" and self.calibration_images < 1:
            raise ValueError(f"calibration_images must be >= 1 (got {self.calibration_images})")
        if self.int8_check not in ("auto", "boxes", "map"):
            raise ValueError(f"int8_check must be auto, boxes or map (got {self.int8_check!r})")

    @property
    def output_path(self) -> Path:
        if self.output is not None:
            return Path(self.output)
        name = f"model_{self.height}x{self.width}" + ("_dynamic" if self.dynamic else "")
        return Path(name + ("" if self.precision == "fp32" else f"_{self.precision}") + ".onnx")

    @property
    def weights_path(self) -> Path:
        return Path(self.weights) if self.weights is not None else DEFAULT_WEIGHTS
