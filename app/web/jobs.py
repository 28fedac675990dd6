"""Background jobs of the WebUI (training): one at a time, observable, cancellable.

A training run lasts minutes to hours, far longer than an HTTP request, so it runs in a
thread; the page polls :meth:`JobRunner.snapshot` with a timer and survives reloads. The
job records the events the trainer emits, which feed the live plot and the log tail.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List

from . import wording as W

log = logging.getLogger(__name__)

Event = Dict[str, Any]
EmitFn = Callable[[Event], None]
JobTarget = Callable[[EmitFn, threading.Event], Any]

IDLE, RUNNING, DONE, FAILED, CANCELLED = "idle", "running", "done", "failed", "cancelled"


class JobBusyError(RuntimeError):
    """Another job is still running; the message says which and since when."""


@dataclass
class Job:
    name: str
    target: JobTarget
    cancel: threading.Event = field(default_factory=threading.Event)
    state: str = RUNNING
    started: float = field(default_factory=time.time)
    finished: float | None = None
    error: str | None = None
    result: Any = None
    events: Deque[Event] = field(default_factory=lambda: deque(maxlen=20000))
    thread: threading.Thread | None = None

    def emit(self, event: Event) -> None:
        self.events.append(dict(event))

    def run(self) -> None:
        try:
            self.result = self.target(self.emit, self.cancel)
            self.state = CANCELLED if self.cancel.is_set() else DONE
        except Exception as exc:  # shown in the UI; the server keeps serving
            log.exception("job %s failed", self.name)
            self.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
            self.state = FAILED
        finally:
            self.finished = time.time()


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state for one UI refresh."""

    name: str
    state: str
    elapsed_s: float
    events: List[Event]
    error: str | None
    result: Any

    @property
    def running(self) -> bool:
        return self.state == RUNNING


class JobRunner:
    """Runs at most one job; a second start while one runs raises :class:`JobBusyError`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: Job | None = None

    def start(self, name: str, target: JobTarget) -> Job:
        with self._lock:
            if self._job is not None and self._job.state == RUNNING:
                since = time.strftime("%H:%M:%S", time.localtime(self._job.started))
                raise JobBusyError(W.JOB_BUSY.format(name=self._job.name, since=since))
            job = Job(name, target)
            job.thread = threading.Thread(target=job.run, name=f"job-{name}", daemon=True)
            self._job = job
        job.thread.start()
        return job

    def snapshot(self) -> JobSnapshot | None:
        job = self._job
        if job is None:
            return None
        end = job.finished or time.time()
        return JobSnapshot(job.name, job.state, end - job.started, list(job.events), job.error, job.result)

    def cancel(self) -> bool:
        """Ask the running job to stop (it saves a checkpoint first); False if none runs."""
        job = self._job
        if job is None or job.state != RUNNING:
            return False
        job.cancel.set()
        return True

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel and wait a little, so a stopping server leaves a resumable checkpoint."""
        job = self._job
        if job is not None and job.state == RUNNING and job.thread is not None:
            job.cancel.set()
            job.thread.join(timeout)
