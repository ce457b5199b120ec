"""User-defined Functions written exactly as PyTorch users write them."""
import numpy as np
import pytest

import minidl
from minidl.autograd import Function, gradcheck, gradgradcheck


class MyReLU(Function):
    """The example from PyTorch's documentation, unchanged but for the import."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class Cube(Function):
    """Backward written in ops, so it is differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x * x


class SplitTwo(Function):
    """Two outputs; backward receives a gradient for each (zeros for an unused one)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g_double, g_triple):
        return g_double * 2 + g_triple * 3


def test_documented_relu_example_runs_and_is_right():
    x = minidl.tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    y = MyReLU.apply(x)
    assert y.grad_fn is not None and type(y.grad_fn).__name__ == "MyReLU"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, 1.0])


def test_non_tensor_argument_gets_none_gradient():
    x = minidl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    MulConstant.apply(x, 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_needs_input_grad_reflects_inputs():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen["needs"] = ctx.needs_input_grad
            return g, g

    a = minidl.tensor(np.array([1.0]), requires_grad=True)
    b = minidl.tensor(np.array([2.0]))
    Probe.apply(a, b).backward()
    assert seen["needs"] == (True, False)


def test_custom_function_passes_gradcheck_and_gradgradcheck():
    x = minidl.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_multi_output_function_with_an_unused_output():
    x = minidl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    double, _ = SplitTwo.apply(x)
    double.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_forward_runs_without_recording():
    class Inner(Function):
        @staticmethod
        def forward(ctx, x):
            assert not minidl.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = minidl.tensor(np.array([1.0]), requires_grad=True)
    assert Inner.apply(x).grad_fn.__class__ is Inner


def test_wrong_number_of_gradients_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    x = minidl.tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward returned an incorrect number"):
        Bad.apply(x, x).backward()


def test_parity_with_torch_custom_function():
    torch = pytest.importorskip("torch")

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x * x

    data = np.array([0.3, -1.2, 2.0])
    xm = minidl.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    (gm,) = minidl.autograd.grad(Cube.apply(xm).sum(), xm, create_graph=True)
    (gt,) = torch.autograd.grad(TorchCube.apply(xt).sum(), xt, create_graph=True)
    np.testing.assert_allclose(gm.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    gm.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
