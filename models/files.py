"""Files written whole or not at all, and file hashes: one implementation for models/ and app/.

An atomic write puts the bytes in a hidden temporary file beside the target (same file
system, so the rename is atomic), flushes them to disk and renames the file over the
target: a reader sees the old file or the whole new one, and a process killed before the
rename leaves only a ``.<name>.*.tmp`` file, which :func:`remove_stale_temp_files` clears.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

TEMP_SUFFIX = ".tmp"   # atomic writes go to ``.<name>.<random>.tmp`` beside the target

try:
    import fcntl
except ImportError:   # not POSIX: no cross-process locks
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def exclusive_lock(lock_file: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_file`` (created with its folder) for the block,
    waiting for another process that holds it. ``flock`` locks die with their process, so a
    killed writer never leaves it locked; the file itself stays (removing it would race)."""
    path = Path(lock_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through; it replaces ``path`` only when the block ends
    without an exception (after an fsync), and is deleted otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_writer(path) as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temp_files(folder: Path) -> int:
    """Delete the temporary files a killed writer left in ``folder``; returns how many.

    Only call this while no other writer uses the folder (``run_batch`` holds its lock):
    a live writer's temporary file looks the same as a dead one's.
    """
    removed = 0
    if folder.is_dir():
        for p in folder.glob(f".*{TEMP_SUFFIX}"):
            try:
                p.unlink()
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def sha256_file(path: str | os.PathLike, limit: int | None = None) -> str:
    """Hex SHA-256 of a file's content (of its first ``limit`` bytes when given), read in 1 MB chunks."""
    h = hashlib.sha256()
    left = limit
    with open(path, "rb") as f:
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.hexdigest()
