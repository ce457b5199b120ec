"""Arithmetic: + - * / ** and friends, comparisons, where/clamp/maximum.

Binary ops broadcast as NumPy does; their backward returns gradients of the broadcast
shape and the engine sums them back to each input's shape.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import ArrayFunction
from ..backend import get_array_module, get_default_dtype
from .. import tensor as _tensor
from .dims import broadcast_shapes


def _shape(v) -> tuple:
    return tuple(np.shape(v.data if isinstance(v, _tensor.Tensor) else v))


def _promote_scalar(a, b):
    """An integer tensor meeting a Python float becomes the default float dtype (PyTorch)."""
    if type(b) is float and isinstance(a, _tensor.Tensor) and a.data.dtype.kind in "biu":
        return a.to(get_default_dtype()), b
    if type(a) is float and isinstance(b, _tensor.Tensor) and b.data.dtype.kind in "biu":
        return a, b.to(get_default_dtype())
    return a, b


def _binary(fn, a, b, op: str):
    """Apply a broadcasting binary Function, turning NumPy's broadcast error into ours."""
    if type(a) is float or type(b) is float:
        a, b = _promote_scalar(a, b)
    try:
        return fn.apply(a, b)
    except ValueError as e:
        if "broadcast" in str(e):
            broadcast_shapes(_shape(a), _shape(b), op)
        raise


class AddFn(ArrayFunction):
    """z = a + b."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, grad_out            # dz/da = dz/db = 1


class SubFn(ArrayFunction):
    """z = a - b."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, -grad_out           # dz/da = 1, dz/db = -1


class MulFn(ArrayFunction):
    """z = a * b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad_out * b if need_a else None,   # dz/da = b
                grad_out * a if need_b else None)   # dz/db = a


class DivFn(ArrayFunction):
    """z = a / b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_out / b if need_a else None              # dz/da = 1/b
        grad_b = -grad_out * a / (b * b) if need_b else None   # dz/db = -a/b^2
        return grad_a, grad_b


