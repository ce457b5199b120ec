"""Tools for testing ops: gradient checks, Hypothesis strategies, assert_close.

The strategies need Hypothesis (`pip install minidl[dev]`); they load on first use so
`import minidl.testing` works without it.
"""
from ..autograd.gradcheck import gradcheck, gradgradcheck, GradcheckError
from .compare import assert_close


def __getattr__(name):
    if name in ("shapes", "broadcastable_shapes", "tensors", "arrays"):
        from . import strategies
        return getattr(strategies, name)
    raise AttributeError(f"module 'minidl.testing' has no attribute '{name}'")
