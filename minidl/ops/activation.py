"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax.

sigmoid, softmax and log_softmax are fused ops for numerical stability: each computes
its result in one stable formula instead of composing exp and division.
"""
from __future__ import annotations

from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import STATE
from .. import kernels
from ..kernels import reference
from ..backend import get_array_module
from .. import tensor as _tensor
from .dims import normalize_dim
from .elementwise import floating
from .reduction import sum as _sum


def _relu_kernels(x):
    """kernels.for_array's choice for float arrays; integer ones stay on the NumPy twin."""
    return kernels.for_array(x, "activation_numba") if x.dtype.kind == "f" else reference


class ReLUFn(ArrayFunction):
    """y = max(x, 0)."""

    torch_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x):
        y = _relu_kernels(x).relu_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return ReLUBackwardFn.apply(grad_out, _tensor.constant(y.array))

    @staticmethod
    def backward_arrays(ctx, grad_out):
        (y,) = ctx.saved_arrays
        return _relu_kernels(grad_out).relu_backward(grad_out, y)


class ReLUBackwardFn(ArrayFunction):
    """dL/dx of relu: the gradient where relu's output y > 0, else 0.

    A linear map of the gradient (y is a constant), so its own backward is itself: this is
    what lets relu be differentiated twice."""

    @staticmethod
    def forward(ctx, grad, y):
        ctx.y = y
        ctx.watch(y)
        return _relu_kernels(grad).relu_backward(grad, y)

    @staticmethod
    def backward(ctx, grad_out):
        return ReLUBackwardFn.apply(grad_out, _tensor.constant(ctx.y)), None


class LeakyReLUFn(ArrayFunction):
    """y = x if x > 0 else slope * x."""

    torch_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx, x, slope):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.slope = slope
        return xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        xp = get_array_module(x.array)
        local = xp.where(x.array > 0, 1.0, ctx.slope).astype(x.dtype)
        return grad_out * _tensor.constant(local), None   # dy/dx = 1 or slope


class SigmoidFn(ArrayFunction):
    """y = 1 / (1 + exp(-x)), computed as exp(-log(1 + exp(-x))) so it never overflows."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        y = xp.exp(-xp.logaddexp(0, -x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y * (1 - y)                # dy/dx = y (1 - y)

    @staticmethod
    def backward_arrays(ctx, grad_out):
        (y,) = ctx.saved_arrays
        return grad_out * y * (1 - y)


class TanhFn(ArrayFunction):
    """y = tanh(x)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (1 - y * y)                # dy/dx = 1 - y^2

    @staticmethod
    def backward_arrays(ctx, grad_out):
        (y,) = ctx.saved_arrays
        return grad_out * (1 - y * y)


class SoftmaxFn(ArrayFunction):
    """y = exp(x - max) / sum(exp(x - max)) along dim."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        if ctx.dim == y.ndim - 1 and not STATE.enabled and y.dtype.kind == "f":
            # attention's case, the last dim, without create_graph: one fused pass per row
            rows = kernels.for_array(y.array, "activation_numba")
            return rows.softmax_backward_lastdim(grad_out.array, y.array), None
        # dx = y * (g - sum(g * y)): the Jacobian diag(y) - y y^T applied to g
        return y * (grad_out - _sum(grad_out * y, ctx.dim, keepdim=True)), None


class LogSoftmaxFn(ArrayFunction):
    """y = x - max - log(sum(exp(x - max))) along dim."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        # dx = g - softmax(x) * sum(g), with softmax(x) = exp(y)
        return grad_out - y.exp() * _sum(grad_out, ctx.dim, keepdim=True), None


def relu(x): return ReLUFn.apply(x)
def sigmoid(x): return SigmoidFn.apply(floating(x))
def tanh(x): return TanhFn.apply(floating(x))


def leaky_relu(x, negative_slope: float = 0.01):
    return LeakyReLUFn.apply(x, negative_slope)


def _softmax_dim(x, dim, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}: pass dim explicitly (PyTorch's implicit dim is deprecated)")
    return normalize_dim(dim, x.ndim, op)


def softmax(x, dim: int):
    """Softmax along dim (torch.softmax), stable for any finite input."""
    return SoftmaxFn.apply(floating(x), _softmax_dim(x, dim, "softmax"))


def log_softmax(x, dim: int):
    """log(softmax(x)) along dim (torch.log_softmax), stable for any finite input."""
    return LogSoftmaxFn.apply(floating(x), _softmax_dim(x, dim, "log_softmax"))
