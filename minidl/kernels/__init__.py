"""Array-in, array-out compute kernels. They know nothing of Tensor or autograd.

`reference` holds the plain-NumPy (xp-generic) versions: the readable ones, the test
oracle, the CuPy path and the fallback. The `*_numba` modules hold Numba-compiled twins for
CPU arrays; they load (and compile, or read the on-disk cache) on first use, never at
`import minidl`.

The switch between them (the one documented way):
- environment variable `MINIDL_NUMBA=0` starts with the Numba kernels off;
- `minidl.kernels.use_numba(False)` turns them off, as a call or as a context manager:

      with minidl.kernels.use_numba(False):
          loss = model(x)          # plain-NumPy kernels, to read and to time

If Numba cannot be imported, minidl warns once and runs the plain-NumPy kernels.
"""
from __future__ import annotations

import importlib
import os
import warnings

import numpy as np

from . import reference

_state = {"enabled": os.environ.get("MINIDL_NUMBA", "1").strip().lower()
          not in ("0", "false", "no", "off"),
          "available": None}
_modules = {}


def numba_available() -> bool:
    """True when Numba imports; warns once when it does not."""
    if _state["available"] is None:
        try:
            import numba  # noqa: F401
            _state["available"] = True
        except Exception as exc:    # missing, or a broken llvmlite
            warnings.warn(f"minidl: Numba is unavailable ({exc}); running the plain-NumPy "
                          "kernels", RuntimeWarning, stacklevel=3)
            _state["available"] = False
    return _state["available"]


def numba_enabled() -> bool:
    """True when ops should call the Numba kernels for CPU arrays."""
    return _state["enabled"] and numba_available()


class use_numba:
    """Turn the Numba kernels on or off: `use_numba(False)` or `with use_numba(False): ...`."""

    def __init__(self, enabled: bool = True):
        self._prev = _state["enabled"]
        _state["enabled"] = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state["enabled"] = self._prev
        return False


def numba_kernels(name: str):
    """The Numba kernel module `minidl.kernels.<name>`, imported on first use."""
    module = _modules.get(name)
    if module is None:
        first = not _modules
        module = _modules[name] = importlib.import_module(f"{__name__}.{name}")
        if first:                           # the CPU kernels' first use
            from . import compile_notice, malloc
            compile_notice.install()        # a line on stderr if they must compile
            from .threads import get_num_threads, quiet_openmp
            quiet_openmp()                  # before Numba starts its OpenMP threads
            _numba_threads(get_num_threads())
            malloc.tune()                   # keep malloc from trimming every step
    return module


def for_array(x, name: str):
    """Where an op on the array `x` computes, the one rule every op follows: the Numba
    kernel module `minidl.kernels.<name>` for a NumPy array when the Numba kernels are on,
    else the plain-NumPy twins in `kernels.reference` (also the path of CuPy arrays)."""
    if type(x) is np.ndarray and numba_enabled():
        return numba_kernels(name)
    return reference


def _numba_threads(n: int) -> None:
    """Numba's parallel loops use n threads (at most NUMBA_NUM_THREADS), once a Numba
    kernel module is loaded (numba_kernels passes the count on then; Numba is not imported
    just to be told it)."""
    if _modules:
        import numba
        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
