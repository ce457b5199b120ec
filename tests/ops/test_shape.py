"""Shape ops: reshape/view, flatten, squeeze/unsqueeze, permute/transpose/t/T, expand,
repeat, cat/stack, split/chunk, pad.

Forward vs NumPy, gradcheck and gradgradcheck in float64 over Hypothesis shapes and dims.
"""
import numpy as np
from hypothesis import given, strategies as st

import minidl
from minidl.ops import pad
from minidl.testing import shapes
from minidl.testing.op_test import check_op


def _dim(ndim):
    return st.integers(-ndim, ndim - 1)


@given(st.data())
def test_reshape_and_view(data):
    shape = data.draw(shapes())
    n = int(np.prod(shape))
    target = data.draw(st.sampled_from([(n,), (1, n), (n, 1), (-1,), (1, -1, 1)]))
    expected = np.empty(shape).reshape(target).shape
    _, (y,) = check_op(lambda x: x.reshape(target), [shape],
                       reference=lambda x: x.reshape(target))
    assert y.shape == expected
    check_op(lambda x: x.view(*target), [shape], reference=lambda x: x.reshape(target))
    check_op(lambda x: minidl.reshape(x, target), [shape], reference=lambda x: x.reshape(target))


def test_reshape_as_view_as_and_identity():
    x = minidl.ones(2, 3)
    assert x.reshape_as(minidl.ones(3, 2)).shape == (3, 2)
    assert x.view_as(minidl.ones(6)).shape == (6,)
    assert x.reshape(2, 3) is x


@given(st.data())
def test_flatten(data):
    shape = data.draw(shapes())
    start = data.draw(_dim(len(shape)), label="start")
    end = data.draw(_dim(len(shape)), label="end")
    if start % len(shape) > end % len(shape):
        start, end = end, start
    s, e = start % len(shape), end % len(shape)
    target = shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]
    check_op(lambda x: x.flatten(start, end), [shape], reference=lambda x: x.reshape(target))
    check_op(lambda x: minidl.flatten(x), [shape], reference=lambda x: x.reshape(-1))


def test_flatten_of_zero_dim_is_one_element():
    assert minidl.tensor(3.0).flatten().shape == (1,)


@given(st.data())
def test_squeeze_unsqueeze(data):
    shape = data.draw(shapes(min_side=1, max_side=2))
    dim = data.draw(_dim(len(shape)), label="dim")
    udim = data.draw(_dim(len(shape) + 1), label="unsqueeze dim")
    squeeze_ref = (lambda x: x.squeeze(dim)) if shape[dim] == 1 else (lambda x: x)
    check_op(lambda x: x.squeeze(), [shape], reference=np.squeeze)
    check_op(lambda x: x.squeeze(dim), [shape], reference=squeeze_ref)
    check_op(lambda x: minidl.squeeze(x, dim), [shape], reference=squeeze_ref)
    check_op(lambda x: x.unsqueeze(udim), [shape], reference=lambda x: np.expand_dims(x, udim))


def test_squeeze_with_a_tuple_of_dims():
    x = minidl.ones(1, 2, 1, 1)
    assert x.squeeze((0, -1)).shape == (2, 1)
    assert x.squeeze(1).shape == (1, 2, 1, 1)      # a non-1 dim is left alone


@given(st.data())
def test_permute_transpose(data):
    shape = data.draw(shapes())
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    order = tuple(d - len(shape) if i % 2 else d for i, d in enumerate(order))  # some negative
    d0 = data.draw(_dim(len(shape)), label="dim0")
    d1 = data.draw(_dim(len(shape)), label="dim1")
    check_op(lambda x: x.permute(*order), [shape], reference=lambda x: x.transpose(order))
    check_op(lambda x: minidl.permute(x, order), [shape], reference=lambda x: x.transpose(order))
    check_op(lambda x: x.transpose(d0, d1), [shape], reference=lambda x: np.swapaxes(x, d0, d1))
    check_op(lambda x: x.T, [shape], reference=lambda x: x.T)


@given(shapes(max_dims=2))
def test_t(shape):
    check_op(lambda x: x.t(), [shape], reference=lambda x: x.T)
    check_op(lambda x: minidl.t(x), [shape], reference=lambda x: x.T)


def test_mT_swaps_the_last_two_dims():
    assert minidl.ones(2, 3, 4).mT.shape == (2, 4, 3)


@given(st.data())
def test_expand(data):
    shape = data.draw(shapes(max_dims=3, max_side=3))
    target = tuple(data.draw(st.sampled_from([1, 3])) * s if s == 1 else s for s in shape)
    target = (2,) + target
    check_op(lambda x: x.expand(*target), [shape],
             reference=lambda x: np.broadcast_to(x, target))
    minus_one = (2,) + tuple(-1 for _ in shape)
    check_op(lambda x: x.expand(minus_one), [shape], reference=lambda x: np.broadcast_to(
        x, (2,) + shape))
    check_op(lambda x, y: x.expand_as(y), [shape, np.zeros(target)],
             reference=lambda x, y: np.broadcast_to(x, target))


