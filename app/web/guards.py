"""What stands between a browser request and the server: readable errors, time limits,
and the allowed-folders check.

Every tab handler goes through :func:`friendly_errors`, so a user sees one sentence they
can act on (``gr.Error``) and the process keeps serving. The server log gets one line for
an expected user error (no image, a bad file, a folder outside the allowed roots) and a
traceback only for a real fault, printed once by us (never again by Gradio).
"""
from __future__ import annotations

import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import gradio as gr

from app.io.batch import FolderBusyError
from models import ImageDecodeError, WeightsNotFoundError

from . import wording as W
from .jobs import JobBusyError
from .service import ServiceError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Errors whose message is already written for a user: shown as is.
USER_ERRORS = (ImageDecodeError, WeightsNotFoundError, ValueError, FileNotFoundError,
               PermissionError, NotADirectoryError, JobBusyError, FolderBusyError, ServiceError)


class TimeLimitExceeded(RuntimeError):
    """A request ran past the configured time limit."""


def user_error(message: str, title: str = W.TITLE_ERROR) -> gr.Error:
    """A ``gr.Error`` for a problem the user can fix: Gradio must not print its traceback."""
    return gr.Error(message, title=title, print_exception=False)


def friendly_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn any exception of ``fn`` into a ``gr.Error`` with a readable message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as exc:
            log.info("%s refused: %s", fn.__name__, _one_line(exc.message))
            exc.print_exception = False
            raise
        except TimeLimitExceeded as exc:
            log.warning("%s: %s", fn.__name__, exc)
            raise user_error(str(exc), W.TITLE_TIME_LIMIT) from None
        except USER_ERRORS as exc:
            log.info("%s refused: %s", fn.__name__, _one_line(str(exc)))
            raise user_error(str(exc)) from None
        except Exception as exc:  # unexpected: log the traceback once, show a short line
            log.exception("request failed in %s", fn.__name__)
            raise user_error(W.INTERNAL_ERROR.format(kind=type(exc).__name__, error=exc)) from None

    return wrapper


def _one_line(text: str, limit: int = 1000) -> str:
    """A message as one log line (multi-line dataset reports are folded)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


# A few threads for time-limited calls; work past its limit finishes in the background
# (Python cannot kill a thread) but the user gets an answer and the queue moves on.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="timed")


def call_with_time_limit(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``fn()`` and return its result, or raise :class:`TimeLimitExceeded`."""
    future = _pool.submit(fn)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        log.warning("%s exceeded the time limit of %.0f s", what, seconds)
        raise TimeLimitExceeded(W.TIME_LIMIT.format(what=what, seconds=seconds)) from None


def resolve_allowed(folder: str, roots: Sequence[Path], what: str = "folder") -> Path:
    """An existing folder inside one of ``roots`` (symlinks and '..' resolved), or an error.

    The check runs on the fully resolved path, so ``allowed/../../etc`` and a symlink
    pointing out of an allowed root are both refused.
    """
    text = (folder or "").strip()
    if not text:
        raise ValueError(W.ENTER_FOLDER.format(what=what))
    if not roots:
        raise PermissionError(W.FOLDERS_DISABLED)
    # Resolve first (symlinks, '..'), judge the place, and only then look at existence:
    # a refused path must not reveal whether something exists there.
    try:
        path = Path(text).expanduser().resolve()
    except (OSError, RuntimeError):   # symlink loop, unreadable home...
        raise FileNotFoundError(W.CANNOT_RESOLVE.format(path=text)) from None
    if not any(is_within(path, root) for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise PermissionError(W.NOT_ALLOWED.format(path=text, allowed=allowed))
    if not path.exists():
        raise FileNotFoundError(W.FOLDER_NOT_FOUND.format(path=text))
    if not path.is_dir():
        raise NotADirectoryError(W.NOT_A_FOLDER.format(path=text))
    return path


def is_within(path: Path, root: Path) -> bool:
    """True when resolved ``path`` is ``root`` or below it."""
    root = root.resolve()
    return path == root or root in path.parents


def resolve_new_folder(text: str, roots: Sequence[Path], what: str = "dataset folder") -> Path:
    """A folder to create or add to inside one of ``roots``: a bare name goes under the first
    root, a path must resolve (symlinks, '..') inside a root, and never be a root itself."""
    text = (text or "").strip()
    if not text:
        raise ValueError(W.ENTER_FOLDER.format(what=what))
    if not roots:
        raise PermissionError(W.FOLDERS_DISABLED)
    bare = "/" not in text and "\\" not in text and not text.startswith("~")
    try:
        path = (roots[0] / text if bare else Path(text).expanduser()).resolve()
    except (OSError, RuntimeError):
        raise FileNotFoundError(W.CANNOT_RESOLVE.format(path=text)) from None
    if not any(is_within(path, root) for root in roots) or any(path == root.resolve() for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise PermissionError(W.NOT_ALLOWED.format(path=text, allowed=allowed))
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(W.NOT_A_FOLDER.format(path=text))
    return path
