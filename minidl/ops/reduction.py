"""Reductions: sum, mean, var, std, max, min, amax, amin, argmax, argmin, norm, logsumexp.

`dim` is None (all dims), an int or a tuple of ints; negative dims count from the end.
This is the one module whose public names shadow builtins (sum, max, min); it reaches the
originals through `builtins`.
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from .. import kernels
from ..autograd.function import ArrayFunction, named
from ..kernels import reference
from ..backend import get_array_module
from .. import tensor as _tensor
from .broadcast import broadcast_to
from .dims import normalize_dim, normalize_dims
from .elementwise import clone, floating

# elements: a smaller sum stays on NumPy, for which the kernel lookup costs more than it saves
SUM_KERNEL_MIN = 1 << 16

values_indices = namedtuple("values_indices", ["values", "indices"])


def _every_dim(dim) -> bool:
    """Whether a reduction's dim means every dim: None, or an empty list, as in PyTorch
    (x.sum(()) is the sum of all of x; NumPy's sum over no axes returns x)."""
    return dim is None or (not isinstance(dim, int) and len(dim) == 0)


def _reduced_dims(dim, ndim: int, op: str) -> tuple:
    """normalize_dims for a reduction (see _every_dim)."""
    return normalize_dims(None if _every_dim(dim) else dim, ndim, op)


def _keep_shape(shape: tuple, dims: tuple) -> tuple:
    """The shape of a keepdim=True reduction of `shape` over `dims`."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _spread(grad_out, in_shape: tuple, dims: tuple):
    """The gradient of a reduction, reshaped to keepdim form and broadcast to the input."""
    return broadcast_to(grad_out.reshape(_keep_shape(in_shape, dims)), in_shape)


class SumFn(ArrayFunction):
    """y = sum of x over dims."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape, ctx.dims = x.shape, dims
        return sum_array(x, dims, keepdim)

    @staticmethod
    def backward(ctx, grad_out):
        return _spread(grad_out, ctx.in_shape, ctx.dims), None, None   # dy/dx = 1

    @staticmethod
    def backward_arrays(ctx, grad_out):
        xp = get_array_module(grad_out)
        keep = grad_out.reshape(_keep_shape(ctx.in_shape, ctx.dims))
        return xp.broadcast_to(keep, ctx.in_shape), None, None


def sum_array(x, dims: tuple, keepdim: bool):
    """x summed over dims, an array: the Numba kernel for large inputs, NumPy's sum else."""
    sums = kernels.for_array(x, "reduce_numba") if x.size >= SUM_KERNEL_MIN else reference
    return sums.reduce_sum(x, dims, keepdim)


class AmaxFn(ArrayFunction):
    """y = max of x over dims; equal maxima share the gradient evenly (torch.amax)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        y = x.max(axis=dims, keepdims=True) if largest else x.min(axis=dims, keepdims=True)
        mask = x == y
        ctx.share = mask / mask.sum(axis=dims, keepdims=True)
        ctx.in_shape, ctx.dims = x.shape, dims
        return y if keepdim else y.reshape([s for i, s in enumerate(x.shape) if i not in dims])

    @staticmethod
    def backward(ctx, grad_out):
        share = _tensor.constant(ctx.share.astype(grad_out.dtype, copy=False))
        return _spread(grad_out, ctx.in_shape, ctx.dims) * share, None, None, None


class MaxDimFn(ArrayFunction):
    """y = x at the index of the max (or min) along one dim; that index gets the gradient."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        xp = get_array_module(x)
        idx = (x.argmax if largest else x.argmin)(axis=dim, keepdims=True)
        ctx.indices = idx
        ctx.in_shape, ctx.dim = x.shape, dim
        y = xp.take_along_axis(x, idx, axis=dim)
        return y if keepdim else y.squeeze(dim)

    @staticmethod
    def backward(ctx, grad_out):
        xp = get_array_module(ctx.indices)
        positions = xp.arange(ctx.in_shape[ctx.dim]).reshape(
            [-1 if i == ctx.dim else 1 for i in range(len(ctx.in_shape))])
        onehot = _tensor.constant((positions == ctx.indices).astype(grad_out.dtype))
        return _spread(grad_out, ctx.in_shape, (ctx.dim,)) * onehot, None, None, None


def sum(x, dim=None, keepdim: bool = False, dtype=None):
    """Sum over dim (torch.sum)."""
    if dtype is not None:
        x = x.to(dtype)
    dims = _reduced_dims(dim, x.ndim, "sum")
    return named(SumFn.apply(x, dims, keepdim), "SumBackward0" if dim is None else "SumBackward1")


def _count(x, dims: tuple) -> int:
    return math.prod(x.shape[d] for d in dims)


def _require_float(x, op: str) -> None:
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{op}(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype}")


class MeanFn(ArrayFunction):
    """y = mean of x over dims: one node, as PyTorch's MeanBackward."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        n = _count(x, dims)
        ctx.in_shape, ctx.dims, ctx.n = x.shape, dims, n if n else float("nan")
        return sum_array(x, dims, keepdim) / ctx.n           # empty: nan, as PyTorch

    @staticmethod
    def backward(ctx, grad_out):
        return _spread(grad_out / ctx.n, ctx.in_shape, ctx.dims), None, None   # 1/n each


def mean(x, dim=None, keepdim: bool = False):
    """Mean over dim (torch.mean)."""
    _require_float(x, "mean")
    dims = _reduced_dims(dim, x.ndim, "mean")
    return named(MeanFn.apply(x, dims, keepdim), "MeanBackward0" if dim is None
                 else "MeanBackward1")


def _correction(unbiased, correction) -> float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over dim with Bessel's correction by default (torch.var); `var(x, False)`
    is torch's var(input, unbiased) form."""
    _require_float(x, "var")
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    dims = _reduced_dims(dim, x.ndim, "var")
    dev = x - mean(x, dims, keepdim=True)
    return named(sum(dev * dev, dims, keepdim) / builtins.max(
        _count(x, dims) - _correction(unbiased, correction), 0), "VarBackward0")


def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation over dim (torch.std); `std(x, False)` is std(input, unbiased)."""
    return named(var(x, dim, unbiased, keepdim, correction=correction).sqrt(), "StdBackward0")


def _check_nonempty(x, dims: tuple, op: str, full: bool = False) -> None:
    if full and x.array.size == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0 (shape {tuple(x.shape)}). Specify the reduction dim with the "
                           "'dim' argument.")
    if any(x.shape[d] == 0 for d in dims):
        raise IndexError(f"{op}(): Expected reduction dim to have non-zero size, got shape "
                         f"{tuple(x.shape)}")


def amax(x, dim=None, keepdim: bool = False):
    """Maximum over dims; ties share the gradient (torch.amax)."""
    dims = _reduced_dims(dim, x.ndim, "amax")
    _check_nonempty(x, dims, "amax", full=_every_dim(dim))
    return AmaxFn.apply(x, dims, keepdim, True)


def amin(x, dim=None, keepdim: bool = False):
    """Minimum over dims; ties share the gradient (torch.amin)."""
    dims = _reduced_dims(dim, x.ndim, "amin")
    _check_nonempty(x, dims, "amin", full=_every_dim(dim))
    return named(AmaxFn.apply(x, dims, keepdim, False), "AminBackward0")


def _max_or_min(x, dim, keepdim, largest: bool, op: str):
    if isinstance(dim, _tensor.Tensor):           # torch.max(a, b) is the elementwise maximum
        from .select import maximum, minimum
        return maximum(x, dim) if largest else minimum(x, dim)
    if dim is None:
        _check_nonempty(x, (), op, full=True)
        return named((amax if largest else amin)(x), "MaxBackward1" if largest else "MinBackward1")
    d = normalize_dim(dim, x.ndim, op)
    if x.ndim == 0:                  # a 0-d tensor is its own maximum, at index 0
        return values_indices(clone(x), argmax(x, d))
    _check_nonempty(x, (d,), op)
    values = named(MaxDimFn.apply(x, d, keepdim, largest),
                   "MaxBackward0" if largest else "MinBackward0")
    indices = (argmax if largest else argmin)(x, d, keepdim)
    return values_indices(values, indices)


def max(x, dim=None, keepdim: bool = False):
    """max(x) -> the maximum; max(x, dim) -> (values, indices); max(x, y) -> maximum."""
    return _max_or_min(x, dim, keepdim, True, "max")


def min(x, dim=None, keepdim: bool = False):
    """min(x) -> the minimum; min(x, dim) -> (values, indices); min(x, y) -> minimum."""
    return _max_or_min(x, dim, keepdim, False, "min")


def _arg(x, dim, keepdim, largest: bool, op: str):
    data = x.array
    if dim is None:
        _check_nonempty(x, tuple(range(x.ndim)), op)
        idx = data.argmax() if largest else data.argmin()
        out = get_array_module(data).asarray(idx, dtype=np.int64)
        return _tensor.constant(out.reshape((1,) * x.ndim) if keepdim else out)
    d = normalize_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return _tensor.constant(get_array_module(data).zeros((), dtype=np.int64))
    _check_nonempty(x, (d,), op)
    idx = (data.argmax if largest else data.argmin)(axis=d, keepdims=keepdim)
    # a 1-D input without keepdim gives a NumPy scalar: keep it a 0-d array
    return _tensor.constant(get_array_module(data).asarray(idx, dtype=np.int64))


def argmax(x, dim=None, keepdim: bool = False):
    """Index of the maximum (flattened when dim is None); no gradient."""
    return _arg(x, dim, keepdim, True, "argmax")


def argmin(x, dim=None, keepdim: bool = False):
    """Index of the minimum (flattened when dim is None); no gradient."""
    return _arg(x, dim, keepdim, False, "argmin")


def logsumexp(x, dim, keepdim: bool = False):
    """log(sum(exp(x))) over dim, shifted by the max so it never overflows."""
    x = floating(x)
    dims = _reduced_dims(dim, x.ndim, "logsumexp")
    shift = amax(x, dims, keepdim=True).detach()
    xp = get_array_module(shift.array)
    shift = _tensor.constant(xp.where(xp.isfinite(shift.array), shift.array, 0))
    out = (x - shift).exp().sum(dims, keepdim=True).log() + shift
    out = out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in dims])
    return named(out, "LogsumexpBackward0")


class Norm2Fn(ArrayFunction):
    """y = sqrt(sum(x^2)) over dims; its gradient is 0 at a zero vector, as in PyTorch."""

    torch_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = get_array_module(x)
        y = xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, y)    # the output itself, so that y stays in the graph
        ctx.dims, ctx.keepdim = dims, keepdim
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        if not ctx.keepdim:
            y = y.reshape(_keep_shape(x.shape, ctx.dims))
            grad_out = grad_out.reshape(_keep_shape(x.shape, ctx.dims))
        # dy/dx = x / y, taken as 0 where y == 0 (the subgradient PyTorch picks)
        zero = _tensor.constant(y.array == 0)
        from .select import where
        return x * where(zero, 0.0, grad_out / where(zero, 1.0, y)), None, None


def norm(x, p=2, dim=None, keepdim: bool = False):
    """The p-norm over dim (torch.norm / torch.linalg.vector_norm)."""
    return named(_norm(x, p, dim, keepdim), "LinalgVectorNormBackward0", x)


def _norm(x, p, dim, keepdim):
    dims = _reduced_dims(dim, x.ndim, "norm")
    if p in ("fro", 2):
        _require_float(x, "norm")
        return Norm2Fn.apply(x, dims, keepdim)
    if p == 1:
        return sum(x.abs(), dims, keepdim)
    if p == float("inf"):
        return amax(x.abs(), dims, keepdim)
    if p == -float("inf"):
        return amin(x.abs(), dims, keepdim)
    return sum(x.abs() ** p, dims, keepdim) ** (1.0 / p)


class ProdFn(ArrayFunction):
    """y = product of x over one dim (or all of x, flattened)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.save_for_backward(x)
        ctx.dim, ctx.keepdim = dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        if ctx.dim is None:    # as one dim of the flattened input
            flat = x.reshape(-1)
            grad = _prod_others(flat, 0) * grad_out.reshape(1)
            return grad.reshape(x.shape), None, None
        d = ctx.dim
        if not ctx.keepdim:
            grad_out = grad_out.reshape(_keep_shape(x.shape, (d,)))
        # dy/dx_i = the product of the other elements (exact also where some x_j == 0)
        return _prod_others(x, d) * grad_out, None, None


def _prod_others(x, dim: int):
    """For each x_i along dim, the product of all x_j with j != i (built from ops, so
    that it is differentiable again): an (n, n) grid with ones on the diagonal."""
    from .select import where
    from .shape import unsqueeze
    n = x.shape[dim]
    xp = get_array_module(x.array)
    eye = xp.eye(n, dtype=bool).reshape((n, n) + (1,) * (x.ndim - dim - 1))
    grid = unsqueeze(x, dim)                      # (..., 1, n, ...): x_j along dim + 1
    others = where(_tensor.constant(eye), 1.0, grid)     # (..., n, n, ...): row i has x_i -> 1
    return prod(others, dim + 1)


def prod(x, dim=None, keepdim: bool = False):
    """Product over one dim, or of all elements (torch.prod)."""
    if dim is not None:
        dim = normalize_dim(dim, x.ndim, "prod")
    out = ProdFn.apply(x, dim, keepdim)
    return named(out, "ProdBackward0" if dim is None else "ProdBackward1")
