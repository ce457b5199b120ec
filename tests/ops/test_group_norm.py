"""group_norm, instance_norm, prelu, threshold and softmin: values and gradients against
PyTorch (float64), gradcheck and gradgradcheck over Hypothesis shapes, running statistics,
and PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl.testing import shapes  # noqa: E402
from minidl.testing.op_test import check_op  # noqa: E402

TF = torch.nn.functional


@given(st.integers(1, 3), st.integers(1, 3), shapes(min_dims=0, max_dims=2, max_side=3),
       st.integers(1, 2), st.sampled_from(["both", "weight", "none"]))
def test_group_norm(groups, per_group, spatial, batch, affine):
    C = groups * per_group
    shape = (batch, C) + tuple(spatial)
    if per_group * int(np.prod(spatial)) < 2:
        shape = (batch, C, 2) + tuple(spatial)     # a group of one value has no variance
    eps = 1e-5
    if affine == "both":
        check_op(lambda x, w, b: F.group_norm(x, groups, w, b, eps), [shape, (C,), (C,)],
                 torch_fn=lambda x, w, b: TF.group_norm(x, groups, w, b, eps))
    elif affine == "weight":
        check_op(lambda x, w: F.group_norm(x, groups, w, None, eps), [shape, (C,)],
                 torch_fn=lambda x, w: TF.group_norm(x, groups, w, None, eps))
    else:
        check_op(lambda x: F.group_norm(x, groups, eps=eps), [shape],
                 torch_fn=lambda x: TF.group_norm(x, groups, eps=eps))


def test_group_norm_matches_a_numpy_formula():
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 2))
    g = x.reshape(2, 3, -1)
    expected = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5))
    np.testing.assert_allclose(F.group_norm(minidl.tensor(x), 3).cpu().numpy(),
                               expected.reshape(x.shape), rtol=1e-12, atol=1e-12)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"Expected number of channels in input to be "
                                           r"divisible by num_groups, but got input of shape "
                                           r"\[2, 3, 4\] and num_groups=2"):
        F.group_norm(minidl.zeros(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match=r"Expected weight to be a vector of size equal to "
                                           r"the number of channels in input, but got weight "
                                           r"of shape \[3\] and input of shape \[2, 4, 4\]"):
        F.group_norm(minidl.zeros(2, 4, 4), 2, minidl.ones(3))
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        F.group_norm(minidl.zeros(4), 2)


@given(shapes(min_dims=1, max_dims=2, min_side=2, max_side=3), st.integers(1, 3),
       st.integers(1, 3), st.booleans())
def test_instance_norm(spatial, batch, C, affine):
    shape = (batch, C) + tuple(spatial)
    if affine:
        check_op(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [shape, (C,), (C,)],
                 torch_fn=lambda x, w, b: TF.instance_norm(x, weight=w, bias=b))
    else:
        check_op(lambda x: F.instance_norm(x), [shape],
                 torch_fn=lambda x: TF.instance_norm(x))


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_running_stats_match_torch(use_input_stats):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 5)) * 2 + 1
    rm, rv = rng.standard_normal(2), rng.uniform(0.5, 2, 2)
    ours = [minidl.tensor(a.copy()) for a in (rm, rv)]
    theirs = [torch.tensor(a.copy()) for a in (rm, rv)]
    y = F.instance_norm(minidl.tensor(x), *ours, use_input_stats=use_input_stats,
                        momentum=0.3)
    ty = TF.instance_norm(torch.tensor(x), *theirs, use_input_stats=use_input_stats,
                          momentum=0.3)
    np.testing.assert_allclose(y.cpu().numpy(), ty.cpu().numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), rtol=1e-12, atol=1e-12)
    assert use_input_stats != np.allclose(ours[0].cpu().numpy(), rm)    # changed only when used


def test_instance_norm_errors():
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(minidl.zeros(2, 3, 1))
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(minidl.zeros(2, 3, 4), use_input_stats=False)


@pytest.mark.parametrize("shape,wshape", [((2, 3, 4), (3,)), ((2, 3, 4), (1,)), ((5,), (1,)),
                                          ((2, 4), (4,)), ((2, 3, 2, 2), (3,)), ((3,), ())])
def test_prelu(shape, wshape):
    # away from the kink at 0
    check_op(lambda x, w: F.prelu(x, w), [shape, wshape], min_abs=0.05,
             torch_fn=lambda x, w: TF.prelu(x, w))


def test_prelu_errors_match_torch():
    for x, w in [((2, 4, 4), (3,)), ((4,), (4,)), ((2, 4), (4, 1))]:
        with pytest.raises(RuntimeError) as theirs:
            TF.prelu(torch.zeros(*x), torch.ones(*w))
        with pytest.raises(RuntimeError) as ours:
            F.prelu(minidl.zeros(*x), minidl.ones(*w))
        assert str(ours.value) == str(theirs.value)


@given(shapes(), st.sampled_from([(0.1, 20.0), (-0.5, 0.0), (1.0, -3.0)]))
def test_threshold(shape, tv):
    t, v = tv
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, shape)
    x = np.where(np.abs(x - t) < 0.05, x + 0.1, x)      # away from the jump at t
    check_op(lambda a: F.threshold(a, t, v), [x], torch_fn=lambda a: TF.threshold(a, t, v))


@given(shapes(), st.data())
def test_softmin(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda x: F.softmin(x, dim), [shape], torch_fn=lambda x: TF.softmin(x, dim))


def test_softmin_implicit_dim_and_dtype_as_torch():
    x = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        y = F.softmin(minidl.tensor(x))
    with pytest.warns(UserWarning):
        ty = TF.softmin(torch.tensor(x))
    np.testing.assert_allclose(y.cpu().numpy(), ty.cpu().numpy(), rtol=1e-12)
    y32 = F.softmin(minidl.tensor(x), 1, dtype=minidl.float32)
    assert y32.dtype == minidl.float32


def test_norms_of_an_empty_batch_are_empty_as_in_torch():
    x = np.zeros((0, 4, 3))
    assert F.group_norm(minidl.tensor(x), 2).shape == TF.group_norm(torch.tensor(x), 2).shape
    assert F.instance_norm(minidl.tensor(x)).shape == TF.instance_norm(torch.tensor(x)).shape
