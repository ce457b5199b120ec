"""Scratch arrays reused from call to call, for the big temporaries of the CPU kernels.

The im2col columns of a convolution are the largest arrays of a training step (29 MB for
a batch of 64 16-channel 28x28 images and a 3x3 kernel). Allocated afresh on every call,
each comes from the operating system as untouched pages, and the first write to every 4 KiB
page faults: on this project's machine that made the unfold 4x slower than the copy itself
(benchmarks/NOTES.md). A workspace keeps the buffers and hands one out again once nothing
uses it any more.

"Nothing uses it" is read from CPython's reference count: an array handed out is a view
whose `.base` is the buffer, so while that view (or any view of it) is alive the buffer's
count stays above the workspace's own references. Buffers no one has taken for
`max_buffers` takes are dropped, so a change of shapes does not pin memory.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

# references to a free buffer while `_free_index` counts them: the workspace's list and
# getrefcount's own argument (no local names it, so no other reference is counted)
_FREE_REFCOUNT = 2


class Workspace:
    """A small pool of byte buffers; `take(shape, dtype)` returns an uninitialised array."""

    def __init__(self, max_buffers: int = 4):
        self.max_buffers = max_buffers
        self._buffers = []          # most recently taken last
        self._lock = threading.Lock()

    def take(self, shape: tuple, dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape` and `dtype`, reusing a free
        buffer of the same size when there is one."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        with self._lock:
            i = self._free_index(nbytes)
            buf = np.empty(nbytes, dtype=np.uint8) if i is None else self._buffers.pop(i)
            self._buffers.append(buf)
            if len(self._buffers) > self.max_buffers:
                self._buffers.pop(0)
            return buf.view(dtype).reshape(shape)

    def _free_index(self, nbytes: int):
        for i in range(len(self._buffers)):
            if (self._buffers[i].nbytes == nbytes
                    and sys.getrefcount(self._buffers[i]) <= _FREE_REFCOUNT):
                return i
        return None

    def clear(self) -> None:
        """Forget every buffer (arrays still in use stay valid: they keep their own)."""
        with self._lock:
            self._buffers.clear()
