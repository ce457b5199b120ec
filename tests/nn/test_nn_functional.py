"""ops.batch_norm, ops.dropout, ops.one_hot (forward vs NumPy, running-stat updates,
gradcheck and gradgradcheck in float64) and nn.functional's re-exports and wrappers."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
import minidl.nn.functional as F
from minidl import ops
from minidl.autograd import gradcheck, gradgradcheck


def _t(a, requires_grad=False):
    return minidl.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _bn_reference(x, mean, var, w, b, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * w.reshape(shape) + b.reshape(shape)


@st.composite
def bn_shapes(draw):
    """(N, C, *spatial) with at least two values per channel."""
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if n * int(np.prod(spatial)) < 2:
        n = 2
    return (n, c) + spatial


@given(bn_shapes(), st.booleans())
def test_batch_norm_forward_matches_numpy(shape, training):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    c = shape[1]
    w, b = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    running_mean, running_var = _t(rm), _t(rv)
    y = ops.batch_norm(_t(x), running_mean, running_var, _t(w), _t(b), training, 0.3, 1e-5)
    dims = (0,) + tuple(range(2, x.ndim))
    if training:
        mean, var = x.mean(axis=dims), x.var(axis=dims)
        expected = _bn_reference(x, mean, var, w, b, 1e-5)
        n = x.size // c
        np.testing.assert_allclose(running_mean.numpy(), 0.7 * rm + 0.3 * mean, rtol=1e-12)
        np.testing.assert_allclose(running_var.numpy(), 0.7 * rv + 0.3 * var * n / (n - 1),
                                   rtol=1e-12)
    else:
        expected = _bn_reference(x, rm, rv, w, b, 1e-5)
        np.testing.assert_array_equal(running_mean.numpy(), rm)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@given(bn_shapes(), st.booleans())
def test_batch_norm_gradcheck_and_gradgradcheck(shape, training):
    rng = np.random.default_rng(1)
    c = shape[1]
    x = _t(rng.standard_normal(shape), True)
    w = _t(rng.uniform(0.5, 2, c), True)
    b = _t(rng.standard_normal(c), True)
    rm, rv = _t(np.zeros(c)), _t(np.ones(c))

    def fn(x, w, b):
        return ops.batch_norm(x, rm, rv, w, b, training, 0.1, 1e-3)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_batch_norm_without_affine_or_running_stats():
    x = np.random.default_rng(2).standard_normal((4, 3, 2))
    y = ops.batch_norm(_t(x), None, None, training=True)
    np.testing.assert_allclose(y.numpy(), _bn_reference(x, x.mean((0, 2)), x.var((0, 2)),
                                                        np.ones(3), np.zeros(3), 1e-5),
                               rtol=1e-10)


def test_batch_norm_keeps_float32():
    x = minidl.randn(4, 3)
    y = ops.batch_norm(x, minidl.zeros(3), minidl.ones(3), minidl.ones(3), minidl.zeros(3),
                       True)
    assert y.dtype == np.float32


def test_batch_norm_errors():
    x = minidl.randn(4, 3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        ops.batch_norm(minidl.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"running_mean should have shape \(3,\).*\(4, 3\)"):
        ops.batch_norm(x, minidl.zeros(4), minidl.ones(3))
    with pytest.raises(RuntimeError, match="weight to have the input's dtype"):
        ops.batch_norm(x, None, None, minidl.ones(3, dtype=minidl.float64), training=True)
    with pytest.raises(ValueError, match="at least 2 dims"):
        ops.batch_norm(minidl.randn(3), None, None, training=True)
    with pytest.raises(RuntimeError, match="must be given when training=False"):
        ops.batch_norm(x, None, None, training=False)


def test_dropout_mask_values_rate_and_repeatability():
    x = minidl.ones(200, 100)
    minidl.manual_seed(7)
    y = ops.dropout(x, 0.3).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.02)      # 20 000 draws: ~5 sigma
    minidl.manual_seed(7)
    np.testing.assert_array_equal(ops.dropout(x, 0.3).numpy(), y)
    assert ops.dropout(x, 0.3, training=False) is x
    assert ops.dropout(x, 0.0) is x
    assert not ops.dropout(x, 1.0).numpy().any()


def test_dropout_gradient_is_the_scaled_mask():
    x = _t(np.random.default_rng(0).uniform(1, 2, (6, 5)), True)
    minidl.manual_seed(3)
    y = ops.dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy() / x.detach().numpy(),
                               rtol=1e-12)

    def seeded(x):                    # the same mask at every evaluation
        minidl.manual_seed(3)
        return ops.dropout(x, 0.4)

    assert gradcheck(seeded, (x,))
    assert gradgradcheck(seeded, (x,))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
        ops.dropout(minidl.ones(2), p)


def test_one_hot():
    labels = minidl.tensor([[0, 2], [1, 2]])
    out = ops.one_hot(labels)
    assert out.shape == (2, 2, 3) and out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[labels.numpy()])
    assert ops.one_hot(minidl.tensor([1]), num_classes=5).tolist() == [[0, 1, 0, 0, 0]]
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        ops.one_hot(minidl.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        ops.one_hot(minidl.tensor([-1]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        ops.one_hot(minidl.tensor([1.0]))
    with pytest.raises(RuntimeError, match="empty tensor"):
        ops.one_hot(minidl.tensor(np.zeros(0, dtype=np.int64)))


def test_functional_reexports_the_ops():
    for name in ("linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
                 "batch_norm", "sigmoid", "tanh", "cross_entropy", "nll_loss", "mse_loss",
                 "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                 "one_hot", "pad", "flatten"):
        fn = getattr(F, name)       # the op, or the op behind PyTorch's keyword names
        assert getattr(ops, name) in (fn, getattr(fn, "__wrapped__", None)), name
    assert set(F.__all__) >= {"relu", "leaky_relu", "dropout", "softmax", "log_softmax"}


def test_functional_inplace_wrappers():
    x = minidl.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    x = minidl.tensor([-1.0, 2.0])
    assert F.leaky_relu(x, 0.5, inplace=True) is x and x.tolist() == [-0.5, 2.0]
    x = minidl.ones(4)
    assert F.dropout(x, 0.5, training=False, inplace=True) is x
    leaf = minidl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(leaf, inplace=True)
    h = leaf * 1                          # in place on a non-leaf keeps the graph right
    F.relu(h, inplace=True).sum().backward()
    assert leaf.grad.tolist() == [1.0, 1.0]


def test_functional_softmax_dtype_and_implicit_dim():
    x = minidl.randn(2, 3)
    np.testing.assert_allclose(F.softmax(x, dim=1, dtype=minidl.float64).numpy(),
                               ops.softmax(x.double(), 1).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.log_softmax(x)
    np.testing.assert_array_equal(y.numpy(), ops.log_softmax(x, 1).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(x, 0)
