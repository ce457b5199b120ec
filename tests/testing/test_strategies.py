"""minidl.testing: the Hypothesis strategies and the check_op helper.

The strategies must produce what they promise (bounds, dtypes, broadcastable pairs), and
check_op must fail on a wrong forward, a wrong backward, a wrong second derivative, a
dtype that differs from PyTorch's, and a 0-d result held as a NumPy scalar.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.autograd import Function
from minidl.autograd.function import ArrayFunction
from minidl.testing import GradcheckError, broadcastable_shapes, shapes, tensors
from minidl.testing.op_test import check_op, make_inputs


# ---- strategies ----
@given(shapes())
def test_shapes_default_bounds(shape):
    assert 1 <= len(shape) <= 4 and all(1 <= s <= 5 for s in shape)


@given(shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
def test_shapes_custom_bounds(shape):
    assert len(shape) <= 2 and all(0 <= s <= 3 for s in shape)


@given(broadcastable_shapes())
def test_broadcastable_shapes_broadcast(pair):
    a, b = pair
    assert 1 <= len(a) <= 4 and 1 <= len(b) <= 4
    expected = np.broadcast_shapes(a, b)
    assert (minidl.ones(*a) + minidl.ones(*b)).shape == expected


@given(tensors())
def test_tensors_are_float64_bounded_and_require_grad(x):
    assert isinstance(x, minidl.Tensor) and x.dtype == minidl.float64 and x.requires_grad
    assert np.isfinite(x.array).all() and np.abs(x.array).max() <= 3.0


@given(tensors(shape=(2, 3), dtype=np.float32, min_value=0.5, max_value=1.0,
               requires_grad=False))
def test_tensors_with_options(x):
    assert x.shape == (2, 3) and x.dtype == minidl.float32 and not x.requires_grad
    assert (x.array >= 0.5).all() and (x.array <= 1.0).all()


@given(st.data())
def test_tensors_with_a_shape_strategy(data):
    x = data.draw(tensors(shape=shapes(max_dims=2, max_side=2)))
    assert x.ndim <= 2 and all(s <= 2 for s in x.shape)


# ---- make_inputs ----
def test_make_inputs_ranges_kinks_and_kinds():
    x, y, m, t = make_inputs([(200,), (50,), np.array([True, False]), minidl.ones(2)],
                             low=[-2.0, 0.5, 0.0, 0.0], high=[2.0, 2.0, 0.0, 0.0],
                             min_abs=[0.3, 0.0, 0.0, 0.0])
    assert x.requires_grad and x.dtype == minidl.float64
    assert np.abs(x.array).min() >= 0.3 and np.abs(x.array).max() <= 2.0
    assert (x.array < 0).any() and (x.array > 0).any()
    assert (y.array >= 0.5).all() and (y.array <= 2.0).all()
    assert m.dtype == minidl.bool and not m.requires_grad
    assert t.requires_grad is False and t.dtype == minidl.float32
    a, = make_inputs([(3,)], seed=4)
    b, = make_inputs([(3,)], seed=4)
    np.testing.assert_array_equal(a.array, b.array)


def test_make_inputs_checks_per_input_lengths():
    with pytest.raises(ValueError, match="expected 2 per-input values, got 3"):
        make_inputs([(2,), (2,)], low=[0.0, 1.0, 2.0])


# ---- check_op passes a correct op and catches broken ones ----
def test_check_op_passes_a_correct_op_and_returns_inputs_and_outputs():
    xs, outs = check_op(lambda a, b: a * b + a.exp(), [(2, 3), (3,)],
                        reference=lambda a, b: a * b + np.exp(a))
    assert len(xs) == 2 and len(outs) == 1 and outs[0].shape == (2, 3)


def test_check_op_catches_a_wrong_forward():
    with pytest.raises(AssertionError, match="output 0 vs reference"):
        check_op(lambda x: x * 2, [(3,)], reference=lambda x: x * 2.001)


class _WrongGrad(ArrayFunction):
    """y = x^2 with the derivative off by 1%."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * x * 2.02


def test_check_op_catches_a_wrong_backward():
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        check_op(_WrongGrad.apply, [(3,)])


class _FirstOrderOnly(Function):
    """y = x^3 whose backward is correct but not differentiable (it detaches x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x.detach() ** 2


def test_check_op_catches_a_backward_that_is_not_twice_differentiable():
    check_op(_FirstOrderOnly.apply, [(3,)], gradgradcheck=False)
    with pytest.raises(GradcheckError):
        check_op(_FirstOrderOnly.apply, [(3,)])


def test_check_op_catches_a_wrong_backward_against_pytorch():
    pytest.importorskip("torch")
    with pytest.raises(AssertionError, match="gradient of input 0 vs torch"):
        check_op(_WrongGrad.apply, [(3,)], torch_fn=lambda x: x * x, gradcheck=False,
                 gradgradcheck=False)


def test_check_op_catches_a_dtype_that_differs_from_pytorch():
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError, match="dtype float64, torch gives float32"):
        check_op(lambda x: x * 2, [(3,)], torch_fn=lambda x: (x * 2).float())
    check_op(lambda x: x.max(0), [(3, 4)], torch_fn=lambda x: torch.max(x, 0))


class _ScalarOut(ArrayFunction):
    """Returns a NumPy scalar, which a Tensor must never hold."""

    @staticmethod
    def forward(ctx, x):
        return np.float64(x.sum())

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


def test_check_op_catches_a_numpy_scalar_inside_a_tensor():
    def op(x):
        y = _ScalarOut.apply(x)
        y.array = np.float64(y.array)       # what an op that skipped normalisation leaves
        return y
    with pytest.raises(AssertionError, match="not an ndarray"):
        check_op(op, [(3,)], gradcheck=False, gradgradcheck=False)


def test_check_op_compares_integer_outputs_without_differentiating_them():
    check_op(lambda x: (x.amax(1), x.argmax(1)), [(3, 4)],
             reference=lambda x: (x.max(1), x.argmax(1)))
    with pytest.raises(AssertionError, match="output 1 vs reference"):
        check_op(lambda x: (x.amax(1), x.argmax(1)), [(3, 4)],
                 reference=lambda x: (x.max(1), x.argmin(1)))
