"""The fused LSTM cell and unbind: held to their readable twins (the composite of Tensor
ops, the plain-NumPy kernels), gradcheck and gradgradcheck over Hypothesis shapes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl import kernels
from minidl.autograd import gradcheck, gradgradcheck
from minidl.kernels import reference
from minidl.ops.rnn_cell import lstm_cell, lstm_cell_reference, unbind0


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-7), ("float64", 1e-15)])
@given(n=st.integers(1, 5), h=st.integers(1, 7), seed=st.integers(0, 1000))
def test_the_numba_kernels_equal_their_numpy_twins(dtype, tol, n, h, seed):
    rng = np.random.default_rng(seed)
    gates = (rng.standard_normal((n, 4 * h)) * 3).astype(dtype)
    c_prev = rng.standard_normal((n, h)).astype(dtype)
    fast = kernels.numba_kernels("rnn_numba")
    for a, b in zip(fast.lstm_cell_forward(gates, c_prev),
                    reference.lstm_cell_forward(gates, c_prev)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    act = reference.lstm_cell_forward(gates, c_prev)[2]
    dh, dc = (rng.standard_normal((n, h)).astype(dtype) for _ in range(2))
    for a, b in zip(fast.lstm_cell_backward(dh, dc, act, c_prev),
                    reference.lstm_cell_backward(dh, dc, act, c_prev)):
        np.testing.assert_allclose(a, b, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("numba", [True, False])
def test_the_fused_cell_equals_the_composite(numba):
    rng = np.random.default_rng(0)
    with kernels.use_numba(numba):
        outs = []
        for fn in (lstm_cell, lstm_cell_reference):
            g = minidl.tensor(rng.standard_normal((3, 8)), requires_grad=True)
            c = minidl.tensor(rng.standard_normal((3, 2)), requires_grad=True)
            rng = np.random.default_rng(0)
            h, c_new = fn(g, c)
            (h * 2 + c_new * 3).sum().backward()
            outs.append([h, c_new, g.grad, c.grad])
        for a, b in zip(*outs):
            np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-14,
                                       atol=1e-15)


@given(n=st.integers(1, 3), h=st.integers(1, 3), seed=st.integers(0, 1000))
def test_lstm_cell_gradcheck_and_gradgradcheck(n, h, seed):
    rng = np.random.default_rng(seed)
    g = minidl.tensor(rng.standard_normal((n, 4 * h)), requires_grad=True)
    c = minidl.tensor(rng.standard_normal((n, h)), requires_grad=True)
    assert gradcheck(lambda a, b: lstm_cell(a, b), (g, c))
    assert gradgradcheck(lambda a, b: lstm_cell(a, b), (g, c))


def test_lstm_cell_refuses_shapes_that_do_not_fit():
    with pytest.raises(RuntimeError, match=r"lstm_cell: gates of shape \(2, 7\) do not fit"):
        lstm_cell(minidl.randn(2, 7), minidl.randn(2, 2))


def test_unbind0_is_one_node_whose_gradient_stacks():
    x = minidl.randn(4, 3, requires_grad=True)
    parts = unbind0(x)
    assert len(parts) == 4 and parts[0].grad_fn is parts[3].grad_fn
    assert parts[0].grad_fn.name() == "UnbindBackward0"
    (parts[1] * 2 + parts[3]).sum().backward()        # slices 0 and 2 get zeros
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0] * 3, [2] * 3, [0] * 3, [1] * 3])
    x64 = minidl.randn(3, 2, dtype=minidl.float64, requires_grad=True)
    assert gradcheck(lambda a: unbind0(a)[1] * unbind0(a)[2], (x64,))
    assert gradgradcheck(lambda a: (unbind0(a)[0] * unbind0(a)[2]).sum(), (x64,))
