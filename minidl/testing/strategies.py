"""Hypothesis strategies for tensors and shapes, for testing ops (yours too).

    from hypothesis import given
    from minidl.testing import tensors, broadcastable_shapes

    @given(tensors(shape=(3, 4)))
    def test_my_op(x): ...
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 5):
    """Array shapes: 1 to 4 dims with sides 1 to 5 by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1,
                         max_side: int = 5):
    """Pairs of shapes that broadcast together, e.g. ((3, 1, 4), (2, 4))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda r: r.input_shapes)


def arrays(shape=None, dtype=np.float64, min_value: float = -3.0, max_value: float = 3.0):
    """NumPy arrays of bounded finite values (shape drawn from `shapes()` if not given)."""
    return hnp.arrays(dtype=dtype, shape=shapes() if shape is None else shape,
                      elements=st.floats(min_value, max_value, allow_nan=False,
                                         allow_infinity=False, width=np.dtype(dtype).itemsize * 8))


def tensors(shape=None, dtype=np.float64, min_value: float = -3.0, max_value: float = 3.0,
            requires_grad: bool = True):
    """minidl Tensors (float64, requiring grad by default: ready for gradcheck)."""
    return arrays(shape, dtype, min_value, max_value).map(
        lambda a: Tensor(a, requires_grad=requires_grad))
