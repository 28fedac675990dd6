"""A ring of fixed-size slots in one shared-memory block, for :mod:`models.gpu_stream`.

Why: a pipe moved about 1 GB/s in tests, and at 1,000 images/s the maps are 2 GB/s; a slot
costs the post-processing process no copy at all. The block is registered as pinned memory
with CUDA where possible, so device-to-slot copies are plain DMA."""
from __future__ import annotations

import ctypes
import logging
import os
import queue
from multiprocessing import shared_memory

import numpy as np
import torch

log = logging.getLogger(__name__)


class SlotRing:
    """Fixed-size slots in one shared-memory block: the maps of one image each; ``free``
    holds the slots no process is reading."""

    def __init__(self, slots: int, slot_bytes: int) -> None:
        self.slot_bytes = slot_bytes
        self.shm = shared_memory.SharedMemory(create=True, size=slots * slot_bytes)
        self.free: "queue.Queue[int]" = queue.Queue()
        for i in range(slots):
            self.free.put(i)
        self.array = np.ndarray((slots, slot_bytes), dtype=np.uint8, buffer=self.shm.buf)
        self.pinned = False
        self._ptr = 0

    def pin(self) -> None:
        """Register the block with CUDA (page-locked): asynchronous copies into it."""
        try:
            self._ptr = ctypes.addressof(ctypes.c_char.from_buffer(self.shm.buf))
            err = torch.cuda.cudart().cudaHostRegister(self._ptr, self.shm.size, 0)
            self.pinned = int(getattr(err, "value", err)) == 0   # cudaSuccess
        except Exception as exc:     # an unsupported runtime: pageable copies still work
            log.info("shared memory not pinned: %s", exc)
            self.pinned = False

    def close(self) -> None:
        if self.pinned:
            try:
                torch.cuda.cudart().cudaHostUnregister(self._ptr)
            except Exception:
                pass
        del self.array
        self.shm.close()
        self.shm.unlink()


def try_ring(slots: int, slot_bytes: int) -> SlotRing | None:
    """The shared-memory ring, or None where /dev/shm cannot hold it (pipes then)."""
    try:
        stat = os.statvfs("/dev/shm")
        if stat.f_bavail * stat.f_frsize < 2 * slots * slot_bytes:
            log.info("/dev/shm too small for %d slots of %d bytes: maps go through pipes", slots, slot_bytes)
            return None
        return SlotRing(slots, slot_bytes)
    except (OSError, ValueError) as exc:
        log.info("no shared memory (%s): maps go through pipes", exc)
        return None
