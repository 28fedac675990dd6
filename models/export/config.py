"""What one ONNX export is asked for, and the limits it is held to.

Sizes are multiples of 32 in [320, 1536] (:func:`check_size` says why); each precision has
its tolerance against PyTorch fp32, and int8 its box- or map-agreement gate
(:mod:`models.export.check`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import DetectorConfig
from ..settings import check_settings, setting
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


SIZE = dict(min=SIZE_MIN, max=SIZE_MAX, multiple_of=SIZE_STEP, step=SIZE_STEP, check=check_size)


def _check_opset(name: str, value: int) -> None:
    import onnx

    top = onnx.defs.onnx_opset_version()
    if not isinstance(value, int) or not OPSET_MIN <= value <= top:
        raise ValueError(f"{name} must be between {OPSET_MIN} and {top} (got {value})")


@dataclass(frozen=True)
class ExportConfig:
    """One export. ``height``/``width``: the fixed input, or for ``dynamic`` the size used
    to trace, calibrate (int8) and verify."""

    height: int = setting(800, "input height in pixels", **SIZE)
    width: int = setting(800, "input width in pixels", **SIZE)
    output: str | Path | None = setting(None, "output file (default: model_<H>x<W>[_dynamic][_<precision>].onnx)",
                                        cli_short="-o")
    weights: str | Path | None = setting(None, "safetensors weights (default: weights/db_resnet18.safetensors)")
    dynamic: bool = setting(False, "any input size (multiples of 32); height/width are then used to trace and verify")
    precision: str = setting("fp32", "fp32, fp16 (for GPUs) or int8 (static QDQ, for CPUs)", choices=PRECISIONS)
    opset: int = setting(OPSET_DEFAULT, f"ONNX opset, >= {OPSET_MIN}", check=_check_opset)
    verify_images: int = setting(6, "rendered pages compared with PyTorch (>= 3: the three page styles)", min=3)
    calibration_images: int = setting(16, "int8: rendered calibration pages", min=1)
    calibration_method: str = setting("minmax", "int8: activation range calibration",
                                      choices=("minmax", "percentile", "entropy"))
    int8_check: str = setting("auto", "int8 gate: box agreement (trained weights) or map agreement; auto picks",
                              choices=("auto", "boxes", "map"))
    keep_float_head: bool = setting(True, "int8: keep the logit layer and the sigmoid in float")
    seed: int = setting(0, "seed of the rendered verification pages (calibration uses seed + 1)")
    keep_failed: bool = setting(False, "keep a model that fails verification as <stem>.FAILED.onnx (for debugging)")
    detector: DetectorConfig = setting(default_factory=DetectorConfig, cli=False,
                                       help="thresholds and size policy written into the metadata")

    def __post_init__(self) -> None:
        check_settings(self, "export")

    @property
    def output_path(self) -> Path:
        if self.output is not None:
            return Path(self.output)
        name = f"model_{self.height}x{self.width}" + ("_dynamic" if self.dynamic else "")
        return Path(name + ("" if self.precision == "fp32" else f"_{self.precision}") + ".onnx")

    @property
    def weights_path(self) -> Path:
        return Path(self.weights) if self.weights is not None else DEFAULT_WEIGHTS
