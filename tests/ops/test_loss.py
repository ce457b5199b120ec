"""Losses: forward vs NumPy formulas (PyTorch's definitions written out), gradcheck and
gradgradcheck in float64 for every loss, reduction and option, stability at logits of
+-1e4, and clear errors for bad targets.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl.autograd import grad
from minidl.ops import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                        l1_loss, mse_loss, nll_loss)
from minidl.testing.op_test import check_op

REDUCTIONS = ["none", "mean", "sum"]


def _log_softmax_last(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _reduce(loss, reduction, denominator):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / denominator


def ce_reference(x, t, w, ignore_index, reduction, eps):
    """PyTorch's definition: (1 - eps) * nll + eps / C * (weighted sum of -log p)."""
    dim = 0 if x.ndim == 1 else 1
    C = x.shape[dim]
    logp = _log_softmax_last(np.moveaxis(x, dim, -1))
    w = np.ones(C) if w is None else w
    kept = t != ignore_index
    safe = np.where(kept, t, 0)
    nll = -np.take_along_axis(logp, safe[..., None], -1)[..., 0] * w[safe] * kept
    smooth = -(logp * w).sum(-1) * kept
    loss = (1 - eps) * nll + eps / C * smooth
    return _reduce(loss, reduction, (w[safe] * kept).sum())


def ce_probs_reference(x, p, w, reduction, eps):
    dim = 0 if x.ndim == 1 else 1
    C = x.shape[dim]
    logp = _log_softmax_last(np.moveaxis(x, dim, -1))
    q = (1 - eps) * np.moveaxis(p, dim, -1) + eps / C
    loss = -(logp * q * (np.ones(C) if w is None else w)).sum(-1)
    return _reduce(loss, reduction, x.size / C)


@st.composite
def class_problem(draw):
    """Logit shape (N, C[, d]) or (C,), class-index targets with some ignored, options."""
    C = draw(st.integers(2, 5))
    N = draw(st.integers(1, 4))
    extra = draw(st.sampled_from([(), (2,), (3,)]))
    unbatched = draw(st.booleans()) and not extra
    x_shape = (C,) if unbatched else (N, C) + extra
    t_shape = () if unbatched else (N,) + extra
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    t = rng.integers(0, C, size=t_shape)
    ignore_index = draw(st.sampled_from([-100, 1]))
    if ignore_index == -100 and t.size > 1:
        t.ravel()[1:][rng.random(t.size - 1) < 0.3] = -100      # the first stays kept
    t.ravel()[0] = 0
    w = rng.uniform(0.2, 2.0, size=C) if draw(st.booleans()) else None
    return x_shape, t, w, ignore_index, draw(st.sampled_from(REDUCTIONS)), \
        draw(st.sampled_from([0.0, 0.1, 0.45]))


@given(class_problem())
def test_cross_entropy_class_indices(problem):
    x_shape, t, w, ignore_index, reduction, eps = problem
    weight = None if w is None else minidl.tensor(w)

    def fn(x):
        return cross_entropy(x, minidl.tensor(t), weight, ignore_index, reduction, eps)

    check_op(fn, [x_shape], rtol=1e-12, atol=1e-12,
             reference=lambda x: ce_reference(x, t, w, ignore_index, reduction, eps))


@given(st.sampled_from([(3,), (2, 4), (2, 3, 2)]), st.booleans(),
       st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.2]))
def test_cross_entropy_probability_targets(shape, weighted, reduction, eps):
    C = shape[0] if len(shape) == 1 else shape[1]
    w = np.linspace(0.5, 1.5, C) if weighted else None
    weight = None if w is None else minidl.tensor(w)
    probs = np.random.default_rng(0).dirichlet(np.ones(C), size=int(np.prod(shape)) // C)
    probs = np.moveaxis(probs.reshape((-1,) + shape[2:] + (C,)), -1, 1).reshape(shape)
    # both logits and target probabilities get gradients
    check_op(lambda x, p: cross_entropy(x, p, weight, reduction=reduction, label_smoothing=eps),
             [shape, probs], rtol=1e-12, atol=1e-12,
             reference=lambda x, p: ce_probs_reference(x, p, w, reduction, eps))


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = minidl.tensor(np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), requires_grad=True)
    cross_entropy(x, minidl.tensor([1, 2]), reduction="sum").backward()
    p = np.exp(_log_softmax_last(x.array))
    np.testing.assert_allclose(x.grad.cpu().numpy(), p - np.eye(3)[[1, 2]], rtol=1e-12)
    assert cross_entropy(x, minidl.tensor([1, 2])).grad_fn is not None


