"""index_add / Tensor.index_add_: gradcheck and gradgradcheck over drawn shapes, parity with
PyTorch (repeated indices add up, alpha), and named errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
from minidl.autograd import gradcheck, gradgradcheck


@st.composite
def cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = draw(st.integers(0, 5))
    index = draw(st.lists(st.integers(0, shape[dim] - 1), min_size=n, max_size=n))
    src_shape = list(shape)
    src_shape[dim] = n
    alpha = draw(st.sampled_from([1, 0.5, -2.0]))
    return shape, dim, index, tuple(src_shape), alpha


@settings(max_examples=30, deadline=None, derandomize=True)
@given(cases())
def test_index_add_gradcheck(case):
    shape, dim, index, src_shape, alpha = case
    rng = np.random.default_rng(0)
    x = minidl.tensor(rng.standard_normal(shape), requires_grad=True)
    s = minidl.tensor(rng.standard_normal(src_shape), requires_grad=True)
    idx = minidl.tensor(index, dtype=minidl.int64)
    fn = lambda a, b: a.index_add(dim, idx, b, alpha=alpha)   # noqa: E731
    assert gradcheck(fn, (x, s)) and gradgradcheck(fn, (x, s))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(cases())
def test_index_add_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    shape, dim, index, src_shape, alpha = case
    rng = np.random.default_rng(1)
    x, s = rng.standard_normal(shape).astype(np.float32), \
        rng.standard_normal(src_shape).astype(np.float32)
    ours = minidl.tensor(x).index_add_(dim, minidl.tensor(index, dtype=minidl.int64),
                                       minidl.tensor(s), alpha=alpha)
    theirs = torch.tensor(x).index_add_(dim, torch.tensor(index, dtype=torch.int64),
                                        torch.tensor(s), alpha=alpha)
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy(), rtol=1e-6, atol=1e-6)
    out = minidl.index_add(minidl.tensor(x), dim, minidl.tensor(index, dtype=minidl.int64),
                           minidl.tensor(s), alpha=alpha)
    np.testing.assert_allclose(out.cpu().numpy(), theirs.cpu().numpy(), rtol=1e-6, atol=1e-6)


def test_index_add_repeated_indices_add_up_and_grad_fn_is_named():
    x = minidl.zeros(3, requires_grad=True)
    y = x.index_add(0, minidl.tensor([1, 1, 2]), minidl.tensor([1.0, 2.0, 3.0]))
    assert y.tolist() == [0.0, 3.0, 3.0]
    assert y.grad_fn.name() == "IndexAddBackward0"


def test_index_add_errors_are_named():
    x = minidl.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"source of shape \(2, 3\) does not match input "
                                           r"\(3, 4\) with 2 indices along dim 0"):
        x.index_add_(0, minidl.tensor([0, 1]), minidl.ones(2, 3))
    with pytest.raises(IndexError, match="index 5 is out of range for dimension 1"):
        x.index_add_(1, minidl.tensor([5]), minidl.ones(3, 1))
    with pytest.raises(RuntimeError, match="must have the same scalar type"):
        x.index_add_(0, minidl.tensor([0]), minidl.ones(1, 4, dtype=minidl.float64))