class NegFn(ArrayFunction):
    """z = -x."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_out):
        return -grad_out


def _log(v):
    return v.log() if isinstance(v, _tensor.Tensor) else math.log(v)


class PowFn(ArrayFunction):
    """z = a ** b, for a tensor and a scalar in either place or two tensors."""

    @staticmethod
    def forward(ctx, a, b):
        y = get_array_module(a, b).power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = grad_out * b * a ** (b - 1)       # dz/da = b a^(b-1)
        if need_b:
            # dz/db = a^b log a; where a == 0 the limit is 0 (PyTorch's convention)
            grad_b = grad_out * where(a == 0, 0.0, y * _log(where(a == 0, 1.0, a)))
        return grad_a, grad_b


class RemainderFn(ArrayFunction):
    """z = a - floor(a / b) * b (Python's %, as torch.remainder)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a, b).remainder(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_b = -grad_out * floor_divide(a, b) if need_b else None  # dz/db = -floor(a/b)
        return (grad_out if need_a else None), grad_b                  # dz/da = 1


def add(a, b, alpha=1):
    """a + alpha * b, broadcasting (torch.add)."""
    return _binary(AddFn, a, b if alpha == 1 else mul(b, alpha), "add")


def sub(a, b, alpha=1):
    """a - alpha * b, broadcasting (torch.sub)."""
    return _binary(SubFn, a, b if alpha == 1 else mul(b, alpha), "sub")


def mul(a, b):
    """Elementwise product, broadcasting (torch.mul)."""
    return _binary(MulFn, a, b, "mul")


def div(a, b):
    """True division, broadcasting (torch.div)."""
    if not isinstance(a, _tensor.Tensor) or a.data.dtype.kind in "biu":
        if isinstance(a, _tensor.Tensor) and not (isinstance(b, _tensor.Tensor)
                                                  and b.data.dtype.kind == "f"):
            a = a.to(get_default_dtype())     # int / int gives a float, as in PyTorch
    return _binary(DivFn, a, b, "div")


def neg(x):
    """-x."""
    return NegFn.apply(x)


def pow(a, b):
    """a ** b (torch.pow); an integer tensor to a float power becomes float."""
    return _binary(PowFn, a, b, "pow")


def remainder(a, b):
    """Python-style modulus (torch.remainder)."""
    return _binary(RemainderFn, a, b, "remainder")


def _constant(array):
    return _tensor.Tensor._wrap(np.asarray(array) if np.isscalar(array) else array,
                                False, None, 0)


def _data(v):
    return v.data if isinstance(v, _tensor.Tensor) else v


def _compare(ufunc_name: str, a, b, op: str):
    """A comparison: no gradient, a bool tensor."""
    xp = get_array_module(_data(a), _data(b))
    try:
        return _constant(getattr(xp, ufunc_name)(_data(a), _data(b)))
    except ValueError:
        broadcast_shapes(_shape(a), _shape(b), op)
        raise


def eq(a, b): return _compare("equal", a, b, "eq")
def ne(a, b): return _compare("not_equal", a, b, "ne")
def lt(a, b): return _compare("less", a, b, "lt")
def le(a, b): return _compare("less_equal", a, b, "le")
def gt(a, b): return _compare("greater", a, b, "gt")
def ge(a, b): return _compare("greater_equal", a, b, "ge")
def logical_and(a, b): return _compare("logical_and", a, b, "logical_and")
def logical_or(a, b): return _compare("logical_or", a, b, "logical_or")


def logical_not(x):
    return _constant(get_array_module(_data(x)).logical_not(_data(x)))


def floor_divide(a, b):
    """Floor division; like PyTorch's, it has no gradient."""
    xp = get_array_module(_data(a), _data(b))
    return _constant(xp.floor_divide(_data(a), _data(b)))


class WhereFn(ArrayFunction):
    """z = a where cond else b."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return get_array_module(cond, a, b).where(cond, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        cond = _constant(ctx.cond)
        _, need_a, need_b = ctx.needs_input_grad
        return (None,
                grad_out * cond if need_a else None,       # dz/da = 1 where cond
                grad_out * (~cond) if need_b else None)    # dz/db = 1 elsewhere


def where(condition, a, b):
    """Choose from a where condition holds, else from b (torch.where)."""
    cond = _data(condition)
    if getattr(cond, "dtype", None) != np.bool_:
        raise TypeError(f"where: expected condition to be a bool tensor, got "
                        f"{getattr(cond, 'dtype', type(cond).__name__)}")
    try:
        return WhereFn.apply(condition, a, b)
    except ValueError:
        broadcast_shapes(broadcast_shapes(_shape(cond), _shape(a), "where"), _shape(b), "where")
        raise


def masked_fill(x, mask, value):
    """x with `value` where mask is True (Tensor.masked_fill)."""
    return where(mask, value, x)


class ClampFn(ArrayFunction):
    """z = min(max(x, lo), hi)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return get_array_module(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        inside = x.data == x.data                    # all True (False only at NaN)
        if ctx.lo is not None:
            inside = inside & (x.data >= ctx.lo)
        if ctx.hi is not None:
            inside = inside & (x.data <= ctx.hi)
        return grad_out * _constant(inside), None, None    # 1 inside [lo, hi], else 0


def clamp(x, min=None, max=None):
    """Clamp into [min, max] (torch.clamp); the gradient is 1 inside, 0 outside."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    lo = _data(min)
    hi = _data(max)
    return ClampFn.apply(x, lo, hi)


class MaximumFn(ArrayFunction):
    """z = max(a, b) elementwise; ties split the gradient in half, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a, b)
        ctx.share_a = (a > b) + 0.5 * (a == b)
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        share_a = _constant(ctx.share_a.astype(grad_out.dtype))
        return grad_out * share_a, grad_out * (1 - share_a)


def maximum(a, b):
    return _binary(MaximumFn, a, b, "maximum")


def minimum(a, b):
    return neg(maximum(neg(a), neg(b)))
