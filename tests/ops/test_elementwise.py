"""Unary elementwise ops (exp, log, log1p, sqrt, rsqrt, sin, cos, abs, sign), dtype casts
and clone: forward vs NumPy, gradcheck and gradgradcheck over Hypothesis shapes."""
import numpy as np
import pytest
from hypothesis import given

import minidl
from minidl.testing import shapes, tensors
from minidl.testing.op_test import check_op

# (minidl function, NumPy reference, value range): ranges keep log/sqrt/rsqrt inside
# their domain and away from the pole at 0
UNARY = {
    "exp": (minidl.exp, np.exp, (-2.0, 2.0)),
    "log": (minidl.log, np.log, (0.2, 3.0)),
    "log1p": (minidl.log1p, np.log1p, (-0.8, 3.0)),
    "sqrt": (minidl.sqrt, np.sqrt, (0.2, 3.0)),
    "rsqrt": (minidl.rsqrt, lambda x: 1 / np.sqrt(x), (0.2, 3.0)),
    "sin": (minidl.sin, np.sin, (-3.0, 3.0)),
    "cos": (minidl.cos, np.cos, (-3.0, 3.0)),
    "abs": (minidl.abs, np.abs, (-3.0, 3.0)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes())
def test_unary_function(name, shape):
    fn, ref, (low, high) = UNARY[name]
    # abs has a kink at 0: keep away from it
    check_op(fn, [shape], reference=ref, low=low, high=high, min_abs=0.1)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_method_matches_function(name):
    fn, ref, (low, high) = UNARY[name]
    x = minidl.tensor(np.linspace(low + 0.05, high, 7), dtype=minidl.float64)
    np.testing.assert_allclose(getattr(x, name)().cpu().numpy(), fn(x).cpu().numpy(), rtol=0, atol=0)


def test_abs_operator_and_gradient_at_zero():
    x = minidl.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = abs(x)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [2.0, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [-1.0, 0.0, 1.0])   # sign(0) = 0, as torch


def test_sign_has_no_gradient():
    x = minidl.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    s = minidl.sign(x)
    np.testing.assert_array_equal(s.cpu().numpy(), [-1.0, 0.0, 1.0])
    assert not s.requires_grad


@given(tensors(shape=shapes(max_dims=3)))
def test_square(x):
    check_op(lambda x: x.square(), [x], reference=np.square)


def test_unary_results_keep_float32():
    x = minidl.tensor([0.5, 1.5])
    for y in (x.exp(), x.log(), x.log1p(), x.sqrt(), x.rsqrt(), x.sin(), x.cos(), x.abs()):
        assert y.dtype == minidl.float32


def test_unary_on_zero_dim_gives_zero_dim_array_tensor():
    x = minidl.tensor(0.5)
    for y in (x.exp(), x.log(), x.sqrt(), x.rsqrt(), x.sin(), x.abs(), x.sigmoid()):
        assert y.shape == () and isinstance(y.array, np.ndarray)


# ---- to(dtype), float/double/long, clone ----
@given(tensors(shape=shapes(max_dims=3)))
def test_cast_to_the_same_dtype_is_the_identity(x):
    check_op(lambda x: x.to(minidl.float64) * 2, [x], reference=lambda x: x * 2)


def test_cast_is_twice_differentiable():
    # finite differences through float32 are meaningless, so second order by hand:
    # y = sum(float(x)^3) -> dy/dx = 3 x^2 -> d(sum dy/dx)/dx = 6 x, back in float64
    x = minidl.tensor([1.0, -2.0], dtype=minidl.float64, requires_grad=True)
    (g,) = minidl.autograd.grad((x.float() ** 3).sum(), x, create_graph=True)
    assert g.dtype == minidl.float64
    np.testing.assert_allclose(g.detach().cpu().numpy(), [3.0, 12.0])
    g.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [6.0, -12.0])


def test_cast_gradient_comes_back_in_the_input_dtype():
    x = minidl.tensor([1.0, 2.0], dtype=minidl.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == minidl.float32 and y.grad_fn is not None
    (y * 3).sum().backward()
    assert x.grad.dtype == minidl.float64
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [3.0, 3.0])


def test_conversions_between_dtypes():
    x = minidl.tensor([1.7, -2.2])
    assert x.double().dtype == minidl.float64
    assert x.half().dtype == minidl.float16
    np.testing.assert_array_equal(x.long().cpu().numpy(), [1, -2])     # truncation, as torch
    assert x.long().dtype == minidl.int64 and not x.long().requires_grad
    assert x.int().dtype == minidl.int32
    assert x.bool().dtype == minidl.bool
    assert x.to(minidl.float32) is x                           # no-op casts return self
    assert x.to(dtype=minidl.float64).dtype == minidl.float64
    assert x.type_as(minidl.tensor([1])).dtype == minidl.int64
    assert x.to(minidl.tensor([1], dtype=minidl.float64)).dtype == minidl.float64


@given(tensors(shape=shapes(max_dims=3)))
def test_clone(x):
    _, (y,) = check_op(lambda x: x.clone(), [x], reference=lambda x: x)
    assert y.array is not x.array


def test_clone_is_a_copy():
    x = minidl.tensor([1.0, 2.0])
    y = minidl.clone(x)
    y.array[0] = 5.0
    assert x.array[0] == 1.0


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos",
                                  "sigmoid", "tanh"])
def test_float_functions_of_integer_tensors_give_the_default_float(name):
    x = minidl.tensor([1, 2])
    y = getattr(x, name)()
    assert y.dtype == minidl.float32
    np.testing.assert_allclose(y.cpu().numpy(), getattr(x.float(), name)().cpu().numpy())
    assert minidl.softmax(x, 0).dtype == minidl.float32
    assert minidl.logsumexp(x, 0).dtype == minidl.float32
    assert x.abs().dtype == minidl.int64 and x.relu().dtype == minidl.int64
