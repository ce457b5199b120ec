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

import types

import numba
from numba import njit



def kernel(fn=None, *, parallel: bool = False, fastmath=False):
    """`numba.njit` with minidl's shared options; usable bare (`@kernel`) or with arguments.
    `fastmath` is True (every LLVM fast-math flag) or a set of them, as Numba takes it."""
    options = dict(cache=True, error_model="numpy", nogil=True, parallel=parallel,
                   fastmath=fastmath)
    return njit(**options)(fn) if fn is not None else njit(**options)


def twins(fn, **options) -> tuple:
    """Compile the loops `fn` twice: parallel (its `prange` loops split across threads) and
    serial, for inputs too small to pay for starting a parallel region.

    The parallel one is compiled from a copy of `fn` under another qualified name: Numba's
    on-disk cache keys a function by its qualified name, bytecode and signature, not by its
    compile options, so two compilations of one function would load each other's machine
    code from the cache (the "parallel" fused Adam ran on one thread; the "serial" GEMM
    started a parallel region for every 2x2 product)."""
    return kernel(_renamed(fn, "parallel"), parallel=True, **options), kernel(fn, **options)


def _renamed(fn, suffix: str):
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)
    copy.__qualname__ = f"{fn.__qualname__}_{suffix}"
    copy.__module__ = fn.__module__
    return copy


def pick(compiled: tuple, size: int, parallel_min: int):
    """The parallel twin for `size` elements at or above `parallel_min` when Numba has more
    than one thread, else the serial one (by size and thread count: never the clock)."""
    if size >= parallel_min and numba.get_num_threads() > 1:
        return compiled[0]
    return compiled[1]
