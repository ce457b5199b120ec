"""matmul in all of torch.matmul's cases (1-D and 2-D operands, batched, broadcast batch
dims) and linear: forward vs NumPy, gradcheck and gradgradcheck in float64."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.ops import linear
from minidl.testing import broadcastable_shapes
from minidl.testing.op_test import check_op

CASES = {
    "1d@1d": ((4,), (4,)),
    "2d@1d": ((3, 4), (4,)),
    "1d@2d": ((4,), (4, 2)),
    "2d@2d": ((3, 4), (4, 2)),
    "batched": ((2, 3, 4), (2, 4, 5)),
    "batched@2d": ((2, 3, 4), (4, 5)),
    "2d@batched": ((3, 4), (2, 4, 5)),
    "batched@1d": ((2, 3, 4), (4,)),
    "1d@batched": ((4,), (2, 4, 5)),
    "broadcast-batched": ((2, 1, 3, 4), (5, 4, 2)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matmul_cases(name):
    shapes = CASES[name]
    _, (y,) = check_op(lambda a, b: a @ b, shapes, reference=np.matmul)
    assert y.shape == np.matmul(np.empty(shapes[0]), np.empty(shapes[1])).shape
    check_op(minidl.matmul, shapes, reference=np.matmul, gradcheck=False, gradgradcheck=False)
    check_op(lambda a, b: a.matmul(b), shapes, reference=np.matmul, gradcheck=False,
             gradgradcheck=False)


def test_one_d_dot_one_d_is_a_zero_dim_array_tensor():
    y = minidl.tensor([1.0, 2.0]) @ minidl.tensor([3.0, 4.0])
    assert y.shape == () and isinstance(y.array, np.ndarray) and y.item() == 11.0


@given(st.data())
def test_matmul_over_broadcast_batch_shapes(data):
    batch_a, batch_b = data.draw(broadcastable_shapes(min_dims=0, max_dims=2, max_side=3))
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    check_op(lambda a, b: a @ b, [batch_a + (m, k), batch_b + (k, n)], reference=np.matmul)


def test_rmatmul_with_an_array():
    a = np.ones((2, 3), dtype=np.float32)
    y = a @ minidl.ones(3, 4)
    assert isinstance(y, minidl.Tensor) and y.shape == (2, 4)


@given(st.sampled_from([((5, 3), (4, 3), (4,)), ((2, 5, 3), (4, 3), None), ((3,), (2, 3), (2,)),
                        ((2, 5, 3), (4, 3), (4,))]))
def test_linear(shapes):
    x_shape, w_shape, b_shape = shapes
    if b_shape is None:
        check_op(linear, [x_shape, w_shape], reference=lambda x, w: x @ w.T)
    else:
        check_op(linear, [x_shape, w_shape, b_shape], reference=lambda x, w, b: x @ w.T + b)


def test_matmul_in_float32_stays_float32():
    assert (minidl.ones(2, 3) @ minidl.ones(3, 2)).dtype == minidl.float32
