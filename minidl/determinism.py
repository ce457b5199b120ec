"""`minidl.use_deterministic_algorithms`: results that do not depend on the thread count.

By default (the determinism contract in the README) the same seed, data and thread count
give bit-identical results: no kernel or BLAS thread choice depends on the clock. A
different thread count may still change the last bits, in one place only on the CPU:
NumPy's BLAS splits a large product across its threads, and one thread and two round
differently (a 64x1568 @ 1568x128 float32 product differs by up to 7e-5). minidl's own
Numba kernels give each output element to one thread, and the convolution's weight
gradient sums its per-sample parts in one fixed order, so neither depends on the count.

`use_deterministic_algorithms(True)` (PyTorch's name) holds BLAS at one thread, so that
results are the same at any `set_num_threads`. What cannot promise it raises (or, with
`warn_only=True`, warns), as in PyTorch: `not_deterministic()` lists those cases.
"""
from __future__ import annotations

import warnings

_state = {"enabled": False, "warn_only": False}

# What cannot give the same bits run after run, or at any thread count, with why.
_CANNOT = {
    "index backward on CUDA":
        "the gradient of x[index] with an integer-array index on a CuPy array is added with "
        "cupy.add.at, whose float atomics add repeated indices in any order",
}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Make results independent of the thread count (torch.use_deterministic_algorithms):
    BLAS runs on one thread while this is on; the ops in `not_deterministic()` raise a
    RuntimeError (a warning with warn_only=True) instead of running."""
    if not isinstance(mode, bool) or not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms: expected bools, got mode={mode!r}, "
                        f"warn_only={warn_only!r}")
    from .kernels import threads
    if mode and not threads.blas_count_settable():
        warnings.warn("use_deterministic_algorithms: this NumPy's BLAS does not let minidl "
                      "set its thread count, so a large matmul may still round differently "
                      "at another thread count (run with OMP_NUM_THREADS=1 to be sure)",
                      RuntimeWarning, stacklevel=2)
    _state["enabled"], _state["warn_only"] = mode, warn_only
    threads.hold_blas_serial(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["enabled"] and _state["warn_only"]


def not_deterministic() -> dict:
    """What cannot promise the same bits under use_deterministic_algorithms, and why."""
    return dict(_CANNOT)


def alert(case: str) -> None:
    """Called where an op of `_CANNOT` is about to run: raise or warn if the mode is on."""
    if not _state["enabled"]:
        return
    message = (f"{case} does not have a deterministic implementation ({_CANNOT[case]}), but "
               f"you set 'minidl.use_deterministic_algorithms(True)'. You can turn off "
               f"determinism just for this operation, or you can use the 'warn_only=True' "
               f"option, if that's acceptable for your application.")
    if _state["warn_only"]:
        warnings.warn(message, UserWarning, stacklevel=3)
    else:
        raise RuntimeError(message)
