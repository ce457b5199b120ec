"""gradcheck / gradgradcheck: they pass on right gradients and report wrong ones precisely."""
import numpy as np
import pytest

import minidl
from minidl.autograd import Function, GradcheckError, gradcheck, gradgradcheck


class WrongSquare(Function):
    """Gradient off by a factor on element 1: gradcheck must point at it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        scale = minidl.tensor(np.array([2.0, 2.5, 2.0]))
        return g * scale * x


class FirstOrderOnly(Function):
    """Correct first derivative, but backward is not differentiable correctly (detached)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * (x * x).detach()


def x3():
    return minidl.tensor(np.array([1.0, 2.0, -0.5]), requires_grad=True)


def test_gradcheck_passes_on_correct_gradients():
    w = minidl.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda x, w: (x @ w).tanh(), (x3(), w))


def test_gradcheck_reports_input_element_and_values():
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, (x3(),))
    msg = str(info.value)
    assert "output 0 with respect to input 0" in msg
    assert "input element (1,)" in msg
    assert "numerical 4" in msg and "analytical 5" in msg


def test_gradcheck_returns_false_without_raising():
    assert gradcheck(WrongSquare.apply, (x3(),), raise_exception=False) is False


def test_fast_mode_catches_the_same_error():
    assert gradcheck(lambda x: x.exp(), (x3(),), fast_mode=True)
    with pytest.raises(GradcheckError, match="random projection"):
        gradcheck(WrongSquare.apply, (x3(),), fast_mode=True)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    assert gradcheck(FirstOrderOnly.apply, (x3(),))
    with pytest.raises(GradcheckError):
        gradgradcheck(FirstOrderOnly.apply, (x3(),))


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2, (minidl.ones(2, dtype=minidl.float64),))


def test_gradcheck_warns_on_float32():
    x = minidl.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda x: x * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_gradcheck_agrees_with_torch_on_a_failing_function():
    torch = pytest.importorskip("torch")

    class TorchWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.tensor([2.0, 2.5, 2.0], dtype=torch.float64) * x

    xt = torch.tensor([1.0, 2.0, -0.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(TorchWrong.apply, (xt,), raise_exception=False) is False
    assert gradcheck(WrongSquare.apply, (x3(),), raise_exception=False) is False


def test_gradgradcheck_skips_integer_outputs_like_indices():
    x = minidl.tensor(np.random.default_rng(2).random((3, 4)), requires_grad=True)
    assert gradgradcheck(lambda t: t.max(0), (x,))          # (values, int64 indices)
    assert gradcheck(lambda t: tuple(t.max(1)), (x,))
