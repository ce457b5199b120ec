"""More unary math: tan, the hyperbolic and inverse trigonometric functions, expm1, erf,
log2/log10/exp2, reciprocal, rounding (floor, ceil, round, trunc, frac) and the
isnan/isinf/isfinite tests. Each Fn's backward is written with Tensor ops."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import ArrayFunction
from ..backend import get_array_module
from ..tensor import constant
from .elementwise import exp, floating, log, sqrt


class TanFn(ArrayFunction):
    """y = tan(x)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (1 + y * y)              # d tan/dx = 1 + tan^2


class SinhFn(ArrayFunction):
    """y = sinh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).sinh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * cosh(x)


class CoshFn(ArrayFunction):
    """y = cosh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).cosh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * sinh(x)


class AsinFn(ArrayFunction):
    """y = arcsin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).arcsin(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / sqrt(1 - x * x)          # 1 / sqrt(1 - x^2)


class AcosFn(ArrayFunction):
    """y = arccos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).arccos(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return -grad_out / sqrt(1 - x * x)


class AtanFn(ArrayFunction):
    """y = arctan(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).arctan(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (1 + x * x)


class Atan2Fn(ArrayFunction):
    """y = atan2(a, b), the angle of the point (b, a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        r2 = a * a + b * b
        return grad_out * b / r2, -grad_out * a / r2   # d/da = b/r^2, d/db = -a/r^2


class Expm1Fn(ArrayFunction):
    """y = exp(x) - 1, accurate for small x."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (y + 1)


_erf = np.frompyfunc(math.erf, 1, 1)     # exact to double precision (libm), elementwise


class ErfFn(ArrayFunction):
    """y = erf(x) = 2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        host = _erf(np.asarray(x.get() if hasattr(x, "get") else x, dtype=np.float64))
        return xp.asarray(host.astype(np.float64)).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (2 / math.sqrt(math.pi)) * exp(-x * x)


def tan(x): return TanFn.apply(floating(x))
def sinh(x): return SinhFn.apply(floating(x))
def cosh(x): return CoshFn.apply(floating(x))
def asin(x): return AsinFn.apply(floating(x))
def acos(x): return AcosFn.apply(floating(x))
def atan(x): return AtanFn.apply(floating(x))
def expm1(x): return Expm1Fn.apply(floating(x))
def erf(x): return ErfFn.apply(floating(x))
def log2(x): return log(x) / math.log(2.0)
def log10(x): return log(x) / math.log(10.0)
def exp2(x): return exp(floating(x) * math.log(2.0))
def reciprocal(x): return 1 / floating(x)


def atan2(input, other):
    return Atan2Fn.apply(floating(input), floating(other))


class RoundingFn(ArrayFunction):
    """y = floor(x), ceil(x), trunc(x) or rint(x): a step function, whose gradient is zero
    (almost everywhere), as PyTorch defines it."""

    @staticmethod
    def forward(ctx, x, fn_name):
        ctx._name = ("Round" if fn_name == "rint" else fn_name.title()) + "Backward0"
        return getattr(get_array_module(x), fn_name)(x)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * 0, None


def _rounded(x, fn_name: str):
    if x.array.dtype.kind in "biu":
        return x.clone()
    return RoundingFn.apply(x, fn_name)


def floor(x): return _rounded(x, "floor")
def ceil(x): return _rounded(x, "ceil")
def trunc(x): return _rounded(x, "trunc")


def round(x, *, decimals: int = 0):   # noqa: A001 (torch.round)
    if decimals:
        scale = 10.0 ** decimals
        return _rounded(x * scale, "rint") / scale
    return _rounded(x, "rint")         # halves to even, as PyTorch


def frac(x): return x - trunc(x)


def isnan(x): return constant(get_array_module(x.array).isnan(x.array))
def isinf(x): return constant(get_array_module(x.array).isinf(x.array))
def isfinite(x): return constant(get_array_module(x.array).isfinite(x.array))
