"""WebUI server settings: one small dataclass per concern, filled from flags and env vars.

Every number the server enforces (port, caps, time limits, allowed folders) lives here, so
`python -m app serve --help`, the UI's hints and the README read the same defaults.
Environment variables (``OCR_*``, each field's ``env``) let cron and systemd set them
without editing scripts; a command-line flag wins over its variable (``app/cli/options.py``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Tuple

from models.settings import check_settings, setting
from models.weights import REPO_ROOT


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


@dataclass(frozen=True)
class ServerSettings:
    """Where and how the HTTP server listens."""

    host: str = setting("0.0.0.0", "interface to listen on", env="OCR_HOST")
    port: int = setting(7860, "port", min=0, max=65535, env="OCR_PORT")
    auth: Tuple[str, str] | None = setting(None, "require this login (recommended on 0.0.0.0)", env="OCR_AUTH",
                                           cli_parse=parse_auth, metavar="USER:PASS")
    pid_file: Path = setting(REPO_ROOT / "outputs" / ".server.pid", "pid file that stop_app.sh reads",
                             env="OCR_PID_FILE")

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

    concurrency: int = setting(1, "detections/exports running at once (the model is shared); more wait in the queue",
                               min=1, env="OCR_CONCURRENCY")
    queue_size: int = setting(64, "requests that may wait; more are refused", min=1, env="OCR_QUEUE_SIZE")
    time_limit_s: float = setting(60.0, "seconds per single-image request", gt=0.0, cli_name="time-limit",
                                  env="OCR_TIME_LIMIT")
    long_time_limit_s: float = setting(1800.0, "seconds per batch submission or ONNX export", gt=0.0,
                                       cli_name="long-time-limit", env="OCR_LONG_TIME_LIMIT")
    max_file_size: str = setting("25mb", "largest upload, e.g. 25mb (Gradio rejects bigger uploads)",
                                 env="OCR_MAX_FILE_SIZE")
    batch_cap: int = setting(20, "files per batch upload (the seed's memory advice)", min=1, env="OCR_BATCH_CAP")
    gallery_max: int = setting(60, "pictures shown in the batch gallery (all are in the zip)", min=1, cli=False)

    def __post_init__(self) -> None:
        check_settings(self, "server limit")


@dataclass(frozen=True)
class StorageSettings:
    """Where results go, which server folders users may read, and where they may add datasets."""

    output_dir: Path = setting(REPO_ROOT / "outputs", "where results are written (outputs_*/, batch_*/, export_*/)",
                               env="OCR_OUTPUT_DIR")
    workdir_root: Path = setting(REPO_ROOT / "workdirs", "where training runs are written", env="OCR_WORKDIR_ROOT")
    allowed_roots: Tuple[Path, ...] = setting(
        (REPO_ROOT / "data",), "server folders users may read in the batch and training tabs, and add labelled "
                                  "pictures to ('' = none)",
        env="OCR_ALLOWED_ROOTS", cli_parse=parse_roots, metavar="DIR[:DIR...]")


@dataclass(frozen=True)
class ModelSettings:
    """Which detector the server loads once and shares between tabs."""

    weights: Path | None = setting(None, "safetensors weights (default weights/db_resnet18.safetensors)",
                                   env="OCR_WEIGHTS")
    device: str = setting("auto", "auto, cpu or cuda", env="OCR_DEVICE")
    onnx_model: Path | None = setting(None, "exported .onnx for the ONNX Runtime backend choice",
                                      env="OCR_ONNX_MODEL")
    backend: str = setting("auto", "default backend: auto = int8 ONNX Runtime on CPU (built in the background once "
                                   "per weights; PyTorch serves until then), PyTorch on CUDA; torch",
                           choices=("auto", "torch"), env="OCR_BACKEND")


@dataclass(frozen=True)
class AppSettings:
    server: ServerSettings = field(default_factory=ServerSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
