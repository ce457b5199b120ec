"""One line on stderr the first time a process compiles minidl's Numba kernels.

A kernel compiles on its first call with a new signature, unless Numba's on-disk cache
already holds it; a cold cache costs the first training step 5-15 s, which looked like a
hang. Numba announces each real compile (not a cache load) as a "numba:compile" event;
this listener prints the notice at the first one of a minidl kernel and counts them all
(`minidl doctor --warm` reports the count).
"""
from __future__ import annotations

import os
import sys
import time

MESSAGE = ("minidl: compiling Numba kernels, first run only (5-15 s; later runs load them "
           "from the cache; `minidl doctor --warm` compiles them ahead of time)")

stats = {"compiled": 0, "seconds": 0.0, "told": False}
_installed = []


def install() -> None:
    """Listen for Numba's compile events (once per process)."""
    if _installed:
        return
    from numba.core import event

    class Notice(event.Listener):
        def on_start(self, ev):
            if not _is_minidl_kernel(ev):
                return
            self.started = getattr(self, "started", [])
            self.started.append(time.perf_counter())
            stats["compiled"] += 1
            if not stats["told"] and not os.environ.get("MINIDL_QUIET_COMPILE"):
                stats["told"] = True
                print(MESSAGE, file=sys.stderr, flush=True)

        def on_end(self, ev):
            if _is_minidl_kernel(ev) and getattr(self, "started", None):
                stats["seconds"] += time.perf_counter() - self.started.pop()

    listener = Notice()
    event.register("numba:compile", listener)
    _installed.append(listener)


def _is_minidl_kernel(ev) -> bool:
    dispatcher = (ev.data or {}).get("dispatcher")
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module.startswith("minidl.")
