"""Where inference runs: the device a user asked for (or the best one here) and CPU threads."""
from __future__ import annotations

import os

import torch


def pick_device(requested: str | None = None) -> str:
    """``cuda`` when available (or asked for), else ``cpu``; a bad request is an error."""
    req = (requested or "auto").lower()
    if req == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if req.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was requested but no CUDA GPU is available; use --device cpu")
        return req
    if req == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {requested!r}; use auto, cpu or cuda")


def cpu_threads() -> int:
    """Physical cores if known (hyper-threads do not help convolutions), else all CPUs."""
    try:
        import psutil
        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except Exception:
        pass
    return os.cpu_count() or 1
