"""Keep glibc's malloc from handing a training step's memory back to the system every step.

A training step allocates its activations and gradients, frees them all at its end, and
allocates the same arrays again in the next step. glibc serves arrays above its mmap
threshold with mmap (the threshold starts at 128 KiB and rises to the largest mmapped
array freed so far), and returns the free top of its heap to the system once that top
exceeds the trim threshold (twice the mmap threshold). For the SimpleCNN step (batch 64)
the heap grew by about 9.6 MB and was trimmed back at the end of every step, so every
step faulted the same pages in again: 2 200-2 500 minor page faults, and the step took
25-26 ms at one thread against 17-20 ms without them (benchmarks/NOTES.md).

`tune()` fixes both thresholds (mallopt): arrays up to 32 MiB come from the heap, and up to
TRIM_THRESHOLD bytes of freed heap stay with the process for the next step. Peak memory is
unchanged; memory freed after a large step is kept (up to that bound) instead of returned.
minidl calls it once, when its first Numba kernel loads, on glibc only; the environment
variable `MINIDL_TUNE_MALLOC=0` leaves malloc as it is. (PyTorch's performance guide
suggests a different allocator, jemalloc or tcmalloc, for the same reason.)
"""
from __future__ import annotations

import os

MMAP_THRESHOLD = 32 << 20       # glibc's maximum (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # from glibc's malloc.h

_state = {"tuned": None}


def enabled_by_environment() -> bool:
    return os.environ.get("MINIDL_TUNE_MALLOC", "1").strip().lower() not in (
        "0", "false", "no", "off")


def tune() -> bool:
    """Set glibc's mmap and trim thresholds once; True if they are set (now or before)."""
    if _state["tuned"] is None:
        _state["tuned"] = enabled_by_environment() and _mallopt()
    return _state["tuned"]


def _mallopt() -> bool:
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version           # glibc only: other mallocs have their own rules
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
