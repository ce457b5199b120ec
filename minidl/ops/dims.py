"""Argument helpers shared by the ops: dims, shapes and broadcasting checks."""
from __future__ import annotations

import builtins


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """Turn a possibly negative dim into an index in [0, ndim), or raise IndexError."""
    size = builtins.max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-size}, {size - 1}], but got {dim})")
    return dim % size


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """dim as None (all), an int or a sequence of ints -> a sorted tuple of indices."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {dim} appears multiple times in the list of dims")
    return dims if ndim else ()


def shape_args(args: tuple) -> tuple:
    """Accept shape(2, 3) and shape((2, 3)) alike, as PyTorch methods do."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def broadcast_shapes(a: tuple, b: tuple, op: str) -> tuple:
    """The NumPy broadcast of two shapes, or a RuntimeError naming both."""
    out = []
    for i in range(1, builtins.max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: shapes {tuple(a)} and {tuple(b)} are not broadcastable: "
                               f"the size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {-i}")
        out.append(builtins.max(x, y))
    return tuple(reversed(out))
