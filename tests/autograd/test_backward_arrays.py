"""Every op's `backward_arrays` (the array twin of its backward, used when no graph of the
backward is recorded) gives bit for bit what its Tensor-level `backward` gives."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.nn.functional as F
from minidl.autograd.function import Function

# op name -> (function of the leaves, leaf shapes); integer-valued shapes drawn below
CASES = {
    "AddFn": (lambda a, b: a + b, [(3, 4), (4,)]),
    "SubFn": (lambda a, b: a - b, [(3, 1), (3, 4)]),
    "MulFn": (lambda a, b: a * b, [(2, 3, 4), (3, 1)]),
    "NegFn": (lambda a: -a, [(5,)]),
    "TanhFn": (lambda a: a.tanh(), [(3, 4)]),
    "SigmoidFn": (lambda a: a.sigmoid(), [(3, 4)]),
    "ReLUFn": (lambda a: a.relu(), [(4, 5)]),
    "ExpFn": (lambda a: (0.5 * a).exp(), [(6,)]),
    "MatMulFn": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "LinearFn": (lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (5, 4), (5,)]),
    "SumFn": (lambda a: a.sum(dim=(0, 2), keepdim=True) * a, [(2, 3, 4)]),
    "GetItemFn": (lambda a: a[1:, [0, 2, 0]] * a[0, 1], [(3, 4)]),
}


def _twins():
    found, stack = set(), [Function]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__dict__.get("backward_arrays") is not None:
            found.add(cls.__name__)
    return found


def test_every_array_twin_is_tested_here():
    assert _twins() == set(CASES), "add each new backward_arrays to CASES"


def _grads(fn, arrays, create_graph):
    leaves = [minidl.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    seed = minidl.tensor(np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype))
    grads = minidl.autograd.grad(out, leaves, seed, create_graph=create_graph)
    return [g.detach().numpy() for g in grads]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(CASES)), st.sampled_from(["float32", "float64"]),
       st.integers(0, 2 ** 16))
def test_array_twin_equals_tensor_backward(name, dtype, seed):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    fast = _grads(fn, arrays, create_graph=False)       # the engine uses backward_arrays
    slow = _grads(fn, arrays, create_graph=True)        # the Tensor-level backward
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype and f.shape == s.shape
        np.testing.assert_array_equal(f, s)


def test_array_path_still_checks_saved_values_and_freeing():
    x = minidl.randn(3, requires_grad=True)
    y = x.tanh()
    z = (y * 2).sum()
    with minidl.no_grad():
        y.mul_(2)                                       # tanh's saved output changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    w = minidl.randn(3, requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
