"""Inference configuration: one dataclass that the UI, the command line and the ONNX
metadata all read their defaults from."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Tuple

IMAGENET_MEAN: Tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: Tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of one detection, with the defaults we ship.

    ``thresh`` is the seed WebUI's "detection threshold" slider (default 0.2): the
    probability above which a pixel counts as text. ``box_thresh`` then drops whole
    regions whose mean probability is low.
    """

    thresh: float = 0.2              # binarisation of the probability map (seed slider)
    box_thresh: float = 0.4          # minimum mean probability of a region (tuned: MODEL_CARD.md)
    unclip_ratio: float = 1.4        # DB offset D = A * r / L when growing the shrunk kernel (tuned)
    max_candidates: int = 1000       # contours examined per image
    min_size: int = 3                # drop boxes whose short side (in input pixels) is smaller
    score_mode: str = "fast"         # "fast": mean over the box; "slow": mean over the polygon
    box_type: str = "quad"           # "quad": min-area quadrilateral; "poly": polygon as well
    use_dilation: bool = False       # 2x2 dilation of the bitmap (joins broken strokes)
    limit_side: int = 1280           # size policy: see limit_type (1280: small receipt text survives)
    limit_type: str = "max"          # "max": long side <= limit_side; "min": short side >= limit_side
    max_side: int = 2048             # hard cap on the long side whatever the policy
    max_megapixels: float = 40.0     # decoded images above this are refused
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        problems = []
        for name in ("thresh", "box_thresh"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                problems.append(f"{name} must be between 0 and 1 (got {v})")
        if not 0.5 <= self.unclip_ratio <= 5.0:
            problems.append(f"unclip_ratio must be between 0.5 and 5 (got {self.unclip_ratio})")
        if self.max_candidates < 1:
            problems.append(f"max_candidates must be >= 1 (got {self.max_candidates})")
        if self.min_size < 0:
            problems.append(f"min_size must be >= 0 (got {self.min_size})")
        if self.score_mode not in ("fast", "slow"):
            problems.append(f"score_mode must be 'fast' or 'slow' (got {self.score_mode!r})")
        if self.box_type not in ("quad", "poly"):
            problems.append(f"box_type must be 'quad' or 'poly' (got {self.box_type!r})")
        if self.limit_type not in ("max", "min"):
            problems.append(f"limit_type must be 'max' or 'min' (got {self.limit_type!r})")
        if not 32 <= self.limit_side <= 4096:
            problems.append(f"limit_side must be between 32 and 4096 (got {self.limit_side})")
        if not 32 <= self.max_side <= 8192:
            problems.append(f"max_side must be between 32 and 8192 (got {self.max_side})")
        if self.max_megapixels <= 0:
            problems.append(f"max_megapixels must be positive (got {self.max_megapixels})")
        if problems:
            raise ValueError("invalid detector settings: " + "; ".join(problems))

    def with_overrides(self, **overrides: Any) -> "DetectorConfig":
        """A copy with the given fields changed; ``None`` values are ignored."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown detector setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    def params(self) -> Dict[str, Any]:
        """The settings recorded in each result's JSON (``params`` key)."""
        return {k: getattr(self, k) for k in (
            "thresh", "box_thresh", "unclip_ratio", "max_candidates", "min_size",
            "score_mode", "box_type", "limit_side", "limit_type", "max_side")}
