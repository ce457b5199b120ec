"""nn.utils.clip_grad_norm_ / clip_grad_value_ / parameters_to_vector against PyTorch."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
from minidl.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,  # noqa
                             vector_to_parameters)

RNG = np.random.default_rng(0)


def _params(lib, grads):
    ps = []
    for g in grads:
        p = lib.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = lib.tensor(g.copy())
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches(norm_type, max_norm, dtype):
    grads = [RNG.standard_normal(s).astype(dtype) for s in [(3, 4), (5,), ()]]
    ours, theirs = _params(minidl, grads), _params(torch, grads)
    n_ours = clip_grad_norm_(ours, max_norm, norm_type)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(n_ours, minidl.Tensor)
    np.testing.assert_allclose(n_ours.item(), n_theirs.item(), rtol=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_nonfinite_norm_raises_when_asked():
    ours = _params(minidl, [np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vectors():
    grads = [RNG.standard_normal((3, 2)) * 3]
    ours, theirs = _params(minidl, grads), _params(torch, grads)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())
    layer = minidl.nn.Linear(3, 2)
    vec = parameters_to_vector(layer.parameters())
    assert vec.shape == (8,)
    vector_to_parameters(vec * 2, layer.parameters())
    np.testing.assert_allclose(parameters_to_vector(layer.parameters()).detach().numpy(),
                               vec.detach().numpy() * 2)
