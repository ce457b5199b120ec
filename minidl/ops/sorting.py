"""Ordering and running totals: sort, argsort, topk, cumsum, cumprod.

sort and topk find the order on the raw array and pick the values with `gather`, so their
gradient flows back to the chosen positions. cumsum is one op whose backward is a cumsum
of the gradient run the other way.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import ArrayFunction, torch_node
from ..backend import get_array_module
from ..tensor import Tensor, constant
from .dims import normalize_dim
from .indexing import gather

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """Indices that sort input along dim (ties keep their order: a stable sort)."""
    if input.ndim == 0:
        return constant(get_array_module(input.array).zeros((), np.int64))
    dim = normalize_dim(dim, input.ndim, "argsort")
    a = input.array
    xp = get_array_module(a)
    if descending:   # a stable descending order: sort the negation (NaN stays last as -NaN)
        key = -a if a.dtype.kind in "fi" else ~a if a.dtype == np.bool_ else -a.astype(
            np.int64)
        order = xp.argsort(key, axis=dim, kind="stable")
        if a.dtype.kind == "f":          # PyTorch puts NaN first when descending
            nan_first = xp.argsort(~xp.isnan(xp.take_along_axis(a, order, dim)), axis=dim,
                                   kind="stable")
            order = xp.take_along_axis(order, nan_first, dim)
    else:
        order = xp.argsort(a, axis=dim, kind="stable")
    return constant(order.astype(np.int64))


@torch_node("SortBackward0")
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) sorted along dim (torch.sort); values are differentiable."""
    indices = argsort(input, dim, descending)
    if input.ndim == 0:
        return SortResult(input.clone(), indices)
    return SortResult(gather(input, dim, indices), indices)


@torch_node("TopkBackward0")
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) entries along dim, with their indices (torch.topk)."""
    d = normalize_dim(dim, max(input.ndim, 1), "topk")
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, size {size} of "
                           f"dimension {d})")
    order = argsort(input, d, descending=largest).array
    chosen = constant(order.take(range(k), axis=d) if input.ndim else order)
    if input.ndim == 0:
        return TopkResult(input.clone(), chosen)
    return TopkResult(gather(input, d, chosen), chosen)


@torch_node("KthvalueBackward0")
def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest entry along dim and its index."""
    values, indices = sort(input, dim)
    d = normalize_dim(dim, input.ndim, "kthvalue")
    v = values.narrow(d, k - 1, 1) if hasattr(values, "narrow") else values[
        (slice(None),) * d + (slice(k - 1, k),)]
    i = indices[(slice(None),) * d + (slice(k - 1, k),)]
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return SortResult(v, i)


class CumsumFn(ArrayFunction):
    """y_i = x_0 + ... + x_i along dim."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return get_array_module(x).cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        # dL/dx_j = sum over i >= j of dL/dy_i: a cumsum of the gradient from the far end
        return _flip(CumsumFn.apply(_flip(grad_out, ctx.dim), ctx.dim), ctx.dim), None


def _flip(x, dim: int):
    return x[(slice(None),) * dim + (slice(None, None, -1),)]


def cumsum(input, dim: int, *, dtype=None):
    """Running sums along dim (torch.cumsum); integer and bool inputs give int64."""
    if dtype is not None:
        input = input.to(dtype)
    elif input.array.dtype.kind in "biu":
        input = input.to(np.int64)
    if input.ndim == 0:
        return input.clone()
    return CumsumFn.apply(input, normalize_dim(dim, input.ndim, "cumsum"))


@torch_node("CumprodBackward0")
def cumprod(input, dim: int, *, dtype=None):
    """Running products along dim (torch.cumprod), as a product of prefixes (every step an
    ordinary multiplication, so its gradient is exact also where input holds zeros)."""
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return input.clone()
    d = normalize_dim(dim, input.ndim, "cumprod")
    from .shape import cat
    out, running = [], None
    for i in range(input.shape[d]):
        step = input[(slice(None),) * d + (slice(i, i + 1),)]
        running = step if running is None else running * step
        out.append(running)
    return cat(out, d)
