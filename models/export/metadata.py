"""What an exported ``.onnx`` file says about itself (its ``metadata_props``).

An exported model must be usable on its own, by us or by anyone with ONNX Runtime: the
metadata holds the normalisation, the size policy, the default thresholds (from
``DetectorConfig``), the weights it came from, its precision and its verification result.
All values are strings (ONNX metadata is string to string); structured ones are JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Tuple

from ..config import DetectorConfig

FORMAT = "dbnet-resnet18-probability-map"
PRODUCER = "cv_resnet18_ocr-detection"
INPUT_NAME = "images"
OUTPUT_NAME = "prob"
#: A network with a word map has a second output, its word map (``models.backends.word_branch``
#: runs it apart from the lines, for the images that want words).
WORD_OUTPUT_NAME = "word_prob"
# Node metadata key under which the exporter records each node's module path (reports name layers by it).
SCOPE_KEY = "pkg.torch.onnx.name_scopes"

# Verification states written by models.export: a file is first saved "pending", then
# rewritten as "passed"; a file kept after a failed check (keep_failed) says "failed".
VERIFICATION_PASSED = "passed"
VERIFICATION_FAILED = "failed"
VERIFICATION_PENDING = "pending"


def size_policy(height: int, width: int, dynamic: bool, cfg: DetectorConfig) -> Dict[str, Any]:
    """How images must be brought to the network input (what :mod:`models.preprocess` does)."""
    common = {
        "resize": "keep the aspect ratio; scale so the long side is at most limit_side "
                  "(limit_type 'max') and never above max_side",
        "pad": "pad bottom and right with the mean colour (normalises to 0); never stretch",
        "limit_side": cfg.limit_side, "limit_type": cfg.limit_type, "max_side": cfg.max_side,
        "stride": 32,
    }
    if dynamic:
        return dict(common, mode="dynamic",
                    input="any height and width that are multiples of 32 (pad up to them)",
                    exported_at=[height, width])
    return dict(common, mode="fixed", height=height, width=width,
                input=f"exactly {height}x{width}: scale down further if needed to fit, then pad")


def build_metadata(*, height: int, width: int, dynamic: bool, precision: str, opset: int,
                   weights_id: str, cfg: DetectorConfig, extra: Mapping[str, Any] | None = None,
                   word_map: bool = False) -> Dict[str, str]:
    """The ``metadata_props`` of an export (verification fields are added after checking)."""
    meta: Dict[str, Any] = {
        "format": FORMAT,
        "producer": PRODUCER,
        "input": f"{INPUT_NAME}: float32 [N,3,H,W], RGB, (pixel/255 - mean) / std",
        "output": (f"{OUTPUT_NAME}: float32 [N,1,H,W], text probability per input pixel (lines)"
                   + (f"; {WORD_OUTPUT_NAME}: float32 [N,1,H,W], the same for words" if word_map else "")),
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        "shape": "dynamic" if dynamic else "fixed",
        "input_height": "dynamic" if dynamic else height,
        "input_width": "dynamic" if dynamic else width,
        "size_policy": size_policy(height, width, dynamic, cfg),
        "detector_config": cfg.to_dict(),
        "postprocess": "DB: binarize prob > thresh, contours, mean score >= box_thresh, "
                       "unclip by area * unclip_ratio / perimeter, min-area quad",
        "weights_id": weights_id,
        "precision": precision,
        "opset": opset,
        "verification": VERIFICATION_PENDING,
    }
    meta.update(extra or {})
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}


@dataclass
class OnnxModelInfo:
    """The parsed metadata; fields are ``None`` for files exported by other tools."""

    raw: Dict[str, str] = field(default_factory=dict)
    precision: str | None = None
    weights_id: str | None = None
    dynamic: bool | None = None
    mean: Tuple[float, float, float] | None = None
    std: Tuple[float, float, float] | None = None
    detector_config: Dict[str, Any] = field(default_factory=dict)
    verification: str | None = None

    @property
    def ours(self) -> bool:
        return self.raw.get("format") == FORMAT

    def config(self, **overrides: Any) -> DetectorConfig:
        """The ``DetectorConfig`` stored at export (known fields only), with overrides."""
        known = {k: v for k, v in self.detector_config.items() if k in DetectorConfig.__dataclass_fields__}
        for k in ("mean", "std"):
            if k in known:
                known[k] = tuple(known[k])
        return DetectorConfig(**known).with_overrides(**overrides)


def _json(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_metadata(meta: Mapping[str, str]) -> OnnxModelInfo:
    """Read what :func:`build_metadata` wrote; tolerant of foreign or partial metadata."""
    raw = dict(meta)
    mean, std = _json(raw.get("mean")), _json(raw.get("std"))
    det = _json(raw.get("detector_config"))
    shape = raw.get("shape")
    return OnnxModelInfo(
        raw=raw,
        precision=raw.get("precision"),
        weights_id=raw.get("weights_id"),
        dynamic=None if shape is None else shape == "dynamic",
        mean=tuple(float(v) for v in mean) if isinstance(mean, list) and len(mean) == 3 else None,
        std=tuple(float(v) for v in std) if isinstance(std, list) and len(std) == 3 else None,
        detector_config=det if isinstance(det, dict) else {},
        verification=raw.get("verification"),
    )


# ---------------------------------------------------------------------------- reading cheaply
_METADATA_FIELD = 14    # ModelProto.metadata_props (repeated StringStringEntryProto)


def _varint(read) -> int | None:
    shift = result = 0
    while True:
        b = read(1)
        if not b:
            return None
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("malformed varint")


def _entry(buf: bytes) -> Tuple[str, str]:
    """Decode one StringStringEntryProto (key = field 1, value = field 2)."""
    out = {1: "", 2: ""}
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        chunk = buf[pos:pos + n]
        pos += n
        return chunk
    while pos < len(buf):
        tag = _varint(read)
        if tag is None or tag & 7 != 2:
            raise ValueError("unexpected field in a metadata entry")
        n = _varint(read)
        out[tag >> 3] = read(n).decode("utf-8")
    return out[1], out[2]


def read_metadata_file(path) -> Dict[str, str]:
    """``metadata_props`` of an ``.onnx`` file without parsing its graph and weights.

    Walks the top-level protobuf fields and seeks over the others, so reading the metadata
    of a 50 MB model costs a few kilobytes of memory instead of a second copy of it.

    Raises:
        ValueError: the file is not a well-formed ONNX protobuf.
    """
    meta: Dict[str, str] = {}
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        while True:
            tag = _varint(f.read)
            if tag is None:
                break
            field_no, wire = tag >> 3, tag & 7
            if wire == 0:
                if _varint(f.read) is None:
                    raise ValueError("truncated varint")
            elif wire == 2:
                n = _varint(f.read)
                if n is None or f.tell() + n > size:
                    raise ValueError("truncated field")
                if field_no == _METADATA_FIELD:
                    key, value = _entry(f.read(n))
                    meta[key] = value
                else:
                    f.seek(n, 1)
            elif wire == 1:
                f.seek(8, 1)
            elif wire == 5:
                f.seek(4, 1)
            else:
                raise ValueError(f"not an ONNX model (wire type {wire} at the top level)")
    return meta
