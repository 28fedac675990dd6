"""Saving and loading DBNet weights as safetensors, with the architecture in the metadata.

A weights file is self-describing: its metadata holds the ``DBNetConfig`` and free-form
provenance (training run, steps), and its id (file stem + content hash) goes into every
result so a user can tell which model produced a box.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Dict, Tuple

import torch
from safetensors import safe_open
from safetensors.torch import save

from .dbnet import DBNet, DBNetConfig
from .files import atomic_write_bytes, sha256_file

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS = REPO_ROOT / "weights" / "db_resnet18.safetensors"


class WeightsNotFoundError(FileNotFoundError):
    """No trained weights where we looked; the message says how to get some."""


def weights_id(path: str | Path) -> str:
    """``<stem>-<first 10 hex of sha256>``: short, stable, distinct per file content."""
    return f"{Path(path).stem}-{sha256_file(path)[:10]}"


def save_weights(model: DBNet, path: str | Path, meta: Dict[str, object] | None = None,
                 half: bool = True) -> Path:
    """Write the model's state dict (fp16 by default: half the size, same boxes)."""
    path = Path(path)
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        if half and v.is_floating_point():
            v = v.half()
        state[k] = v.contiguous()
    metadata = {"format": "dbnet-resnet18", "arch": json.dumps(asdict(model.config))}
    for k, v in (meta or {}).items():
        metadata[k] = v if isinstance(v, str) else json.dumps(v)
    atomic_write_bytes(path, save(state, metadata=metadata))
    return path


def transplant(source: torch.nn.Module, target: torch.nn.Module) -> int:
    """Copy every tensor of ``source`` whose name and shape ``target`` shares; returns how many.

    A lighter network (a narrower FPN) keeps the trained backbone of a release this way; the
    layers whose shapes changed keep their fresh initialisation.
    """
    own = target.state_dict()
    shared = {k: v for k, v in source.state_dict().items() if k in own and own[k].shape == v.shape}
    target.load_state_dict(shared, strict=False)
    return len(shared)


def read_metadata(path: str | Path) -> Dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def require_weights_file(path: str | Path | None = None) -> Path:
    """The weights file (default: the release), or WeightsNotFoundError saying what to do."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.is_file():
        raise WeightsNotFoundError(
            f"No trained detector weights at {path}. Train them with `python -m app train "
            f"--data DIR` (or render data with `python -m app synth`) and pass the result with "
            f"--weights, or restore weights/db_resnet18.safetensors from the repository. "
            f"Refusing to run an untrained (random) model.")
    return path


def load_model(path: str | Path | None = None) -> Tuple[DBNet, Dict[str, str]]:
    """Build a DBNet from a safetensors file (float32, eval mode) and return its metadata.

    Raises:
        WeightsNotFoundError: the file does not exist (the message explains what to do).
        ValueError: the file is not a DBNet weights file or does not match the network.
    """
    path = require_weights_file(path)
    try:
        meta = read_metadata(path)
        with safe_open(str(path), framework="pt") as f:
            state = {k: f.get_tensor(k).float() for k in f.keys()}
    except Exception as exc:
        raise ValueError(f"{path}: not a readable safetensors weights file ({exc})") from exc
    arch = json.loads(meta.get("arch", "{}"))
    model = DBNet(DBNetConfig(**arch))
    # Weights saved from training mode carry no extra keys; the threshold head is optional
    # for inference-only files.
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("thresh_head.")]
    if missing or unexpected:
        raise ValueError(f"{path}: weights do not match DBNet-{arch.get('backbone', 'resnet18')}: "
                         f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    return model, meta
