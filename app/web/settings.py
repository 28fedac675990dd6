"""WebUI server settings: one small dataclass per concern, filled from flags and env vars.

Every number the server enforces (port, caps, time limits, allowed folders) lives here, so
`python -m app serve --help`, the UI's hints and the README read the same defaults.
Environment variables (``OCR_*``) let cron and systemd set them without editing scripts;
a command-line flag wins over its variable.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Tuple

from models.weights import REPO_ROOT

# Flag -> environment variable that supplies its default.
ENV = {
    "host": "OCR_HOST",
    "port": "OCR_PORT",
    "auth": "OCR_AUTH",
    "weights": "OCR_WEIGHTS",
    "device": "OCR_DEVICE",
    "onnx_model": "OCR_ONNX_MODEL",
    "backend": "OCR_BACKEND",
    "allowed_roots": "OCR_ALLOWED_ROOTS",
    "concurrency": "OCR_CONCURRENCY",
    "queue_size": "OCR_QUEUE_SIZE",
    "time_limit": "OCR_TIME_LIMIT",
    "long_time_limit": "OCR_LONG_TIME_LIMIT",
    "max_file_size": "OCR_MAX_FILE_SIZE",
    "batch_cap": "OCR_BATCH_CAP",
    "output_dir": "OCR_OUTPUT_DIR",
    "workdir_root": "OCR_WORKDIR_ROOT",
    "pid_file": "OCR_PID_FILE",
}


@dataclass(frozen=True)
class ServerSettings:
    """Where and how the HTTP server listens."""

    host: str = "0.0.0.0"
    port: int = 7860
    auth: Tuple[str, str] | None = None          # (user, password) for the login page
    pid_file: Path = REPO_ROOT / "outputs" / ".server.pid"   # what stop_app.sh reads

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def local_url(self) -> str:
        """An address a browser on this machine can open (0.0.0.0 is not one)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def exposed_without_auth(self) -> bool:
        return self.auth is None and self.host in ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class LimitSettings:
    """Caps that keep one user from starving the others on a small box."""

    concurrency: int = 1              # detections/exports running at once (the model is shared)
    queue_size: int = 64              # requests waiting beyond that; more are refused
    time_limit_s: float = 60.0        # one single-image detection
    long_time_limit_s: float = 1800.0  # one batch submission or one ONNX export
    max_file_size: str = "25mb"       # per uploaded file (Gradio rejects bigger uploads)
    batch_cap: int = 20               # files per batch upload (the seed's memory advice)
    gallery_max: int = 60             # pictures shown in the batch gallery (all are in the zip)

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.queue_size < 1 or self.batch_cap < 1:
            raise ValueError("concurrency, queue size and batch cap must be at least 1")
        if self.time_limit_s <= 0 or self.long_time_limit_s <= 0:
            raise ValueError("time limits must be positive (seconds)")


@dataclass(frozen=True)
class StorageSettings:
    """Where results go, and which server folders users may read."""

    output_dir: Path = REPO_ROOT / "outputs"       # outputs_YYYYMMDDHHMMSS/, batch_*/, export_*/
    workdir_root: Path = REPO_ROOT / "workdirs"    # training runs
    allowed_roots: Tuple[Path, ...] = (REPO_ROOT / "data",)   # server folders for batch/train


@dataclass(frozen=True)
class ModelSettings:
    """Which detector the server loads once and shares between tabs."""

    weights: Path | None = None       # None: models.DEFAULT_WEIGHTS
    device: str = "auto"
    onnx_model: Path | None = None    # enables the ONNX Runtime backend choice
    backend: str = "auto"             # default backend: auto (int8 ONNX on CPU), torch


@dataclass(frozen=True)
class AppSettings:
    server: ServerSettings = field(default_factory=ServerSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    model: ModelSettings = field(default_factory=ModelSettings)


def env_default(name: str, fallback: object, environ: Mapping[str, str] | None = None) -> object:
    """The ``OCR_*`` variable for flag ``name`` when set (and not empty), else ``fallback``."""
    value = (environ if environ is not None else os.environ).get(ENV[name], "")
    return value if value.strip() else fallback


def parse_auth(value: str | None) -> Tuple[str, str] | None:
    """``user:password`` -> tuple; the password may itself contain ':'."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / OCR_AUTH must look like user:password")
    return user, password


def parse_roots(value: str | None) -> Tuple[Path, ...]:
    """Folders separated by ``os.pathsep`` (':' on Linux), resolved to absolute paths."""
    if not value:
        return ()
    return tuple(Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip())
