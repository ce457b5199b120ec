"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax.

Forward vs NumPy formulas, gradcheck and gradgradcheck in float64 over Hypothesis shapes
and dims, and stability at +-1000 (no NaN or Inf in values or gradients).
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.ops import leaky_relu
from minidl.testing import shapes
from minidl.testing.op_test import check_op


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@given(shapes())
def test_relu(shape):
    # away from the kink at 0
    check_op(minidl.relu, [shape], reference=lambda x: np.maximum(x, 0), min_abs=0.1)
    check_op(lambda x: x.relu(), [shape], reference=lambda x: np.maximum(x, 0), min_abs=0.1)


@given(shapes(), st.sampled_from([0.01, 0.2, 1.5]))
def test_leaky_relu(shape, slope):
    check_op(lambda x: leaky_relu(x, slope), [shape], min_abs=0.1,
             reference=lambda x: np.where(x > 0, x, slope * x))


def test_leaky_relu_default_slope_and_gradient():
    x = minidl.tensor([-2.0, 3.0], requires_grad=True)
    y = leaky_relu(x)
    np.testing.assert_allclose(y.detach().cpu().numpy(), [-0.02, 3.0], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [0.01, 1.0], rtol=1e-6)


def test_relu_gradient_is_zero_at_zero():
    x = minidl.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 0.0, 1.0])


@given(shapes())
def test_sigmoid(shape):
    check_op(minidl.sigmoid, [shape], reference=lambda x: 1 / (1 + np.exp(-x)), low=-4, high=4)
    check_op(lambda x: x.sigmoid(), [shape], reference=lambda x: 1 / (1 + np.exp(-x)))


@given(shapes())
def test_tanh(shape):
    check_op(minidl.tanh, [shape], reference=np.tanh)
    check_op(lambda x: x.tanh(), [shape], reference=np.tanh)


@given(st.data())
def test_softmax_and_log_softmax_over_any_dim(data):
    shape = data.draw(shapes())
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    check_op(lambda x: minidl.softmax(x, dim), [shape], reference=lambda x: _softmax(x, dim))
    check_op(lambda x: x.softmax(dim), [shape], reference=lambda x: _softmax(x, dim))
    check_op(lambda x: minidl.log_softmax(x, dim), [shape],
             reference=lambda x: np.log(_softmax(x, dim)))
    check_op(lambda x: x.log_softmax(dim), [shape], reference=lambda x: np.log(_softmax(x, dim)))


def test_softmax_rows_sum_to_one_in_float32():
    x = minidl.randn(4, 5)
    y = x.softmax(-1)
    assert y.dtype == minidl.float32
    np.testing.assert_allclose(y.sum(-1).cpu().numpy(), np.ones(4), rtol=1e-6)


@pytest.mark.parametrize("dtype", [minidl.float32, minidl.float64])
def test_extreme_inputs_give_finite_values_and_gradients(dtype):
    values = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]]
    expected = {
        "sigmoid": np.array([[1.0, 0.0, 0.5], [0.0, 0.0, 1.0]]),
        "softmax": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
        "log_softmax": np.array([[0.0, -2000.0, -1000.0], [-2000.0, -2000.0, 0.0]]),
        "tanh": np.array([[1.0, -1.0, 0.0], [-1.0, -1.0, 1.0]]),
    }
    for name, fn in [("sigmoid", lambda x: x.sigmoid()), ("softmax", lambda x: x.softmax(1)),
                     ("log_softmax", lambda x: x.log_softmax(1)), ("tanh", lambda x: x.tanh())]:
        x = minidl.tensor(values, dtype=dtype, requires_grad=True)
        with np.errstate(over="raise", divide="raise", invalid="raise"):   # not even a warning
            y = fn(x)
            (y * minidl.tensor([[1.0, 2.0, 3.0]], dtype=dtype)).sum().backward()
        assert np.isfinite(y.detach().cpu().numpy()).all(), name
        assert np.isfinite(x.grad.cpu().numpy()).all(), name
        np.testing.assert_allclose(y.detach().cpu().numpy(), expected[name], atol=1e-6, err_msg=name)


def test_softmax_needs_a_dim():
    with pytest.raises(TypeError, match="softmax: pass dim"):
        minidl.softmax(minidl.ones(3), None)
    with pytest.raises(IndexError, match="log_softmax: Dimension out of range"):
        minidl.ones(2, 3).log_softmax(2)
