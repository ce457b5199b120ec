"""The compile options every Numba kernel shares, set in one place.

- `cache=True`: the machine code is written to `__pycache__`, so only the first process on
  a machine compiles (benchmarks/RESULTS.md times both starts).
- `error_model="numpy"`: a float division by zero gives inf or NaN, as in the NumPy twins,
  instead of raising ZeroDivisionError. The Python model's zero test on every division also
  keeps LLVM from vectorising a loop: the fused Adam update ran 4.6x slower with it, and
  7.7x slower on denormal values (benchmarks/NOTES.md).
- `nogil=True`: a kernel lets other Python threads run, so the convolution's batch shares
  (kernels.threads) unfold and fold at the same time.
"""
from __future__ import annotations

from numba import njit


def kernel(fn=None, *, parallel: bool = False, fastmath: bool = False):
    """`numba.njit` with minidl's shared options; usable bare (`@kernel`) or with arguments."""
    options = dict(cache=True, error_model="numpy", nogil=True, parallel=parallel,
                   fastmath=fastmath)
    return njit(**options)(fn) if fn is not None else njit(**options)
