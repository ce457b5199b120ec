"""Reductions: sum, mean, var, std, max/min, amax/amin, argmax/argmin, logsumexp, norm, prod.

Forward vs NumPy, gradcheck and gradgradcheck in float64 over Hypothesis shapes and dims
given as None, negative or positive ints and tuples, with keepdim both ways.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.testing import broadcastable_shapes, shapes
from minidl.testing.op_test import check_op


def dims_for(ndim: int, allow_none: bool = True):
    """A dim argument for a tensor of `ndim` dims: None, an int or a tuple, each dim drawn
    as a positive or a negative index."""
    one = st.integers(0, ndim - 1).flatmap(lambda d: st.sampled_from([d, d - ndim]))
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds]))
    return st.one_of(([st.none()] if allow_none else []) + [one, many])


def _axis(dim):
    return None if dim is None else dim


@given(st.data())
def test_sum(data):
    shape = data.draw(shapes())
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    ref = lambda x: x.sum(axis=_axis(dim), keepdims=keepdim)   # noqa: E731
    check_op(lambda x: x.sum(dim, keepdim), [shape], reference=ref)
    check_op(lambda x: minidl.sum(x, dim=dim, keepdim=keepdim), [shape], reference=ref)


@given(st.data())
def test_mean(data):
    shape = data.draw(shapes())
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    check_op(lambda x: x.mean(dim, keepdim), [shape],
             reference=lambda x: x.mean(axis=_axis(dim), keepdims=keepdim))


@given(st.data())
def test_var_and_std_unbiased_and_with_correction_zero(data):
    shape = data.draw(shapes(min_side=2))     # at least 2 elements: unbiased var is finite
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    axis = _axis(dim)
    check_op(lambda x: x.var(dim, keepdim=keepdim), [shape],
             reference=lambda x: x.var(axis=axis, ddof=1, keepdims=keepdim))
    check_op(lambda x: x.var(dim, keepdim=keepdim, correction=0), [shape],
             reference=lambda x: x.var(axis=axis, ddof=0, keepdims=keepdim))
    check_op(lambda x: x.std(dim, unbiased=True, keepdim=keepdim), [shape],
             reference=lambda x: x.std(axis=axis, ddof=1, keepdims=keepdim))
    check_op(lambda x: minidl.std(x, dim, keepdim=keepdim, correction=0), [shape],
             reference=lambda x: x.std(axis=axis, ddof=0, keepdims=keepdim))


def test_var_positional_unbiased_flag_and_float_correction():
    x = minidl.tensor([1.0, 2.0, 4.0, 7.0], dtype=minidl.float64)
    data = x.cpu().numpy()
    np.testing.assert_allclose(x.var().item(), data.var(ddof=1))
    np.testing.assert_allclose(x.var(False).item(), data.var(ddof=0))    # var(unbiased)
    np.testing.assert_allclose(x.std(0, False).item(), data.std(ddof=0))
    np.testing.assert_allclose(x.var(correction=1.5).item(), data.var(ddof=1.5))


def test_var_of_one_element_is_nan_as_in_pytorch():
    with np.errstate(all="ignore"):
        assert np.isnan(minidl.tensor([3.0]).var().item())
    assert minidl.tensor([3.0]).var(correction=0).item() == 0.0


def test_mean_var_of_integer_tensors_raise():
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype.*int64"):
        minidl.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="var\\(\\).*int64"):
        minidl.tensor([1, 2]).var()


def test_sum_dtypes():
    assert minidl.tensor([True, True]).sum().dtype == minidl.int64
    assert minidl.tensor([True, True]).sum().item() == 2
    assert minidl.tensor([1, 2], dtype=minidl.int32).sum().dtype == minidl.int64
    assert minidl.tensor([1.0, 2.0]).sum(dtype=minidl.float64).dtype == minidl.float64


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "max", "min", "var", "std",
                                  "norm", "prod", "logsumexp"])
def test_full_reduction_is_a_zero_dim_array_tensor(name):
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = getattr(x, name)(*((0,) if name == "logsumexp" else ()))
    if name == "logsumexp":
        y = y.sum()
    assert y.shape == () and isinstance(y.array, np.ndarray), type(y.array)
    y.backward()
    assert x.grad.shape == (2, 2)


@given(st.data())
def test_amax_amin(data):
    shape = data.draw(shapes())
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    axis = _axis(dim)
    check_op(lambda x: x.amax(dim, keepdim), [shape],
             reference=lambda x: x.max(axis=axis, keepdims=keepdim))
    check_op(lambda x: minidl.amin(x, dim, keepdim), [shape],
             reference=lambda x: x.min(axis=axis, keepdims=keepdim))


@given(shapes())
def test_max_min_full(shape):
    check_op(lambda x: x.max(), [shape], reference=np.max)
    check_op(lambda x: minidl.min(x), [shape], reference=np.min)


@given(st.data())
def test_max_min_along_a_dim_give_values_and_indices(data):
    shape = data.draw(shapes())
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")

    def ref(largest):
        def f(x):
            idx = (x.argmax if largest else x.argmin)(axis=dim, keepdims=True)
            values = np.take_along_axis(x, idx, axis=dim)
            return (values, idx) if keepdim else (values.squeeze(dim), idx.squeeze(dim))
        return f
    _, (values, indices) = check_op(lambda x: x.max(dim, keepdim), [shape], reference=ref(True))
    assert indices.dtype == minidl.int64 and not indices.requires_grad
    check_op(lambda x: minidl.min(x, dim=dim, keepdim=keepdim), [shape], reference=ref(False))


def test_max_with_dim_returns_a_named_tuple():
    x = minidl.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    out = x.max(dim=1)
    np.testing.assert_array_equal(out.values.cpu().numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(out.indices.cpu().numpy(), [1, 0])
    values, indices = x.min(0, keepdim=True)
    assert values.shape == (1, 3) and indices.shape == (1, 3)


@given(broadcastable_shapes())
def test_max_min_of_two_tensors_are_elementwise(pair):
    check_op(lambda a, b: minidl.max(a, b), pair, reference=np.maximum)
    check_op(lambda a, b: a.min(b), pair, reference=np.minimum)


def test_amax_ties_share_the_gradient_and_max_dim_picks_one():
    x = minidl.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    x.grad = None
    x.max().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    x.max(1).values.sum().backward()     # the first maximum gets all of it, as torch
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0, 1, 0], [1, 0, 0]])


@given(st.data())
def test_argmax_argmin(data):
    shape = data.draw(shapes())
    x = minidl.tensor(np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape)
                      .astype(np.float64))
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdim = data.draw(st.booleans())
    for fn, ref in [(minidl.argmax, np.argmax), (minidl.argmin, np.argmin)]:
        got = fn(x, dim, keepdim)
        if dim is None:
            expected = np.asarray(ref(x.cpu().numpy()))
            expected = expected.reshape((1,) * len(shape)) if keepdim else expected
        else:
            expected = ref(x.cpu().numpy(), axis=dim, keepdims=keepdim)
        assert got.dtype == minidl.int64 and not got.requires_grad
        np.testing.assert_array_equal(got.cpu().numpy(), expected)
    assert isinstance(x.argmax().array, np.ndarray)


@given(st.data())
def test_logsumexp(data):
    shape = data.draw(shapes())
    dim = data.draw(dims_for(len(shape), allow_none=False), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")

    def ref(x):
        return np.log(np.exp(x).sum(axis=dim, keepdims=keepdim))
    check_op(lambda x: minidl.logsumexp(x, dim, keepdim), [shape], reference=ref)
    check_op(lambda x: x.logsumexp(dim, keepdim=keepdim), [shape], reference=ref)


def test_logsumexp_is_stable_at_large_values():
    x = minidl.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], requires_grad=True)
    y = minidl.logsumexp(x, 1)
    np.testing.assert_allclose(y.detach().cpu().numpy(), [1000 + np.log(2), -1000 + np.log(2)])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.full((2, 2), 0.5))


@given(st.data())
def test_norm(data):
    shape = data.draw(shapes())
    dim = data.draw(dims_for(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    p = data.draw(st.sampled_from([2, 1, 3, "fro", float("inf")]), label="p")
    axis = tuple(range(len(shape))) if dim is None else dim
    order = {"fro": 2}.get(p, p)

    def ref(x):
        if order == float("inf"):
            return np.abs(x).max(axis=axis, keepdims=keepdim)
        return (np.abs(x) ** order).sum(axis=axis, keepdims=keepdim) ** (1 / order)
    # |x| has a kink at 0 (p = 1); values stay away from it
    check_op(lambda x: x.norm(p, dim, keepdim), [shape], reference=ref, min_abs=0.1)


def test_norm_gradient_of_a_zero_vector_is_zero_not_nan():
    x = minidl.zeros(3, dtype=minidl.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        x.norm().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 0.0, 0.0])


@given(st.data())
def test_prod(data):
    shape = data.draw(shapes(max_dims=3, max_side=4))
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdim = data.draw(st.booleans())
    check_op(lambda x: x.prod(dim, keepdim), [shape], low=0.5, high=1.5,
             reference=lambda x: x.prod(axis=dim, keepdims=keepdim))


def test_prod_gradient_with_zeros():
    # d prod/dx_i = product of the others, also where some x_j are 0
    x = minidl.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], dtype=minidl.float64,
                      requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    check_op(lambda x: x.prod(1), [np.array([[2.0, 0.0, 3.0], [0.0, 1.5, 5.0]])])


def test_all_any_give_zero_dim_bool_tensors():
    x = minidl.tensor([[True, False], [True, True]])
    assert x.all().item() is False and x.any().item() is True
    assert isinstance(x.all().array, np.ndarray) and x.any().dtype == minidl.bool


def test_dim_reductions_of_a_zero_dim_tensor():
    x = minidl.tensor(2.0, requires_grad=True)
    values, indices = x.max(0)
    assert values.shape == () and values.item() == 2.0 and indices.item() == 0
    assert minidl.min(x, -1, keepdim=True).indices.shape == ()
    assert x.argmax(0).item() == 0 and x.argmin(-1).dtype == minidl.int64
    values.backward()
    assert x.grad.item() == 1.0


def test_reductions_over_non_empty_dims_of_an_empty_tensor():
    x = minidl.ones(0, 3, requires_grad=True)
    assert x.amax(1).shape == (0,) and x.max(1).indices.shape == (0,)
    assert minidl.logsumexp(x, 1).shape == (0,)
    assert x.sum(0).tolist() == [0.0, 0.0, 0.0]
    x.amax(1).sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(IndexError, match="amax.*non-zero size"):
        x.amax(0)


@given(st.data())
def test_sum_through_the_numba_kernel(data):
    # the kernel's two sums (every dim; every dim but the second) on small shapes, with the
    # thresholds lowered so that it runs: forward vs NumPy, first and second gradients
    red = pytest.importorskip("minidl.kernels.reduce_numba")
    from minidl.ops import reduction
    shape = data.draw(shapes(min_dims=1))
    ndim = len(shape)
    dim = data.draw(st.sampled_from([None, tuple(range(ndim))]
                                    + ([(0, *range(2, ndim))] if ndim >= 3 else [])), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    calls = []
    real = red.reduce_sum
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reduction, "SUM_KERNEL_MIN", 0)
        patch.setattr(red, "ROW_MIN", 1)
        patch.setattr(red, "BLOCK", 3)              # a short last block for most shapes
        patch.setattr(red, "reduce_sum", lambda *a: calls.append(a) or real(*a))
        check_op(lambda x: x.sum(dim, keepdim), [shape],
                 reference=lambda x: x.sum(axis=dim, keepdims=keepdim))
    assert calls, "the sum did not reach the Numba kernel"


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "norm",
                                  "logsumexp"])
@pytest.mark.parametrize("empty", [(), []])
def test_an_empty_dim_list_reduces_every_dim_as_in_pytorch(name, empty):
    x = minidl.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=minidl.float64)
    kwargs = {"dim": empty} if name == "norm" else {}
    got = getattr(x, name)(**kwargs) if name == "norm" else getattr(x, name)(empty)
    want = getattr(x, name)(dim=None) if name != "logsumexp" else x.logsumexp((0, 1))
    assert got.shape == () and float(got) == pytest.approx(float(want))
    assert x.sum((), keepdim=True).shape == (1, 1)
    assert x.squeeze(()).shape == (2, 3)                # squeeze's empty list squeezes none


def test_integer_and_bool_sums_are_int64_as_in_pytorch():
    for dtype in (np.uint8, np.int8, np.int32, np.bool_):
        x = minidl.tensor(np.ones((3, 4), dtype))
        assert x.sum().dtype == np.int64 and x.sum(0).dtype == np.int64
        assert int(x.sum()) == 12


@pytest.mark.parametrize("dim", [None, (), []])
def test_amax_of_an_empty_tensor_over_every_dim_asks_for_a_dim(dim):
    # PyTorch's message for dim=None and for an empty dim list alike
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        minidl.zeros(0, 3).amax(dim)
