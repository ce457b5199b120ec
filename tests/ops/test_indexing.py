"""Indexing: x[index] (basic slices, ints, negative steps, None, Ellipsis, integer arrays,
boolean masks, tensors as indices) and x[index] = v (index_put), with gradients.

Repeated integer indices must accumulate the gradient; assignment into a non-leaf is
differentiable with respect to both the tensor and the value.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.ops import index_put
from minidl.testing import shapes
from minidl.testing.op_test import check_op

BASIC = [
    (2,), (-1,), (slice(1, None),), (slice(None, None, -1),), (slice(None, None, 2),),
    (slice(3, 0, -2),), (None,), (Ellipsis, 0), (0, Ellipsis), (1, None, slice(None, 2)),
    (slice(None), None, -1), (Ellipsis, None), (slice(-3, -1), 1),
]


@pytest.mark.parametrize("index", BASIC, ids=repr)
@given(shape=shapes(min_dims=2, max_dims=3, min_side=4, max_side=5))
def test_basic_indexing(index, shape):
    check_op(lambda x: x[index], [shape], reference=lambda x: x[index])


def test_int_index_gives_a_zero_dim_array_tensor():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x[1, 0]
    assert y.shape == () and isinstance(y.array, np.ndarray) and y.item() == 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0, 0], [1, 0]])


def test_negative_step_gradient_lands_in_mirrored_places():
    x = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x[::-1] * minidl.tensor([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [30.0, 20.0, 10.0])


ADVANCED = [
    [np.array([0, 2, 0, 0])],                                 # repeats accumulate
    [np.array([[1, 1], [0, 3]])],                             # a 2-D index array
    [np.array([-1, 0, -1])],                                  # negative indices
    [np.array([0, 0, 1]), np.array([1, 1, 2])],               # paired arrays, repeated pair
    [slice(None), np.array([2, 2, 0])],                       # after a slice
    [np.array([1, 0]), slice(None), np.array([0, 0])],        # split by a slice: to the front
    [Ellipsis, np.array([3, 3])],
]


@pytest.mark.parametrize("index", ADVANCED, ids=lambda i: repr(i).replace("array", ""))
@pytest.mark.parametrize("as_tensor", [False, True], ids=["array", "tensor"])
def test_integer_array_indexing(index, as_tensor):
    shape = (4, 4, 4)
    if as_tensor:
        index = [minidl.tensor(i) if isinstance(i, np.ndarray) else i for i in index]
    index = tuple(index)
    np_index = tuple(i.cpu().numpy() if isinstance(i, minidl.Tensor) else i for i in index)
    check_op(lambda x: x[index], [shape], reference=lambda x: x[np_index])


@given(st.data())
def test_integer_array_indexing_over_shapes(data):
    shape = data.draw(shapes(max_dims=3))
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    n = shape[dim]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6),
                             label="indices"))          # repeats and negatives included
    index = (slice(None),) * dim + (minidl.tensor(idx),)
    np_index = (slice(None),) * dim + (idx,)
    check_op(lambda x: x[index], [shape], reference=lambda x: x[np_index])


def test_repeated_indices_accumulate_the_gradient():
    x = minidl.tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[minidl.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [3.0, 0.0, 1.0])
    x.grad = None
    x[[1, 1]].sum().backward()               # a Python list is an index array too
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 2.0, 0.0])


@given(shapes(max_dims=3))
def test_boolean_mask_indexing(shape):
    mask = np.random.default_rng(2).random(shape) > 0.4
    check_op(lambda x: x[mask], [shape], reference=lambda x: x[mask])
    check_op(lambda x, m: x[m], [shape, mask], reference=lambda x, m: x[m])
    row_mask = np.arange(shape[0]) % 2 == 0          # a mask over the first dim only
    check_op(lambda x: x[minidl.tensor(row_mask)], [shape], reference=lambda x: x[row_mask])


def test_boolean_mask_from_a_comparison():
    x = minidl.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [1.0, 4.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[1, 0], [0, 1]])


def test_zero_dim_int_tensor_index_acts_as_an_int():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x[minidl.tensor(1)].shape == (2,)
    np.testing.assert_array_equal(x[minidl.tensor(1), minidl.tensor(0)].cpu().numpy(), 3.0)


def test_float_tensor_index_is_rejected():
    with pytest.raises(IndexError, match="tensors used as indices must be long, int or bool"):
        minidl.ones(3)[minidl.tensor([0.0, 1.0])]


def test_iterating_a_tensor_gives_its_rows():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]


# ---- x[index] = value ----
SETITEM = [
    (0,), (slice(1, 3),), (Ellipsis, 1), (slice(None, None, -2),),
    (np.array([0, 2]),), (np.array([0, 1]), np.array([1, 2])),
]


@pytest.mark.parametrize("index", SETITEM, ids=repr)
def test_index_put_gradients_for_tensor_and_value(index):
    x_shape = (3, 4)
    value_shape = np.empty(x_shape)[index].shape

    def ref(x, v):
        y = x.copy()
        y[index] = v
        return y
    check_op(lambda x, v: index_put(x, index, v), [x_shape, value_shape], reference=ref)
    # a value that broadcasts into the selected region
    check_op(lambda x, v: index_put(x, index, v), [x_shape, value_shape[-1:] or (1,)],
             reference=ref)


@given(st.data())
def test_index_put_over_shapes(data):
    shape = data.draw(shapes(max_dims=3))
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    n = shape[dim]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=n,
                                      unique_by=lambda i: i % n), label="indices"))
    index = (slice(None),) * dim + (idx,)
    value_shape = np.empty(shape)[index].shape

    def ref(x, v):
        y = x.copy()
        y[index] = v
        return y
    check_op(lambda x, v: index_put(x, index, v), [shape, value_shape], reference=ref)


def test_setitem_on_a_non_leaf_is_differentiable():
    x = minidl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=minidl.float64,
                      requires_grad=True)
    v = minidl.tensor([7.0, 8.0, 9.0], dtype=minidl.float64, requires_grad=True)
    z = x * 2
    z[0] = v                                  # overwrites row 0
    (z * z).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0, 0, 0], [32, 40, 48]])   # d(4x^2) = 8x
    np.testing.assert_array_equal(v.grad.cpu().numpy(), [14, 16, 18])
    assert z.grad_fn is not None and not z.is_leaf


def test_setitem_with_a_scalar_and_a_mask():
    x = minidl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    z = x * 1
    z[z < 0] = 0.0
    np.testing.assert_array_equal(z.detach().cpu().numpy(), [1.0, 0.0, 3.0])
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [1.0, 0.0, 1.0])


def test_setitem_on_a_plain_tensor_writes_in_place():
    x = minidl.zeros(2, 3)
    data = x.array
    x[1, ::2] = 5.0
    x[0] = minidl.tensor([1.0, 2.0, 3.0])
    assert x.array is data
    np.testing.assert_array_equal(x.cpu().numpy(), [[1, 2, 3], [5, 0, 5]])


def test_setitem_on_a_tensor_without_grad_records_a_value_that_needs_it():
    buf = minidl.zeros(3, dtype=minidl.float64)
    w = minidl.tensor(2.0, dtype=minidl.float64, requires_grad=True)
    buf[1] = w
    assert buf.requires_grad
    (buf * 3).sum().backward()
    assert w.grad.item() == 3.0


def test_setitem_on_a_leaf_requiring_grad_raises():
    x = minidl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*in-place"):
        x[0] = 2.0
    with minidl.no_grad():
        x[0] = 2.0
    np.testing.assert_array_equal(x.detach().cpu().numpy(), [2.0, 1.0, 1.0])


def test_setitem_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"setitem.*\(2,\).*\(3, 4\)"):
        minidl.zeros(3, 4)[0] = minidl.ones(2)
    with pytest.raises(IndexError, match=r"setitem.*index 5.*\(3, 4\)"):
        minidl.zeros(3, 4)[5] = 1.0
