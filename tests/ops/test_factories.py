"""Factories (tensor, zeros, ones, full, arange, linspace, eye, rand, randn, randint,
*_like), manual_seed, default dtypes, and in-place updates under no_grad."""
import numpy as np
import pytest

import minidl


@pytest.fixture
def default_float64():
    minidl.set_default_dtype(minidl.float64)
    yield
    minidl.set_default_dtype(minidl.float32)


# ---- tensor() dtype inference ----
@pytest.mark.parametrize("data, dtype", [
    (1.5, "float32"), ([1.0, 2.0], "float32"), ([1, 2.5], "float32"),   # Python floats
    (3, "int64"), ([1, 2], "int64"),                                     # Python ints
    (True, "bool"), ([True, False], "bool"),
    (np.array([1.0, 2.0]), "float64"), (np.array([1, 2], dtype=np.int32), "int32"),
    (np.float64(2.0), "float64"),
])
def test_tensor_infers_dtype_as_pytorch(data, dtype):
    t = minidl.tensor(data)
    assert t.dtype == np.dtype(dtype)
    assert isinstance(t.array, np.ndarray)


def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0])
    t = minidl.tensor(a)
    a[0] = 9.0
    assert t.array[0] == 1.0
    s = minidl.from_numpy(a)
    a[1] = 7.0
    assert s.array[1] == 7.0


def test_tensor_dtype_and_requires_grad_arguments():
    t = minidl.tensor([1, 2], dtype=minidl.float64, requires_grad=True)
    assert t.dtype == minidl.float64 and t.requires_grad and t.is_leaf
    assert minidl.Tensor([1.5]).dtype == minidl.float32


def test_default_dtype_governs_python_floats_and_factories(default_float64):
    assert minidl.get_default_dtype() == minidl.float64
    assert minidl.tensor([1.5]).dtype == minidl.float64
    assert minidl.zeros(2).dtype == minidl.float64
    assert (minidl.tensor([1]) + 2.5).dtype == minidl.float64
    assert (minidl.tensor([1]) / minidl.tensor([2])).dtype == minidl.float64


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError, match="set_default_dtype.*int64"):
        minidl.set_default_dtype(minidl.int64)


# ---- factories ----
@pytest.mark.parametrize("factory, fill", [(minidl.zeros, 0.0), (minidl.ones, 1.0)])
def test_zeros_ones(factory, fill):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = factory(*args)
        assert t.shape == (2, 3) and t.dtype == minidl.float32 and not t.requires_grad
        np.testing.assert_array_equal(t.cpu().numpy(), np.full((2, 3), fill))
    assert factory().shape == ()
    assert factory(2, dtype=minidl.int64).dtype == minidl.int64
    assert factory(2, requires_grad=True).requires_grad
    assert minidl.empty(4, 1).shape == (4, 1)


def test_full():
    assert minidl.full((2, 2), 1.5).dtype == minidl.float32
    assert minidl.full((2,), 7).dtype == minidl.int64
    assert minidl.full((2,), True).dtype == minidl.bool
    assert minidl.full((2,), 7, dtype=minidl.float64).dtype == minidl.float64
    np.testing.assert_array_equal(minidl.full((3,), 2.5).cpu().numpy(), [2.5, 2.5, 2.5])


def test_arange():
    t = minidl.arange(5)
    assert t.dtype == minidl.int64 and t.tolist() == [0, 1, 2, 3, 4]
    assert minidl.arange(2, 8, 3).tolist() == [2, 5]
    assert minidl.arange(5, 0, -2).tolist() == [5, 3, 1]
    f = minidl.arange(0, 1, 0.25)
    assert f.dtype == minidl.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert minidl.arange(3, dtype=minidl.float64).dtype == minidl.float64


