"""The broadcasting pair: broadcast_to (Tensor.expand) and sum_to, each the other's backward.

The engine calls `sum_to` to reduce a gradient of the broadcast shape back to an input's
shape, so no op has to un-broadcast by hand.
"""
from __future__ import annotations

from ..autograd.function import ArrayFunction
from ..backend import get_array_module


def _sum_axes(shape: tuple, target: tuple, op: str) -> tuple:
    """The axes to sum so that `shape` reduces to `target`, or a RuntimeError."""
    lead = len(shape) - len(target)
    ok = lead >= 0 and all(t in (1, s) for s, t in zip(shape[lead:], target))
    if not ok:
        raise RuntimeError(f"{op}: a gradient of shape {tuple(shape)} cannot be summed to "
                           f"the input shape {tuple(target)}")
    return tuple(range(lead)) + tuple(
        lead + i for i, t in enumerate(target) if t == 1 and shape[lead + i] != 1)


class SumToFn(ArrayFunction):
    """y = x summed over the broadcast dimensions so that y has `shape`."""

    torch_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, shape, op):
        ctx.in_shape = x.shape
        axes = _sum_axes(x.shape, shape, op)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, grad_out):
        return broadcast_to(grad_out, ctx.in_shape), None, None   # each input element once


class BroadcastToFn(ArrayFunction):
    """y = x repeated along broadcast dimensions to `shape` (a read-only view)."""

    torch_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return get_array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_out):
        return sum_to(grad_out, ctx.in_shape), None              # copies sum back


def sum_to(x, shape: tuple, node=None):
    """Sum x down to `shape` (the inverse of broadcasting); `node` names the op in errors."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    op = f"backward of {node.name()}" if node is not None else "sum_to"
    return SumToFn.apply(x, shape, op)


def broadcast_to(x, shape: tuple):
    """x broadcast to `shape` (torch.broadcast_to); -1 keeps a size, as in expand."""
    shape = tuple(shape)
    if len(shape) < x.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({x.ndim}), shape {tuple(x.shape)}")
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s
                  for i, s in enumerate(shape))
    for i, s in enumerate(shape):
        if s < 0:
            raise RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't allowed in "
                               f"a leading, non-existing dimension {i}; target sizes "
                               f"{shape}, tensor shape {tuple(x.shape)}")
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"expand: the expanded size of the tensor ({shape[lead + i]}) "
                               f"must match the existing size ({s}) at non-singleton "
                               f"dimension {lead + i}; target sizes {shape}, tensor shape "
                               f"{tuple(x.shape)}")
    if shape == x.shape:
        return x
    return BroadcastToFn.apply(x, shape)
