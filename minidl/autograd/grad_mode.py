"""Grad mode: whether operations record a graph. The one piece of autograd global state.

`no_grad`, `enable_grad` and `set_grad_enabled` work as context managers and as
decorators, exactly as in PyTorch.
"""
from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled", "anomaly")

    def __init__(self):
        self.enabled = True     # record graphs
        self.anomaly = False    # set_detect_anomaly: check every value for NaN/Inf


STATE = _State()


def is_grad_enabled() -> bool:
    """True when new operations record a graph for backward."""
    return STATE.enabled


class _GradModeContext:
    """Base for the grad-mode switches: a context manager that is also a decorator."""

    mode = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording: `with no_grad(): ...` or `@no_grad()`."""

    mode = False


class enable_grad(_GradModeContext):
    """Enable graph recording inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; works as a function call, context manager or decorator."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self.mode   # PyTorch applies it at once when called as a function

    def __enter__(self):
        pass

    def __call__(self, fn):
        STATE.enabled = self._prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = STATE.enabled
            STATE.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                STATE.enabled = prev
        return wrapper


class set_detect_anomaly:
    """Check every forward result and gradient for NaN/Inf and name the op that made it.

    Use as `set_detect_anomaly(True)` (a switch) or `with set_detect_anomaly(True): ...`.
    Ops record their forward call site while it is on, so it costs time: debug only.
    """

    def __init__(self, mode: bool):
        self._prev = STATE.anomaly
        STATE.anomaly = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self._prev
        return False


def is_anomaly_enabled() -> bool:
    return STATE.anomaly
