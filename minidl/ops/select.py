"""Comparisons and selections: eq/ne/lt/le/gt/ge and the logical ops (no gradient),
where, masked_fill, clamp, maximum and minimum.

Binary ops broadcast as NumPy does, with arithmetic's type promotion; their backward
returns gradients of the broadcast shape and the engine sums them back to each input.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import ArrayFunction, torch_node
from ..backend import get_array_module
from .. import tensor as _tensor
from .arithmetic import _binary, _data, _promote, _shape
from .dims import broadcast_shapes, result_type


def _compare(ufunc_name: str, a, b, op: str):
    """A comparison: no gradient, a bool tensor."""
    xp = get_array_module(_data(a), _data(b))
    try:
        return _tensor.constant(getattr(xp, ufunc_name)(_data(a), _data(b)))
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
    return _tensor.constant(get_array_module(_data(x)).logical_not(_data(x)))


class WhereFn(ArrayFunction):
    """z = a where cond else b."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.watch(cond)
        return get_array_module(cond, a, b).where(cond, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        cond = _tensor.constant(ctx.cond)
        _, need_a, need_b = ctx.needs_input_grad
        return (None,
                grad_out * cond if need_a else None,       # dz/da = 1 where cond
                grad_out * (~cond) if need_b else None)    # dz/db = 1 elsewhere


def where(condition, a, b):
    """Choose from a where condition holds, else from b (torch.where)."""
    cond = _data(condition)
    if getattr(cond, "dtype", None) != np.bool_:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got "
                           f"{getattr(cond, 'dtype', type(cond).__name__)}")
    Tensor = _tensor.Tensor
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):   # two numbers
        dtype, xp = result_type(a, b), get_array_module(cond)
        a, b = _tensor.constant(xp.asarray(a, dtype)), _tensor.constant(xp.asarray(b, dtype))
    a, b = _promote(a, b)
    try:
        return WhereFn.apply(condition, a, b)
    except ValueError:
        broadcast_shapes(broadcast_shapes(_shape(cond), _shape(a), "where"), _shape(b), "where")
        raise


@torch_node("MaskedFillBackward0")
def masked_fill(x, mask, value):
    """x with `value` where mask is True (Tensor.masked_fill); x keeps its dtype."""
    Tensor = _tensor.Tensor
    if getattr(_data(mask), "dtype", None) != np.bool_:
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype "
                           f"{getattr(_data(mask), 'dtype', type(mask).__name__)}")
    if not isinstance(x, Tensor):
        raise TypeError(f"masked_fill: expected a Tensor, got {type(x).__name__}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s) (shape "
                               f"{tuple(value.shape)})")
        value = value.to(x.dtype)
    else:
        value = _tensor.constant(get_array_module(x.array).asarray(value, dtype=x.dtype))
    return where(mask, value, x)


class ClampFn(ArrayFunction):
    """z = min(max(x, lo), hi) for number bounds."""

    torch_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return get_array_module(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        inside = x.array == x.array                    # all True (False only at NaN)
        if ctx.lo is not None:
            inside = inside & (x.array >= ctx.lo)
        if ctx.hi is not None:
            inside = inside & (x.array <= ctx.hi)
        return grad_out * _tensor.constant(inside), None, None    # 1 inside [lo, hi], else 0


def clamp(x, min=None, max=None):
    """Clamp into [min, max] (torch.clamp); the gradient is 1 inside, 0 outside.

    Tensor bounds broadcast and get the gradient where they are the result.
    """
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    bounds = [v for v in (min, max) if v is not None]
    dtype = result_type(x, *bounds)
    if dtype != x.dtype:
        x = x.to(dtype)            # an integer tensor with float bounds becomes float
    Tensor = _tensor.Tensor
    if any(isinstance(v, Tensor) for v in bounds):
        # as two wheres: ties go to x, as in torch.clamp's backward
        y = x if min is None else where(lt(x, min), min, x)
        return y if max is None else where(gt(y, max), max, y)
    return ClampFn.apply(x, _data(min), _data(max))


class MaximumFn(ArrayFunction):
    """z = max(a, b) elementwise; ties split the gradient in half, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.share_a = (a > b) + 0.5 * (a == b)
        return get_array_module(a, b).maximum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        share_a = _tensor.constant(ctx.share_a.astype(grad_out.dtype))
        # dz/da = 1 where a wins, 1/2 at ties; b gets the rest
        return grad_out * share_a, grad_out * (1 - share_a)


class MinimumFn(ArrayFunction):
    """z = min(a, b) elementwise; ties split the gradient in half, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.share_a = (a < b) + 0.5 * (a == b)
        return get_array_module(a, b).minimum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        share_a = _tensor.constant(ctx.share_a.astype(grad_out.dtype))
        # dz/da = 1 where a wins, 1/2 at ties; b gets the rest
        return grad_out * share_a, grad_out * (1 - share_a)


def maximum(a, b):
    """Elementwise maximum, broadcasting (torch.maximum)."""
    return _binary(MaximumFn, a, b, "maximum")


def minimum(a, b):
    """Elementwise minimum, broadcasting (torch.minimum)."""
    return _binary(MinimumFn, a, b, "minimum")