def test_linspace_and_eye():
    t = minidl.linspace(0, 1, 5)
    assert t.dtype == minidl.float32
    np.testing.assert_allclose(t.cpu().numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert minidl.linspace(-1, 1, 1).tolist() == [-1.0]
    np.testing.assert_array_equal(minidl.eye(3).cpu().numpy(), np.eye(3))
    np.testing.assert_array_equal(minidl.eye(2, 3).cpu().numpy(), np.eye(2, 3))
    assert minidl.eye(2).dtype == minidl.float32


def test_rand_randn_randint_shapes_dtypes_and_ranges():
    minidl.manual_seed(0)
    u = minidl.rand(1000)
    assert u.dtype == minidl.float32 and 0.0 <= u.cpu().numpy().min() and u.cpu().numpy().max() < 1.0
    n = minidl.randn(2000, dtype=minidl.float64)
    assert n.dtype == minidl.float64 and abs(n.cpu().numpy().mean()) < 0.1
    assert abs(n.cpu().numpy().std() - 1.0) < 0.1
    assert minidl.randn(2, 3, requires_grad=True).requires_grad
    r = minidl.randint(3, 7, (500,))
    assert r.dtype == minidl.int64 and set(r.tolist()) == {3, 4, 5, 6}
    r = minidl.randint(4, (2, 3))                         # randint(high, size)
    assert r.shape == (2, 3) and r.cpu().numpy().min() >= 0 and r.cpu().numpy().max() < 4
    p = minidl.randperm(6)
    assert sorted(p.tolist()) == list(range(6)) and p.dtype == minidl.int64


def test_manual_seed_makes_draws_repeatable():
    def draw():
        return (minidl.rand(3).tolist(), minidl.randn(2, 2).tolist(),
                minidl.randint(0, 100, (4,)).tolist(), minidl.randn_like(minidl.ones(2)).tolist())
    minidl.manual_seed(1234)
    first = draw()
    minidl.manual_seed(1234)
    assert draw() == first
    minidl.manual_seed(4321)
    assert draw() != first


def test_rng_state_roundtrip():
    minidl.manual_seed(5)
    state = minidl.get_rng_state()
    a = minidl.randn(3).tolist()
    minidl.set_rng_state(state)
    assert minidl.randn(3).tolist() == a


def test_like_factories_copy_shape_and_dtype():
    x = minidl.ones(2, 3, dtype=minidl.float64)
    for fn in (minidl.zeros_like, minidl.ones_like, minidl.rand_like, minidl.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == minidl.float64 and not y.requires_grad
    assert minidl.zeros_like(minidl.arange(3)).dtype == minidl.int64
    assert minidl.ones_like(x, dtype=minidl.float32).dtype == minidl.float32
    assert minidl.full_like(x, 4.0).tolist() == [[4.0] * 3] * 2
    assert minidl.zeros_like(x, requires_grad=True).requires_grad


@pytest.mark.parametrize("call, pattern", [
    (lambda: minidl.zeros(-1), "non-negative"),
    (lambda: minidl.randint(5, 5, (2,)), "low < high"),
    (lambda: minidl.arange(0, 1, 0), "step must be nonzero"),
    (lambda: minidl.eye(-1), "eye.*-1"),
    (lambda: minidl.linspace(0, 1, -1), "linspace.*-1"),
])
def test_factory_errors(call, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        call()


def test_full_rejects_a_non_number():
    with pytest.raises(TypeError, match="full.*str"):
        minidl.full((2,), "a")


# ---- in place ----
def test_sgd_style_update_under_no_grad_changes_the_same_object():
    p = minidl.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    data, lr = p.array, 0.1
    with minidl.no_grad():
        q = p
        p -= lr * p.grad
    assert p is q and p.array is data            # the same tensor, the same array
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    np.testing.assert_allclose(p.detach().cpu().numpy(), [0.8, 1.6])


@pytest.mark.parametrize("op", [
    lambda p: p.add_(1.0), lambda p: p.sub_(1.0, alpha=2), lambda p: p.mul_(2.0),
    lambda p: p.div_(2.0), lambda p: p.clamp_(0.0, 1.5), lambda p: p.zero_(),
    lambda p: p.fill_(3.0), lambda p: p.copy_(minidl.tensor([5.0, 6.0])),
])
def test_in_place_methods_under_no_grad_keep_the_object(op):
    p = minidl.tensor([1.0, 2.0], requires_grad=True)
    data = p.array
    with minidl.no_grad():
        out = op(p)
    assert out is p and p.array is data and p.is_leaf and p.requires_grad


def test_in_place_results():
    x = minidl.tensor([1.0, 2.0])
    x += 1
    x *= 2
    x -= minidl.tensor([1.0, 1.0])
    x /= 2
    np.testing.assert_allclose(x.cpu().numpy(), [1.5, 2.5])
    x.add_(minidl.tensor([1.0, 1.0]), alpha=2).clamp_(max=4.0)
    np.testing.assert_allclose(x.cpu().numpy(), [3.5, 4.0])
    x.copy_(minidl.tensor(7.0))                 # broadcasts
    np.testing.assert_allclose(x.cpu().numpy(), [7.0, 7.0])


@pytest.mark.parametrize("op", [
    lambda p: p.add_(1.0), lambda p: p.mul_(2.0), lambda p: p.clamp_(0.0, 1.0),
    lambda p: p.__iadd__(1.0), lambda p: p.__isub__(1.0), lambda p: p.__imul__(2.0),
    lambda p: p.__itruediv__(2.0), lambda p: p.copy_(minidl.ones(2)),
])
def test_in_place_on_a_leaf_requiring_grad_raises(op):
    p = minidl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*in-place"):
        op(p)


def test_in_place_on_a_non_leaf_is_recorded():
    x = minidl.tensor([1.0, 2.0], dtype=minidl.float64, requires_grad=True)
    y = x * 2
    y += x            # y = 3x
    y.mul_(x)         # y = 3x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [6.0, 12.0])


def test_in_place_ops_keep_the_dtype():
    x = minidl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="float32 can't be cast.*int64"):
        x += 2.5
    x += 2
    assert x.dtype == minidl.int64 and x.tolist() == [3, 4]
    y = minidl.ones(2)
    y += minidl.ones(2, dtype=minidl.float64)          # float64 into float32: allowed
    assert y.dtype == minidl.float32
    w = minidl.ones(2, requires_grad=True)
    z = w * 1
    z += minidl.ones(2, dtype=minidl.float64)          # recorded, and still float32
    assert z.dtype == minidl.float32 and z.grad_fn is not None
    z.sum().backward()
    assert w.grad.dtype == minidl.float32


# ---- the Tensor constructor's two legacy forms ----
def test_tensor_constructor_from_sizes_and_from_lists_as_pytorch():
    torch = pytest.importorskip("torch")
    for args in [(2, 3), (4,), (0,), (minidl.Size([2, 1]),)]:
        theirs_args = tuple(torch.Size(a) if isinstance(a, minidl.Size) else a for a in args)
        ours, theirs = minidl.Tensor(*args), torch.Tensor(*theirs_args)
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
        assert not ours.cpu().numpy().any()                # zeros where PyTorch leaves garbage
    for data in ([0], [[1, 2], [3, 4]], [True, False], [1.5, 2]):
        ours, theirs = minidl.Tensor(data), torch.Tensor(data)
        assert str(ours.dtype) == str(theirs.dtype) == "torch.float32", data
        np.testing.assert_array_equal(ours.cpu().numpy(), theirs.cpu().numpy())
    assert minidl.Tensor().shape == (0,)
    assert minidl.Tensor(np.arange(3)).dtype == minidl.int64      # minidl keeps an array's dtype
    with pytest.raises(TypeError, match=r"sizes must be non-negative ints, got \(2, -1\)"):
        minidl.Tensor(2, -1)
