"""gather/scatter/index_select, sort/topk, cumsum/cumprod, mm/bmm/addmm, einsum, tril/triu,
the unary math and the shape helpers: forward and gradients against PyTorch, gradcheck and
gradgradcheck over Hypothesis-drawn shapes, and the errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
from minidl.testing import shapes  # noqa: E402
from minidl.testing.op_test import check_op  # noqa: E402


def _index(shape, dim, size, seed=0, k=None):
    rng = np.random.default_rng(seed)
    shape = list(shape)
    if k is not None:
        shape[dim] = k
    return rng.integers(0, size, tuple(shape)).astype(np.int64)


@given(shapes(min_dims=1), st.data())
def test_gather_and_scatter_add(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    idx = _index(shape, dim, shape[dim], k=data.draw(st.integers(1, 4)))
    fn = lambda x, i: x.gather(dim, i)                                     # noqa: E731
    check_op(fn, [shape, idx], torch_fn=lambda x, i: torch.gather(x, dim, i))
    src_shape = idx.shape
    check_op(lambda x, i, s: x.scatter_add(dim, i, s), [shape, idx, src_shape],
             torch_fn=lambda x, i, s: x.scatter_add(dim, i, s))


@given(shapes(min_dims=1), st.data())
def test_index_select_take_along_dim_and_scatter(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    idx = np.array(data.draw(st.lists(st.integers(0, shape[dim] - 1), min_size=1,
                                      max_size=4)), np.int64)
    check_op(lambda x, i: minidl.index_select(x, dim, i), [shape, idx],
             torch_fn=lambda x, i: torch.index_select(x, dim, i))
    # scatter with distinct positions per column (duplicates are undefined in PyTorch)
    perm = np.argsort(np.random.default_rng(1).random(shape), axis=dim).astype(np.int64)
    check_op(lambda x, i, s: x.scatter(dim, i, s), [shape, perm, shape],
             torch_fn=lambda x, i, s: x.scatter(dim, i, s))
    check_op(lambda x, i: minidl.take_along_dim(x, i, dim), [shape, perm],
             torch_fn=lambda x, i: torch.take_along_dim(x, i, dim))


@given(shapes(min_dims=1), st.data())
def test_sort_topk_argsort(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    descending = data.draw(st.booleans())
    # distinct values so that the order (and so the gradient's place) is unique
    x = np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1
    check_op(lambda x: x.sort(dim, descending), [x],
             torch_fn=lambda x: torch.sort(x, dim, descending))
    k = data.draw(st.integers(0, shape[dim]))
    largest = data.draw(st.booleans())
    check_op(lambda x: x.topk(k, dim, largest), [x],
             torch_fn=lambda x: torch.topk(x, k, dim, largest))


def test_sort_is_stable_and_puts_nan_where_pytorch_does():
    a = np.array([3.0, 1.0, np.nan, 1.0, 2.0])
    for desc in (False, True):
        ours = minidl.tensor(a).sort(descending=desc, stable=True)
        theirs = torch.tensor(a).sort(descending=desc, stable=True)
        np.testing.assert_array_equal(ours.values.cpu().numpy(), theirs.values.cpu().numpy())
        assert ours.indices.tolist() == theirs.indices.tolist()


@given(shapes(min_dims=1), st.data())
def test_cumsum_cumprod(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda x: x.cumsum(dim), [shape], torch_fn=lambda x: x.cumsum(dim))
    check_op(lambda x: x.cumprod(dim), [shape], torch_fn=lambda x: x.cumprod(dim))


def test_cumprod_gradient_with_zeros_and_integer_cumsum():
    x = np.array([2.0, 0.0, 3.0, 0.0, 1.5])
    check_op(lambda x: x.cumprod(0), [x], torch_fn=lambda x: x.cumprod(0))
    assert minidl.tensor([1, 2, 3]).cumsum(0).dtype == minidl.int64


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_mm_bmm_addmm(n, m, p, b):
    check_op(minidl.mm, [(n, m), (m, p)], torch_fn=torch.mm)
    check_op(minidl.bmm, [(b, n, m), (b, m, p)], torch_fn=torch.bmm)
    check_op(lambda i, x, y: minidl.addmm(i, x, y, beta=0.5, alpha=2.0), [(n, p), (n, m), (m, p)],
             torch_fn=lambda i, x, y: torch.addmm(i, x, y, beta=0.5, alpha=2.0))
    check_op(lambda a, v: a.mv(v), [(n, m), (m,)], torch_fn=lambda a, v: a.mv(v))
    check_op(minidl.dot, [(m,), (m,)], torch_fn=torch.dot)
    check_op(minidl.outer, [(n,), (p,)], torch_fn=torch.outer)


def test_mm_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x5\)"):
        minidl.mm(minidl.zeros(2, 3), minidl.zeros(4, 5))
    with pytest.raises(RuntimeError, match="3D tensor"):
        minidl.bmm(minidl.zeros(2, 3), minidl.zeros(3, 2))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        minidl.dot(minidl.zeros(2, 2), minidl.zeros(2))


@pytest.mark.parametrize("equation,shapes_", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,kj", [(2, 3), (4, 3)]), ("bij,bjk->bik",
                                                                   [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(3,), (3,)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 1)]), ("i,j->ij", [(2,), (3,)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]), ("ijk->j", [(2, 3, 2)])])
def test_einsum(equation, shapes_):
    check_op(lambda *xs: minidl.einsum(equation, *xs), shapes_,
             torch_fn=lambda *xs: torch.einsum(equation, *xs))


def test_einsum_list_form_and_errors():
    a = minidl.ones(2, 3)
    assert minidl.einsum("ij,jk", [a, minidl.ones(3, 2)]).shape == (2, 2)
    with pytest.raises(RuntimeError, match="subscript j has size 4"):
        minidl.einsum("ij,jk", a, minidl.ones(4, 2))
    with pytest.raises(RuntimeError, match="operands"):
        minidl.einsum("ij,jk", a)


@given(shapes(min_dims=2), st.integers(-2, 2))
def test_tril_triu_diag(shape, k):
    check_op(lambda x: x.tril(k), [shape], torch_fn=lambda x: x.tril(k))
    check_op(lambda x: x.triu(k), [shape], torch_fn=lambda x: x.triu(k))
    flat = lambda x: x.reshape(x.shape[0], -1)                            # noqa: E731
    check_op(lambda x: minidl.diag(flat(x), k), [shape],
             torch_fn=lambda x: torch.diag(flat(x), k))
    check_op(lambda x: minidl.diag(flat(x)[0], k), [shape],
             torch_fn=lambda x: torch.diag(flat(x)[0], k))


@pytest.mark.parametrize("name,low,high", [
    ("tan", -1.2, 1.2), ("sinh", -2, 2), ("cosh", -2, 2), ("asin", -0.9, 0.9),
    ("acos", -0.9, 0.9), ("atan", -2, 2), ("expm1", -2, 2), ("erf", -2, 2),
    ("log2", 0.2, 3), ("log10", 0.2, 3), ("exp2", -2, 2), ("reciprocal", 0.3, 3)])
def test_unary_math(name, low, high):
    check_op(lambda x: getattr(minidl, name)(x), [(3, 4)], low=low, high=high,
             torch_fn=lambda x: getattr(torch, name)(x))
    check_op(lambda x: getattr(x, name)(), [(5,)], low=low, high=high,
             torch_fn=lambda x: getattr(x, name)())


def test_atan2_rounding_and_tests():
    check_op(minidl.atan2, [(3, 2), (3, 2)], min_abs=0.2, torch_fn=torch.atan2)
    a = np.array([-1.5, -0.5, 0.5, 1.5, 2.5, -2.7, np.inf, np.nan])
    for name in ("floor", "ceil", "trunc", "round", "frac", "isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(minidl.tensor(a), name)().cpu().numpy(),
                                      getattr(torch.tensor(a), name)().cpu().numpy(), err_msg=name)
    x = minidl.tensor([0.3, 1.7], requires_grad=True)
    x.floor().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]                  # a step: zero gradient, as torch


def test_shape_helpers_match_pytorch():
    a = np.arange(24.0).reshape(2, 3, 4)
    for fn in (lambda x: x.flip(0, 2), lambda x: x.roll(2, 1), lambda x: x.roll((1, -1), (0, 2)),
               lambda x: x.narrow(2, 1, 2), lambda x: x.movedim(0, 2),
               lambda x: x.swapaxes(0, 1), lambda x: x.unflatten(2, (2, 2)),
               lambda x: x.tile((2, 1)), lambda x: x.roll(5), lambda x: x.unbind(1)[2],
               lambda x: x.masked_select(x > 10), lambda x: x.nonzero(),
               lambda x: x.count_nonzero(1), lambda x: x.clamp_min(3).clamp_max(20),
               lambda x: x.lerp(x * 2, 0.25), lambda x: x.addcmul(x, x, value=0.5),
               lambda x: x.new_zeros(2, 3), lambda x: x.new_full((2,), 7.0)):
        ours, theirs = fn(minidl.tensor(a)), fn(torch.tensor(a))
        np.testing.assert_array_equal(ours.cpu().numpy(), theirs.cpu().numpy())
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    check_op(lambda x: x.flip(1).roll(1, 0).narrow(1, 0, 2), [(3, 4)],
             torch_fn=lambda x: x.flip(1).roll(1, 0).narrow(1, 0, 2))


def test_in_place_methods_and_legacy_api():
    x = minidl.tensor([1.0, -2.0, 3.0])
    x.abs_().sqrt_().neg_()
    np.testing.assert_allclose(x.cpu().numpy(), -np.sqrt([1.0, 2.0, 3.0]))
    x.masked_fill_(x < -1.5, 0.0)
    assert x.cpu().numpy()[2] == 0.0
    assert minidl.LongTensor([1, 2]).dtype == minidl.int64
    assert minidl.FloatTensor(2, 3).shape == (2, 3)
    assert minidl.tensor([1.0]).type() == "torch.FloatTensor"
    assert minidl.tensor([1.0]).type("torch.LongTensor").dtype == minidl.int64
    assert f"{minidl.tensor(2.5):.2f}" == "2.50" and f"{minidl.tensor([3.25]):+.1f}" == "+3.2"
    v = minidl.autograd.Variable(minidl.ones(2), requires_grad=True)
    assert v.requires_grad and isinstance(v, minidl.Tensor)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        minidl.ones(2, requires_grad=True).uniform_()


def test_random_fills_generators_and_multinomial():
    g = minidl.Generator().manual_seed(3)
    a = minidl.randn(4, generator=g)
    b = minidl.randn(4, generator=minidl.Generator().manual_seed(3))
    assert a.tolist() == b.tolist()
    state = g.get_state()
    c = minidl.rand(3, generator=g)
    g.set_state(state)
    assert minidl.rand(3, generator=g).tolist() == c.tolist()
    x = minidl.empty(20000).uniform_(-1.0, 3.0)
    assert -1 <= x.min().item() and x.max().item() < 3 and abs(x.mean().item() - 1) < 0.05
    y = minidl.empty(20000).normal_(2.0, 0.5)
    assert abs(y.mean().item() - 2) < 0.02 and abs(y.std().item() - 0.5) < 0.02
    probs = minidl.tensor([[0.0, 1.0, 3.0], [1.0, 0.0, 0.0]])
    draws = probs.multinomial(2000, replacement=True, generator=g)
    assert draws.shape == (2, 2000) and draws.dtype == minidl.int64
    assert set(draws[1].tolist()) == {0} and 0 not in draws[0].tolist()
    assert abs((draws[0] == 2).float().mean().item() - 0.75) < 0.04
    assert sorted(minidl.multinomial(minidl.ones(5), 5).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="n_sample > prob_dist"):
        minidl.multinomial(minidl.ones(3), 4)
    minidl.nn.init.normal_(minidl.empty(3), generator=g)     # nn.init takes it too


def test_gather_scatter_errors():
    x = minidl.zeros(2, 3)
    with pytest.raises(RuntimeError, match="int64"):
        x.gather(1, minidl.tensor([[0]], dtype=minidl.int32))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(1, minidl.tensor([[3]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, minidl.tensor([0]))
