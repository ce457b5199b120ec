"""softmax's last-dim backward kernel against its NumPy twin, and the op through both paths
(the fused kernel without create_graph, the Tensor formula with it) against PyTorch."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl import kernels
from minidl.kernels import reference


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-6), ("float64", 1e-15)])
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=st.integers(0, 999))
def test_softmax_backward_kernel_equals_its_twin(dtype, tol, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    y = (np.exp(x) / np.exp(x).sum(-1, keepdims=True)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    fast = kernels.numba_kernels("activation_numba").softmax_backward_lastdim(g, y)
    slow = reference.softmax_backward_lastdim(g, y)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=tol, atol=tol)


@pytest.mark.parametrize("create_graph", [False, True])
def test_softmax_gradient_is_pytorchs_on_both_paths(create_graph):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 3, 5))
    g = np.random.default_rng(1).standard_normal((4, 3, 5))
    x, tx = minidl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx,) = minidl.autograd.grad(minidl.softmax(x, -1), x, minidl.tensor(g),
                                 create_graph=create_graph)
    (tgx,) = torch.autograd.grad(torch.softmax(tx, -1), tx, torch.tensor(g))
    np.testing.assert_allclose(gx.detach().numpy(), tgx.numpy(), rtol=1e-12, atol=1e-14)
    assert gx.requires_grad == create_graph
