"""LayerNorm and GELU: torch parity (values and every gradient, float64), gradcheck,
gradgradcheck over Hypothesis shapes, and PyTorch's shape error."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.autograd.gradcheck import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _t(a):
    return minidl.tensor(a, requires_grad=True)


@given(shapes, st.integers(2, 4))
def test_layer_norm_parity_and_gradients(lead, n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(lead + (n,))
    w, b = rng.standard_normal(n), rng.standard_normal(n)
    xm, wm, bm = _t(x), _t(w), _t(b)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ym = F.layer_norm(xm, [n], wm, bm, 1e-5)
    yt = torch.nn.functional.layer_norm(xt, [n], wt, bt, 1e-5)
    g = rng.standard_normal(ym.shape)
    ym.backward(minidl.tensor(g)); yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ym.array, yt.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    for a, c in ((xm, xt), (wm, wt), (bm, bt)):
        np.testing.assert_allclose(a.grad.array, c.grad.cpu().numpy(), rtol=1e-9, atol=1e-10)
    f = lambda x_, w_, b_: F.layer_norm(x_, [n], w_, b_, 1e-5)
    assert gradcheck(f, (_t(x), _t(w), _t(b)))
    assert gradgradcheck(f, (_t(x), _t(w), _t(b)))


def test_layer_norm_module_init_and_state_dict():
    m, t = nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))
    assert sorted(m.state_dict()) == sorted(t.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(m.weight.array, np.ones((3, 4)))
    np.testing.assert_array_equal(m.bias.array, np.zeros((3, 4)))
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None
    assert nn.LayerNorm(4, bias=False).bias is None


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input "
                       r"with shape \[\*, 4\], but got input of size \[2, 3\]"):
        F.layer_norm(minidl.zeros(2, 3), [4])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(shapes)
def test_gelu_parity_and_gradients(approximate, shape):
    x = np.random.default_rng(1).standard_normal(shape) * 3
    xm, xt = _t(x), torch.tensor(x, requires_grad=True)
    ym = F.gelu(xm, approximate=approximate)
    yt = torch.nn.functional.gelu(xt, approximate=approximate)
    ym.sum().backward(); yt.sum().backward()
    np.testing.assert_allclose(ym.array, yt.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(xm.grad.array, xt.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)
    f = lambda a: F.gelu(a, approximate=approximate)
    assert gradcheck(f, (_t(x),)) and gradgradcheck(f, (_t(x),))
    np.testing.assert_allclose(nn.GELU(approximate)(minidl.tensor(x)).array, ym.array)


def test_gelu_bad_approximate():
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(minidl.zeros(2), approximate="fast")
