"""F.interpolate / nn.Upsample: gradcheck in float64 and parity with PyTorch, forward and
backward, over Hypothesis-drawn sizes, modes and scale factors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.nn.functional as F
from minidl.autograd import gradcheck, gradgradcheck

MODES = {1: ["nearest", "nearest-exact", "linear"], 2: ["nearest", "nearest-exact", "bilinear"],
         3: ["nearest", "trilinear"]}


@st.composite
def cases(draw):
    n = draw(st.sampled_from([1, 2, 3]))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(n))
    mode = draw(st.sampled_from(MODES[n]))
    kw = {"mode": mode}
    if draw(st.booleans()):
        kw["size"] = tuple(draw(st.integers(1, 9)) for _ in range(n))
    else:
        kw["scale_factor"] = draw(st.sampled_from([0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0]))
        if min(int(s * kw["scale_factor"]) for s in spatial) < 1:
            kw["scale_factor"] = 2.0
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, True]))
    if mode not in ("nearest", "nearest-exact"):
        kw["align_corners"] = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + spatial
    return shape, kw


@settings(max_examples=40, deadline=None, derandomize=True)
@given(cases())
def test_interpolate_gradcheck(case):
    shape, kw = case
    x = minidl.tensor(np.random.default_rng(0).standard_normal(shape), dtype=minidl.float64,
                      requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, **kw), (x,))


def test_interpolate_gradgradcheck():
    x = minidl.randn(1, 2, 3, 4, dtype=minidl.float64, requires_grad=True)
    assert gradgradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear"), (x,))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cases(), st.sampled_from(["float32", "float64"]))
def test_interpolate_matches_pytorch(case, dtype):
    torch = pytest.importorskip("torch")
    shape, kw = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    g = None
    ours_x = minidl.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours, theirs = F.interpolate(ours_x, **kw), torch.nn.functional.interpolate(theirs_x, **kw)
    assert tuple(ours.shape) == tuple(theirs.shape)
    g = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(minidl.tensor(g))
    theirs.backward(torch.tensor(g))
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().cpu().numpy(), rtol=tol,
                               atol=tol)
    np.testing.assert_allclose(ours_x.grad.cpu().numpy(), theirs_x.grad.cpu().numpy(), rtol=tol,
                               atol=tol * 4)


def test_upsample_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for ours, theirs in ((minidl.nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
                         (minidl.nn.UpsamplingBilinear2d(size=(7, 3)),
                          torch.nn.UpsamplingBilinear2d(size=(7, 3))),
                         (minidl.nn.UpsamplingNearest2d(scale_factor=3),
                          torch.nn.UpsamplingNearest2d(scale_factor=3))):
        np.testing.assert_allclose(ours(minidl.tensor(x)).cpu().numpy(),
                                   theirs(torch.tensor(x)).cpu().numpy(), rtol=1e-6, atol=1e-6)
        assert repr(ours) == repr(theirs)


def test_interpolate_nearest_keeps_integer_inputs():
    x = minidl.arange(6).reshape(1, 1, 2, 3)
    out = F.interpolate(x, scale_factor=2)
    assert out.dtype == minidl.int64 and out.shape == (1, 1, 4, 6)
    assert out.cpu().numpy()[0, 0, 3].tolist() == [3, 3, 4, 4, 5, 5]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(size=4, scale_factor=2), ValueError, "exactly one of size and scale_factor"),
    (dict(), ValueError, "exactly one of size and scale_factor"),
    (dict(size=(4, 4, 4)), ValueError, "size must have 2 elements"),
    (dict(size=4, mode="cubic"), ValueError, "mode must be one of"),
    (dict(size=4, mode="bicubic"), NotImplementedError, "bicubic"),
    (dict(size=4, mode="linear"), ValueError, "'linear' needs a 3-D input"),
    (dict(size=4, align_corners=True), ValueError, "align_corners option can only be set"),
    (dict(scale_factor=0.1), ValueError, "gives an empty output"),
    (dict(size=0), ValueError, "size must be positive"),
])
def test_interpolate_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(minidl.randn(1, 2, 3, 4), **kwargs)


def test_interpolate_needs_spatial_dims():
    with pytest.raises(ValueError, match=r"expected a 3-D, 4-D or 5-D input .* shape \(3, 4\)"):
        F.interpolate(minidl.randn(3, 4), size=2)
