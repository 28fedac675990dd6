"""The one progress-callback signature of long jobs: batch detection, evaluation, rendering.

``progress(done, total, item)`` is called after each item, ``item`` being what was just
finished (a result record, an image score, a file name) so that a caller can show it.
Training reports richer events (loss, evaluations) through its own callback (``models.train``).
"""
from __future__ import annotations

from typing import Any, Callable

ProgressFn = Callable[[int, int, Any], None]
