"""Argument helpers shared by the ops: dims, shapes, broadcasting checks and dtype promotion."""
from __future__ import annotations

import builtins

import numpy as np

from ..backend import get_default_dtype
from .. import tensor as _tensor


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


# PyTorch's type promotion. Operands rank as dimensioned tensors > 0-d tensors > Python
# numbers; a lower rank changes the result dtype only when it is of a higher category
# (bool < integer < floating), e.g. int32 tensor + int64 0-d tensor -> int32, but
# int tensor + 2.5 -> the default float dtype. NumPy alone would give int64 and float64.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _promote_types(x, y):
    if x is None or y is None:
        return y if x is None else x
    cx, cy = _CATEGORY[x.kind], _CATEGORY[y.kind]
    if cx != cy:
        return x if cx > cy else y
    return np.promote_types(x, y)


def _combine(higher, lower):
    """torch's combine_categories: the lower rank wins only with a higher category."""
    if higher is None:
        return lower
    if lower is None or _CATEGORY[higher.kind] >= 2:
        return higher
    if higher.kind == "b" or _CATEGORY[lower.kind] >= 2:
        return _promote_types(higher, lower)
    return higher


def _scalar_dtype(v) -> np.dtype:
    if isinstance(v, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(v, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(v, complex):
        return np.dtype(np.complex128)
    return get_default_dtype()


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch gives an op on these Tensors and numbers (torch.result_type)."""
    dim = zero = number = None
    for v in operands:
        data = v.array if isinstance(v, _tensor.Tensor) else v
        if isinstance(data, np.ndarray) or (hasattr(data, "dtype") and hasattr(data, "ndim")
                                             and not isinstance(data, np.generic)):
            if data.ndim:
                dim = _promote_types(dim, data.dtype)
            else:
                zero = _promote_types(zero, data.dtype)
        else:
            number = _promote_types(number, _scalar_dtype(data))
    return _combine(dim, _combine(zero, number))