def test_expand_gradient_sums_over_the_copies():
    x = minidl.tensor([[1.0], [2.0]], requires_grad=True)
    x.expand(2, 3).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[3.0], [3.0]])


@given(st.data())
def test_repeat(data):
    shape = data.draw(shapes(max_dims=3, max_side=3))
    extra = data.draw(st.integers(0, 1))
    sizes = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape) + extra,
                                     max_size=len(shape) + extra)))
    check_op(lambda x: x.repeat(*sizes), [shape], reference=lambda x: np.tile(x, sizes))


@given(st.data())
def test_cat(data):
    shape = data.draw(shapes(max_dims=3))
    dim = data.draw(_dim(len(shape)), label="dim")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    parts = [shape[:dim % len(shape)] + (s,) + shape[dim % len(shape) + 1:] for s in sizes]
    check_op(lambda *xs: minidl.cat(xs, dim), parts,
             reference=lambda *xs: np.concatenate(xs, axis=dim))


@given(st.data())
def test_stack(data):
    shape = data.draw(shapes(max_dims=3))
    dim = data.draw(_dim(len(shape) + 1), label="dim")
    n = data.draw(st.integers(1, 3), label="n")
    check_op(lambda *xs: minidl.stack(list(xs), dim=dim), [shape] * n,
             reference=lambda *xs: np.stack(xs, axis=dim))


def test_cat_promotes_dtypes_as_pytorch():
    y = minidl.cat([minidl.ones(2), minidl.tensor([1, 2])])
    assert y.dtype == minidl.float32
    y = minidl.cat([minidl.ones(2), minidl.ones(2, dtype=minidl.float64)])
    assert y.dtype == minidl.float64


@given(st.data())
def test_split_and_chunk(data):
    shape = data.draw(shapes(max_dims=3))
    dim = data.draw(_dim(len(shape)), label="dim")
    n = shape[dim]
    size = data.draw(st.integers(1, n), label="split_size")
    chunks = data.draw(st.integers(1, n + 1), label="chunks")
    bounds = list(range(size, n, size))
    check_op(lambda x: x.split(size, dim), [shape],
             reference=lambda x: tuple(np.split(x, bounds, axis=dim)))
    step = -(-n // chunks)
    check_op(lambda x: x.chunk(chunks, dim), [shape],
             reference=lambda x: tuple(np.split(x, list(range(step, n, step)), axis=dim)))
    check_op(lambda x: minidl.split(x, [1, n - 1] if n > 1 else [1], dim), [shape],
             reference=lambda x: tuple(np.split(x, [1] if n > 1 else [], axis=dim)))


def test_chunk_and_split_sizes_match_pytorch():
    x = minidl.arange(5)
    assert [c.shape[0] for c in x.chunk(3)] == [2, 2, 1]
    assert [c.shape[0] for c in minidl.arange(6).chunk(4)] == [2, 2, 2]
    assert [c.shape[0] for c in x.split(2)] == [2, 2, 1]
    assert [c.shape[0] for c in x.split([1, 4])] == [1, 4]


@given(st.data())
def test_pad(data):
    shape = data.draw(shapes(max_dims=3, max_side=3))
    n = data.draw(st.integers(1, len(shape)), label="padded dims")
    widths = tuple(data.draw(st.lists(st.integers(0, 2), min_size=2 * n, max_size=2 * n)))
    value = data.draw(st.sampled_from([0.0, -1.5]))
    np_widths = [(0, 0)] * (len(shape) - n) + [(widths[2 * i], widths[2 * i + 1])
                                                for i in reversed(range(n))]
    check_op(lambda x: pad(x, widths, value=value), [shape],
             reference=lambda x: np.pad(x, np_widths, constant_values=value))


def test_pad_order_is_last_dim_first():
    x = minidl.ones(1, 2)
    y = pad(x, (1, 2, 3, 0))     # last dim: 1 left, 2 right; the one before: 3 top, 0 bottom
    assert y.shape == (4, 5)
    np.testing.assert_array_equal(y.cpu().numpy()[3], [0, 1, 1, 0, 0])


def test_split_of_an_empty_dim_gives_one_empty_piece():
    pieces = minidl.ones(0, 3).split(2)
    assert len(pieces) == 1 and pieces[0].shape == (0, 3)


def test_repeat_once_and_contiguous_copy_as_pytorch_does():
    # neither may share memory with its input, or an in-place change of the result would
    # change the input (PyTorch copies in both)
    x = minidl.ones(2, 3)
    for result in (x.repeat(1, 1), x.repeat(1, 1, 1), x.T.contiguous()):
        assert not np.shares_memory(result.array, x.array)
        with minidl.no_grad():
            result.zero_()
        np.testing.assert_array_equal(x.cpu().numpy(), 1.0)
    assert x.contiguous() is x and x.T.contiguous().array.flags.c_contiguous
    w = minidl.ones(2, 3, requires_grad=True)
    w.T.contiguous().sum().backward()
    np.testing.assert_array_equal(w.grad.cpu().numpy(), 1.0)