def test_cross_entropy_is_stable_for_huge_logits():
    x = minidl.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = cross_entropy(x, minidl.tensor([1, 0]), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.cpu().numpy()).all()
    plain = cross_entropy(x, minidl.tensor([0, 1]), reduction="none")
    np.testing.assert_allclose(plain.detach().cpu().numpy(), [0.0, np.log(2)], atol=1e-12)
    probs = cross_entropy(x, minidl.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]))
    assert np.isfinite(probs.item())
    (gx,) = grad(probs, (x,))
    assert np.isfinite(gx.cpu().numpy()).all()


def test_cross_entropy_minus_inf_logit_of_another_class_is_harmless():
    x = minidl.tensor([[0.0, -np.inf, 1.0]], requires_grad=True)
    loss = cross_entropy(x, minidl.tensor([2]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.cpu().numpy()).all()


def test_cross_entropy_all_ignored_mean_is_nan_as_pytorch():
    x = minidl.tensor(np.zeros((2, 3)), requires_grad=True)
    assert np.isnan(cross_entropy(x, minidl.tensor([-100, -100])).item())
    assert cross_entropy(x, minidl.tensor([-100, -100]), reduction="sum").item() == 0.0


@given(class_problem())
def test_nll_loss(problem):
    x_shape, t, w, ignore_index, reduction, _ = problem
    weight = None if w is None else minidl.tensor(w)

    def reference(x):
        dim = 0 if x.ndim == 1 else 1
        wv = np.ones(x.shape[dim]) if w is None else w
        kept = t != ignore_index
        safe = np.where(kept, t, 0)
        picked = np.take_along_axis(np.moveaxis(x, dim, -1), safe[..., None], -1)[..., 0]
        return _reduce(-picked * wv[safe] * kept, reduction, (wv[safe] * kept).sum())

    check_op(lambda x: nll_loss(x, minidl.tensor(t), weight, ignore_index, reduction),
             [x_shape], reference=reference, rtol=1e-12, atol=1e-12)


def test_nll_loss_ignores_minus_inf_at_other_classes():
    x = minidl.tensor([[-np.inf, -0.5, -np.inf]], requires_grad=True)
    loss = nll_loss(x, minidl.tensor([1]))
    loss.backward()
    assert loss.item() == 0.5
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[0.0, -1.0, 0.0]])


@given(st.sampled_from([(4,), (2, 3), (2, 1, 3)]), st.sampled_from(REDUCTIONS))
def test_mse_and_l1(shape, reduction):
    rng = np.random.default_rng(1)
    t = rng.standard_normal(shape)
    away = t + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.0, size=shape)
    check_op(lambda x, y: mse_loss(x, y, reduction), [shape, t],
             reference=lambda x, y: _reduce((x - y) ** 2, reduction, x.size))
    check_op(lambda x, y: l1_loss(x, y, reduction), [away, t],      # |x - y| away from 0
             reference=lambda x, y: _reduce(np.abs(x - y), reduction, x.size))


