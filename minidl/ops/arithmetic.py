"""Arithmetic: + - * / ** and friends (comparisons and selections are in ops.select).

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
    return tuple(np.shape(v.array if isinstance(v, _tensor.Tensor) else v))


def _to_dtype(v, dtype):
    """v as `dtype`: a Tensor is cast (differentiably); a number stays a Python number."""
    if isinstance(v, _tensor.Tensor):
        return v if v.array.dtype == dtype else v.to(dtype)
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
        ta = a.array.dtype
        if isinstance(b, Tensor):
            tb = b.array.dtype
            if (ta is tb or ta == tb) and (not floating or ta in _FLOATS):
                return a, b
        elif type(b) in (float, int) and ta in _FLOATS:
            return a, b
    elif isinstance(b, Tensor) and type(a) in (float, int) and b.array.dtype in _FLOATS:
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
    if not (type(a) is Tensor and type(b) in _NUMBERS and a.array.dtype in _FLOATS):
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

    backward_arrays = backward               # the same on arrays (see Function)


class SubFn(ArrayFunction):
    """z = a - b."""

    @staticmethod
    def forward(ctx, a, b):
        if type(a) in _NUMBERS:             # 1 - x: PyTorch's rsub node
            ctx._name = "RsubBackward1"
        return a - b

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, -grad_out           # dz/da = 1, dz/db = -1

    @staticmethod
    def backward_arrays(ctx, grad_out):
        return grad_out, -grad_out if ctx.needs_input_grad[1] else None


class MulFn(ArrayFunction):
    """z = a * b."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)   # what is read
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad_out * b if need_a else None,   # dz/da = b
                grad_out * a if need_b else None)   # dz/db = a

    @staticmethod
    def backward_arrays(ctx, grad_out):
        a, b = ctx.saved_arrays
        need_a, need_b = ctx.needs_input_grad
        return (grad_out * b if need_a else None, grad_out * a if need_b else None)


class DivFn(ArrayFunction):
    """z = a / b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)     # what is read
        if type(a) in _NUMBERS:             # 1 / x: PyTorch multiplies by the reciprocal
            ctx._name = "MulBackward0"
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

    backward_arrays = backward


class PowFn(ArrayFunction):
    """z = a ** b, for a tensor and a scalar in either place or two tensors."""

    @staticmethod
    def forward(ctx, a, b):
        y = get_array_module(a, b).power(a, b)
        ctx.save_for_backward(a, b, y)
        if type(b) not in _NUMBERS:         # PyTorch: x ** 2 is 0, x ** y 1, 2 ** x 2
            ctx._name = "PowBackward2" if type(a) in _NUMBERS else "PowBackward1"
        return y

    @staticmethod
    def backward(ctx, grad_out):
        from .select import where          # select builds on this module's helpers
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


def div(a, b, *, rounding_mode=None):
    """True division, broadcasting (torch.div); int / int gives the default float dtype.
    rounding_mode='trunc' or 'floor' rounds the quotient (no gradient, as in PyTorch),
    keeping integer operands integer."""
    if rounding_mode is None:
        return _binary(DivFn, a, b, "div", floating=True)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode != "trunc":
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    a, b = _promote(a, b)
    _check_integer_divisor(a, b, "div")
    xp = get_array_module(_data(a), _data(b))
    q = xp.trunc(xp.true_divide(_data(a), _data(b)))
    dtype = result_type(a, b)
    return _tensor.constant(xp.asarray(q).astype(dtype, copy=False))


def neg(x):
    """-x."""
    if x.array.dtype == np.bool_:
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


def _data(v):
    return v.array if isinstance(v, _tensor.Tensor) else v


def floor_divide(a, b):
    """Floor division; like PyTorch's, it has no gradient."""
    a, b = _promote(a, b)
    _check_integer_divisor(a, b, "floor_divide")
    xp = get_array_module(_data(a), _data(b))
    try:
        return _tensor.constant(xp.floor_divide(_data(a), _data(b)))
    except ValueError:
        broadcast_shapes(_shape(a), _shape(b), "floor_divide")
        raise
