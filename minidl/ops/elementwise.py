"""Unary elementwise math (exp, log, sqrt, abs, ...) and dtype/device conversion."""
from __future__ import annotations

import numpy as np

from ..autograd.function import ArrayFunction
from ..backend import (device_of, get_array_module, get_default_dtype,
                       to_device as _to_device_array)
from .. import tensor as _tensor


class ExpFn(ArrayFunction):
    """y = exp(x)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y                  # dy/dx = exp(x) = y

    @staticmethod
    def backward_arrays(ctx, grad_out):
        (y,) = ctx.saved_arrays
        return grad_out * y


class LogFn(ArrayFunction):
    """y = log(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / x                  # dy/dx = 1/x


class Log1pFn(ArrayFunction):
    """y = log(1 + x), accurate for small x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (x + 1)            # dy/dx = 1/(1+x)


class SqrtFn(ArrayFunction):
    """y = sqrt(x)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out / (y * 2)            # dy/dx = 1/(2 sqrt(x))


class SinFn(ArrayFunction):
    """y = sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * cos(x)             # dy/dx = cos(x)


class CosFn(ArrayFunction):
    """y = cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return -grad_out * sin(x)            # dy/dx = -sin(x)


class AbsFn(ArrayFunction):
    """y = |x|."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * sign(x)            # dy/dx = sign(x), 0 at 0 as in PyTorch


class CastFn(ArrayFunction):
    """y = x converted to another dtype; the gradient converts back."""

    torch_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return cast(grad_out, ctx.in_dtype), None


class ToDeviceFn(ArrayFunction):
    """y = x copied to another device; the gradient goes back to x's device."""

    torch_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, device):
        ctx.in_device = device_of(x)
        return _to_device_array(x, device)

    @staticmethod
    def backward(ctx, grad_out):
        return to_device(grad_out, ctx.in_device), None


class CloneFn(ArrayFunction):
    """y = a copy of x."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


def floating(x):
    """x itself, or as the default float dtype when it is an integer or bool tensor: the
    float functions (exp, log, sigmoid, ...) give floats for them, as in PyTorch."""
    if x.array.dtype.kind in "biu":
        return x.to(get_default_dtype())
    return x


def exp(x): return ExpFn.apply(floating(x))
def log(x): return LogFn.apply(floating(x))
def log1p(x): return Log1pFn.apply(floating(x))
def sqrt(x): return SqrtFn.apply(floating(x))
def rsqrt(x): return 1 / sqrt(x)
def sin(x): return SinFn.apply(floating(x))
def cos(x): return CosFn.apply(floating(x))
def abs(x): return AbsFn.apply(x)
def clone(x): return CloneFn.apply(x)


def sign(x):
    """-1, 0 or 1 by the sign of x; no gradient (it is zero almost everywhere)."""
    return _tensor.constant(get_array_module(x.array).sign(x.array))


def cast(x, dtype):
    """x as `dtype` (Tensor.to(dtype)); differentiable between floating dtypes."""
    return CastFn.apply(x, np.dtype(dtype))


def to_device(x, device):
    """x on `device` (Tensor.to(device)); differentiable."""
    return ToDeviceFn.apply(x, device)