def test_l1_gradient_at_zero_difference_is_zero():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    l1_loss(x, minidl.tensor([1.0, 0.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 1.0])


def _bce_reference(x, t, w, reduction):
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    return _reduce(loss * (1 if w is None else w), reduction, x.size)


@given(st.sampled_from([(5,), (2, 3)]), st.sampled_from(REDUCTIONS), st.booleans())
def test_binary_cross_entropy(shape, reduction, weighted):
    w = np.linspace(0.5, 2.0, shape[-1]) if weighted else None
    weight = None if w is None else minidl.tensor(w)
    check_op(lambda x, t: binary_cross_entropy(x, t, weight, reduction), [shape, shape],
             low=[0.05, 0.0], high=[0.95, 1.0], rtol=1e-12, atol=1e-12,
             reference=lambda x, t: _bce_reference(x, t, w, reduction))


def test_binary_cross_entropy_clamps_log_at_minus_100():
    x = minidl.tensor([0.0, 1.0, 0.0], requires_grad=True)
    loss = binary_cross_entropy(x, minidl.tensor([1.0, 0.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().cpu().numpy(), [100.0, 100.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(x.grad.cpu().numpy()).all()


def _bce_logits_reference(x, t, w, pw, reduction):
    log_weight = 1 + (pw - 1) * t if pw is not None else 1
    loss = (1 - t) * x + log_weight * np.logaddexp(0, -x)
    return _reduce(loss * (1 if w is None else w), reduction, x.size)


@given(st.sampled_from([(5,), (2, 3)]), st.sampled_from(REDUCTIONS), st.booleans(),
       st.booleans())
def test_binary_cross_entropy_with_logits(shape, reduction, weighted, with_pos_weight):
    w = np.linspace(0.5, 2.0, shape[-1]) if weighted else None
    weight = None if w is None else minidl.tensor(w)
    pw = np.linspace(0.3, 3.0, shape[-1]) if with_pos_weight else None
    pos_weight = None if pw is None else minidl.tensor(pw)
    check_op(lambda x, t: binary_cross_entropy_with_logits(x, t, weight, reduction, pos_weight),
             [shape, shape], low=[-4.0, 0.0], high=[4.0, 1.0], rtol=1e-12, atol=1e-12,
             reference=lambda x, t: _bce_logits_reference(x, t, w, pw, reduction))


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits():
    x = minidl.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    t = minidl.tensor([1.0, 0.0, 0.0, 1.0])
    loss = binary_cross_entropy_with_logits(x, t, reduction="none",
                                            pos_weight=minidl.tensor([2.0]))
    np.testing.assert_allclose(loss.detach().cpu().numpy(), [0.0, 0.0, 1e4, 2e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [0.0, 0.0, 1.0, -2.0])


def test_losses_keep_float32():
    x = minidl.randn(4, 3, requires_grad=True)
    t = minidl.tensor([0, 2, 1, 1])
    w = minidl.tensor(np.ones(3))                       # a float64 weight: still float32
    probs = minidl.tensor(np.full((4, 3), 1 / 3, dtype=np.float32))
    for loss in (cross_entropy(x, t, w, label_smoothing=0.1), cross_entropy(x, probs, w),
                 nll_loss(x, t, w), mse_loss(x, x * 0),
                 binary_cross_entropy_with_logits(x, x.detach().sigmoid())):
        assert loss.dtype == np.float32
        (gx,) = grad(loss, (x,))
        assert gx.dtype == np.float32


def _x(*shape):
    return minidl.tensor(np.zeros(shape))


@pytest.mark.parametrize("call, error, match", [
    (lambda: cross_entropy(_x(2, 10), minidl.tensor([3, 10])), IndexError,
     r"cross_entropy: Target 10 is out of bounds for 10 classes"),
    (lambda: cross_entropy(_x(2, 10), minidl.tensor([-3, 1])), IndexError,
     r"cross_entropy: Target -3 is out of bounds for 10 classes"),
    (lambda: nll_loss(_x(2, 4, 3), minidl.tensor([[0, 1, 4], [0, 0, 0]])), IndexError,
     r"nll_loss: Target 4 is out of bounds for 4 classes"),
    (lambda: cross_entropy(_x(3, 4), minidl.tensor([0.0, 1.0, 2.0])), RuntimeError,
     r"cross_entropy: expected class-index targets of an integer dtype, but got float"),
    (lambda: cross_entropy(_x(3, 4), minidl.tensor([0, 1])), ValueError,
     r"cross_entropy: Expected input batch_size \(3\) to match target batch_size \(2\)"),
    (lambda: cross_entropy(_x(3, 4, 2), minidl.tensor(np.zeros((3, 5), dtype=np.int64))),
     RuntimeError, r"cross_entropy: Expected target size \[3, 2\], got \[3, 5\]"),
    (lambda: cross_entropy(_x(3, 4), minidl.tensor(np.zeros((3, 4), dtype=np.int64))),
     RuntimeError, r"cross_entropy: Expected floating point type for target with class prob"),
    (lambda: cross_entropy(_x(3, 4), minidl.tensor([0, 1, 2]), weight=minidl.ones(3)),
     RuntimeError, r"cross_entropy: weight tensor should be defined either for all 4 classes"),
    (lambda: cross_entropy(_x(3, 4), minidl.tensor([0, 1, 2]), label_smoothing=1.5),
     RuntimeError, r"cross_entropy: label_smoothing must be between 0.0 and 1.0"),
    (lambda: cross_entropy(_x(3, 4), minidl.tensor([0, 1, 2]), reduction="avg"), ValueError,
     r"cross_entropy: avg is not a valid value for reduction"),
    (lambda: mse_loss(_x(3), _x(3), reduction="elementwise"), ValueError,
     r"mse_loss: elementwise is not a valid value for reduction"),
    (lambda: binary_cross_entropy(minidl.tensor([0.5, 1.5], dtype=_x(2).dtype), _x(2)),
     RuntimeError,
     r"binary_cross_entropy: all elements of input should be between 0 and 1"),
    (lambda: binary_cross_entropy(_x(3), _x(2)), ValueError,
     r"binary_cross_entropy: Using a target size \(\(2,\)\) that is different to the input "
     r"size \(\(3,\)\)"),
    (lambda: binary_cross_entropy_with_logits(_x(3, 1), _x(3)), ValueError,
     r"binary_cross_entropy_with_logits: .*target size \(\(3,\)\).*input size \(\(3, 1\)\)"),
])
def test_loss_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_mse_loss_warns_when_target_broadcasts():
    with pytest.warns(UserWarning, match=r"mse_loss: Using a target size \(\(1,\)\)"):
        mse_loss(_x(3), _x(1))
