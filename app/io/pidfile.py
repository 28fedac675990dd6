"""The server's pid file: how `bash stop_app.sh` finds our process and only ours.

The seed stopped the service with `pkill python`, which kills every Python process on the
box. The pid file names exactly one process, and both sides check that the process behind
a pid is still `python -m app serve` (pids get reused after a crash or reboot).
"""
from __future__ import annotations

import os
from pathlib import Path

from models.files import atomic_write_text


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def is_our_server(pid: int) -> bool:
    """True when ``pid`` is alive and runs ``-m app serve`` (Linux /proc; else: alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False   # someone else's process: not ours
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"app" in args and b"serve" in args


def claim(path: Path) -> None:
    """Write our pid, refusing when another live server already holds the file."""
    other = read_pid(path)
    if other is not None and other != os.getpid() and is_our_server(other):
        raise RuntimeError(f"another WebUI server is already running (pid {other}, pid file {path}); "
                           f"stop it with `bash stop_app.sh` or use --pid-file for a second server")
    atomic_write_text(path, f"{os.getpid()}\n")


def release(path: Path) -> None:
    """Remove the pid file if it is still ours."""
    if read_pid(path) == os.getpid():
        try:
            path.unlink()
        except OSError:
            pass
