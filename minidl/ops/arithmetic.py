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
from .dims import broadcast_shapes, result_type


def _shape(v) -> tuple:
    return tuple(np.shape(v.data if isinstance(v, _tensor.Tensor) else v))


def _to_dtype(v, dtype):
    """v as `dtype`: a Tensor is cast (differentiably); a number stays a Python number."""
    if isinstance(v, _tensor.Tensor):
        return v if v.data.dtype == dtype else v.to(dtype)
    if isinstance(v, np.generic):
        return v.item()       # NumPy scalars act as Python numbers, as in PyTorch
    if hasattr(v, "dtype") and v.dtype != dtype:
        return v.astype(dtype)
    return v


_FLOATS = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))


def _promote(a, b, floating: bool = False):
    """Cast a and b to their PyTorch result dtype (the default float if `floating` and the
    result would be integral, as true division needs)."""
    # fast exits for the common cases (this runs on every binary op): two tensors of one
    # dtype, or a float tensor with a Python number, which NumPy already treats as weak
    Tensor = _tensor.Tensor
    if isinstance(a, Tensor):
        ta = a.data.dtype
        if isinstance(b, Tensor):
            tb = b.data.dtype
            if (ta is tb or ta == tb) and (not floating or ta in _FLOATS):
                return a, b
        elif type(b) in (float, int) and ta in _FLOATS:
            return a, b
    elif isinstance(b, Tensor) and type(a) in (float, int) and b.data.dtype in _FLOATS:
        return a, b
    dtype = result_type(a, b)
    if floating and dtype.kind not in "fc":
        dtype = get_default_dtype()
    return _to_dtype(a, dtype), _to_dtype(b, dtype)


_NUMBERS = (float, int)


def _binary(fn, a, b, op: str, floating: bool = False):
    """Apply a broadcasting binary Function after PyTorch's type promotion, turning
    NumPy's broadcast error into ours."""
    # fast path, inlined (this runs for every binary op, backward passes included): a float
    # tensor with a Python number, which NumPy already treats as PyTorch does
    Tensor = _tensor.Tensor
    if not (type(a) is Tensor and type(b) in _NUMBERS and a.data.dtype in _FLOATS):
        a, b = _promote(a, b, floating)
    try:
        return fn.apply(a, b)
    except ValueError as e:
        if "broadcast" in str(e):
            broadcast_shapes(_shape(a), _shape(b), op)
        # e.g. "Integers to negative integer powers are not allowed": PyTorch's RuntimeError
        raise RuntimeError(f"{op}: {e} (operands of shapes {_shape(a)} and {_shape(b)}, "
                           f"dtype {_dtype(a)})") from None


def _dtype(v):
    return getattr(_data(v), "dtype", type(v).__name__)


def _check_integer_divisor(a, b, op: str) -> None:
    """Integer division by zero: PyTorch raises where NumPy would quietly give 0."""
    data = _data(b)
    if getattr(data, "dtype", np.dtype(type(data))).kind in "biu" and \
            getattr(_data(a), "dtype", np.dtype(type(_data(a)))).kind in "biu" and \
            bool((get_array_module(data).asarray(data) == 0).any()):
        raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero)")


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
            # dz/da = b a^(b-1), and 0 where b == 0 (not 0 * inf at a == 0), as in PyTorch
            if isinstance(b, _tensor.Tensor):
                grad_a = where(b == 0, 0.0, grad_out * b * a ** (b - 1))
            else:
                grad_a = grad_out * 0.0 if b == 0 else grad_out * b * a ** (b - 1)
        if need_b:
            # dz/db = a^b log a; where a == 0 and b >= 0 the limit is 0 (PyTorch's convention)
            zero = (a == 0) & (b >= 0) if isinstance(a, _tensor.Tensor) else a == 0
            if isinstance(zero, bool):
                grad_b = grad_out * 0.0 if zero else grad_out * y * math.log(a)
            else:
                grad_b = grad_out * where(zero, 0.0, y * where(a == 0, 1.0, a).log())
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


def _scaled(b, alpha):
    """alpha * b for add/sub: a number stays a number."""
    if alpha == 1:
        return b
    return mul(b, alpha) if isinstance(b, _tensor.Tensor) else b * alpha


def add(a, b, alpha=1):
    """a + alpha * b, broadcasting (torch.add)."""
    return _binary(AddFn, a, _scaled(b, alpha), "add")


def sub(a, b, alpha=1):
    """a - alpha * b, broadcasting (torch.sub)."""
    return _binary(SubFn, a, _scaled(b, alpha), "sub")


def mul(a, b):
    """Elementwise product, broadcasting (torch.mul)."""
    return _binary(MulFn, a, b, "mul")


def div(a, b):
    """True division, broadcasting (torch.div); int / int gives the default float dtype."""
    return _binary(DivFn, a, b, "div", floating=True)


def neg(x):
    """-x."""
    if x.data.dtype == np.bool_:
        raise RuntimeError("neg: Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return NegFn.apply(x)


def pow(a, b):
    """a ** b (torch.pow); an integer tensor to a float power becomes float."""
    return _binary(PowFn, a, b, "pow")


def remainder(a, b):
    """Python-style modulus (torch.remainder)."""
    a, b = _promote(a, b)
    _check_integer_divisor(a, b, "remainder")
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
    a, b = _promote(a, b)
    _check_integer_divisor(a, b, "floor_divide")
    xp = get_array_module(_data(a), _data(b))
    try:
        return _constant(xp.floor_divide(_data(a), _data(b)))
    except ValueError:
        broadcast_shapes(_shape(a), _shape(b), "floor_divide")
        raise


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
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got "
                           f"{getattr(cond, 'dtype', type(cond).__name__)}")
    Tensor = _tensor.Tensor
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):   # two numbers
        dtype, xp = result_type(a, b), get_array_module(cond)
        a, b = _constant(xp.asarray(a, dtype)), _constant(xp.asarray(b, dtype))
    a, b = _promote(a, b)
    try:
        return WhereFn.apply(condition, a, b)
    except ValueError:
        broadcast_shapes(broadcast_shapes(_shape(cond), _shape(a), "where"), _shape(b), "where")
        raise


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
        value = _constant(get_array_module(x.data).asarray(value, dtype=x.dtype))
    return where(mask, value, x)


class ClampFn(ArrayFunction):
    """z = min(max(x, lo), hi) for number bounds."""

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
        share_a = _constant(ctx.share_a.astype(grad_out.dtype))
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
        share_a = _constant(ctx.share_a.astype(grad_out.dtype))
        # dz/da = 1 where a wins, 1/2 at ties; b gets the rest
        return grad_out * share_a, grad_out * (1 - share_a)


def maximum(a, b):
    """Elementwise maximum, broadcasting (torch.maximum)."""
    return _binary(MaximumFn, a, b, "maximum")


def minimum(a, b):
    """Elementwise minimum, broadcasting (torch.minimum)."""
    return _binary(MinimumFn, a, b, "minimum")
