"""What every tab shares: the settings, the detector, the job runner, cancel flags."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict

from .jobs import JobRunner
from .service import DetectorService
from .settings import AppSettings


class CancelFlags:
    """One cancel flag per browser session, for the batch tab's cancel button.

    ``threading.Event`` cannot live in ``gr.State`` (state is deep-copied), so the flags
    live here keyed by Gradio's session hash, which both the run and the cancel event see.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: Dict[str, threading.Event] = {}

    def fresh(self, session: str) -> threading.Event:
        with self._lock:
            flag = self._flags[session] = threading.Event()
            return flag

    def cancel(self, session: str) -> bool:
        with self._lock:
            flag = self._flags.get(session)
        if flag is None or flag.is_set():
            return False
        flag.set()
        return True

    def release(self, session: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get(session) is flag:
                del self._flags[session]


@dataclass
class WebContext:
    settings: AppSettings
    service: DetectorService
    jobs: JobRunner = field(default_factory=JobRunner)
    batch_cancels: CancelFlags = field(default_factory=CancelFlags)
