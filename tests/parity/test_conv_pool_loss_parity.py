"""PyTorch parity of conv2d, pooling and losses: values and input/weight/bias gradients on
identical inputs, float64 to 1e-10 and float32 to 1e-4 (relative), over every mode the
ops support; plus second-order (double backward) parity for conv, pooling and CE.
"""
import numpy as np
import pytest

import minidl
from minidl.autograd import grad
from minidl.ops import (adaptive_avg_pool2d, avg_pool2d, binary_cross_entropy,
                        binary_cross_entropy_with_logits, conv2d, cross_entropy, l1_loss,
                        max_pool2d, mse_loss, nll_loss)

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-5)}
DTYPES = [np.float64, np.float32]


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def check_parity(ours_fn, torch_fn, arrays, dtype, no_grad=(), seed=0):
    """Run both libraries on the same arrays (floats cast to dtype and differentiated unless
    their index is in no_grad); compare every output, then the gradients of every
    differentiated input for one random output gradient."""
    tol = TOL[dtype]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    wants = [a.dtype.kind == "f" and i not in no_grad for i, a in enumerate(arrays)]
    ours = [minidl.Tensor(a.copy(), requires_grad=w) for a, w in zip(arrays, wants)]
    theirs = [torch.from_numpy(a.copy()).requires_grad_(w) for a, w in zip(arrays, wants)]
    outs, touts = _tuple(ours_fn(*ours)), _tuple(torch_fn(*theirs))
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert o.shape == tuple(t.shape)
        assert o.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
        if o.dtype.kind == "f":
            np.testing.assert_allclose(o.array, t.detach().numpy(), **tol)
        else:
            np.testing.assert_array_equal(o.array, t.numpy())
    pairs = [(o, t) for o, t in zip(outs, touts) if o.dtype.kind == "f"]
    rng = np.random.default_rng(seed)
    gs = [rng.standard_normal(o.shape).astype(dtype) for o, _ in pairs]
    idx = [i for i, w in enumerate(wants) if w]
    ours_g = grad([o for o, _ in pairs], [ours[i] for i in idx],
                  [minidl.Tensor(g) for g in gs], allow_unused=True)
    torch_g = torch.autograd.grad([t for _, t in pairs], [theirs[i] for i in idx],
                                  [torch.from_numpy(g) for g in gs], allow_unused=True)
    for i, a, b in zip(idx, ours_g, torch_g):
        a = np.zeros(arrays[i].shape) if a is None else a.array
        b = np.zeros(arrays[i].shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, err_msg=f"gradient of input {i}", **tol)


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- conv2d ----
CONV_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), dict()),
    ((2, 3, 8, 7), (4, 3, 3, 2), dict(stride=2, padding=1)),
    ((1, 4, 9, 8), (6, 2, 3, 3), dict(stride=(2, 1), padding=(2, 1), dilation=(2, 1), groups=2)),
    ((2, 4, 6, 6), (8, 1, 3, 3), dict(padding=1, groups=4)),                      # depthwise
    ((2, 3, 7, 6), (5, 3, 1, 1), dict(stride=2)),                                 # 1x1
    ((1, 2, 7, 6), (3, 2, 4, 2), dict(padding="same")),                  # asymmetric 'same'
    ((1, 2, 7, 6), (3, 2, 3, 4), dict(padding="same", dilation=(1, 3))),
    ((1, 2, 7, 6), (3, 2, 3, 3), dict(padding="valid", dilation=2)),
    ((6, 6, 5), (4, 3, 2, 2), dict(padding=1, groups=2)),                         # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_CASES)
def test_conv2d_parity(x_shape, w_shape, kwargs, with_bias, dtype):
    arrays = [_randn(*x_shape), _randn(*w_shape, seed=1)] + (
        [_randn(w_shape[0], seed=2)] if with_bias else [])
    check_parity(lambda *t: conv2d(*t, **kwargs), lambda *t: F.conv2d(*t, **kwargs), arrays,
                 dtype)


# ---- pooling ----
MAX_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 10, 9), dict(kernel_size=(3, 2), stride=(3, 2), dilation=(2, 3), padding=(1, 0),
                         ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=3, stride=1, padding=1)),                     # overlapping
    ((1, 1, 1, 1), dict(kernel_size=(1, 2), stride=1, padding=(0, 1), dilation=(1, 2))),
    ((3, 7, 8), dict(kernel_size=2, ceil_mode=True)),                             # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, kwargs", MAX_CASES)
def test_max_pool2d_parity_with_indices(x_shape, kwargs, dtype):
    def ours(x):
        return max_pool2d(x, return_indices=True, **kwargs)

    def theirs(x):
        return F.max_pool2d(x, return_indices=True, **kwargs)

    if x_shape == (1, 1, 1, 1):       # a window wholly in the padding: compare values only
        y = ours(minidl.tensor(np.ones(x_shape, dtype=dtype)))[0]
        assert y.item() == theirs(torch.ones(x_shape, dtype=getattr(torch, dtype.__name__)))[
            0].item() == -np.inf
        return
    check_parity(ours, theirs, [_randn(*x_shape)], dtype)


def test_max_pool2d_parity_minus_inf_input_and_ties():
    x = np.array([[[[-np.inf, -np.inf, 1.0], [-np.inf, 1.0, 1.0], [0.0, 0.0, -np.inf]]]])
    check_parity(lambda t: max_pool2d(t, 2, 1, 1, return_indices=True),
                 lambda t: F.max_pool2d(t, 2, 1, 1, return_indices=True), [x], np.float64)


AVG_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ((1, 2, 10, 9), dict(kernel_size=(4, 3), stride=(3, 2), padding=(2, 1), ceil_mode=True)),
    ((1, 2, 6, 7), dict(kernel_size=3, stride=2, divisor_override=5, ceil_mode=True)),
    ((1, 2, 6, 7), dict(kernel_size=(2, 3), stride=1, padding=1, divisor_override=2)),
    ((3, 7, 8), dict(kernel_size=2, ceil_mode=True)),                             # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, kwargs", AVG_CASES)
def test_avg_pool2d_parity(x_shape, kwargs, dtype):
    check_parity(lambda t: avg_pool2d(t, **kwargs), lambda t: F.avg_pool2d(t, **kwargs),
                 [_randn(*x_shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, output_size", [
    ((2, 3, 8, 8), 1), ((2, 3, 8, 8), (2, 4)), ((2, 3, 7, 9), (3, 5)), ((1, 2, 5, 7), (4, 6)),
    ((1, 2, 5, 7), (None, 3)), ((1, 2, 5, 7), (8, 9)), ((3, 7, 5), (3, 2))])
def test_adaptive_avg_pool2d_parity(x_shape, output_size, dtype):
    check_parity(lambda t: adaptive_avg_pool2d(t, output_size),
                 lambda t: F.adaptive_avg_pool2d(t, output_size), [_randn(*x_shape)], dtype)


# ---- losses ----
def _targets(shape, n_classes, seed=0, ignored=(), ignore_index=-100):
    t = np.random.default_rng(seed).integers(0, n_classes, size=shape)
    for pos in ignored:
        t[pos] = ignore_index
    return t


CE_CASES = [
    ((5, 4), (5,), dict()),
    ((5, 4), (5,), dict(label_smoothing=0.2)),
    ((6, 3, 2, 3), (6, 2, 3), dict(label_smoothing=0.15)),
    ((4,), (), dict(label_smoothing=0.1)),                                       # unbatched
    ((5, 4), (5,), dict(ignore_index=2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("x_shape, t_shape, kwargs", CE_CASES)
def test_cross_entropy_parity_class_indices(x_shape, t_shape, kwargs, weighted, reduction,
                                            dtype):
    C = x_shape[0] if len(x_shape) == 1 else x_shape[1]
    t = _targets(t_shape, C, ignored=[(1,)] if len(t_shape) == 1 else (),
                 ignore_index=kwargs.get("ignore_index", -100))
    w = np.linspace(0.3, 2.0, C).astype(dtype)
    kw = dict(kwargs, reduction=reduction)
    check_parity(
        lambda x, tt: cross_entropy(x, tt, minidl.tensor(w) if weighted else None, **kw),
        lambda x, tt: F.cross_entropy(x, tt, torch.from_numpy(w) if weighted else None, **kw),
        [_randn(*x_shape) * 2, t], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted, eps", [(False, 0.0), (True, 0.0), (True, 0.3)])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_cross_entropy_parity_probability_targets(shape, weighted, eps, reduction, dtype):
    C = shape[0] if len(shape) == 1 else shape[1]
    p = np.random.default_rng(3).random(shape)
    p = p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    w = np.linspace(0.3, 2.0, C).astype(dtype)
    kw = dict(reduction=reduction, label_smoothing=eps)
    check_parity(
        lambda x, q: cross_entropy(x, q, minidl.tensor(w) if weighted else None, **kw),
        lambda x, q: F.cross_entropy(x, q, torch.from_numpy(w) if weighted else None, **kw),
        [_randn(*shape), p], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_parity_huge_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, 1e4, 1e4, 0.0], [0.0, 0.0, -1e4, 1e4]])
    for kw in (dict(), dict(label_smoothing=0.1)):
        check_parity(lambda a, t: cross_entropy(a, t, **kw),
                     lambda a, t: F.cross_entropy(a, t, **kw), [x, np.array([1, 0, 3])], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("x_shape, t_shape", [((5, 4), (5,)), ((3, 4, 2, 2), (3, 2, 2)),
                                              ((4,), ())])
def test_nll_loss_parity(x_shape, t_shape, weighted, reduction, dtype):
    C = x_shape[0] if len(x_shape) == 1 else x_shape[1]
    t = _targets(t_shape, C, ignored=[(0,)] if t_shape == (5,) else ())
    w = np.linspace(0.3, 2.0, C).astype(dtype)
    check_parity(
        lambda x, tt: nll_loss(x, tt, minidl.tensor(w) if weighted else None,
                               reduction=reduction),
        lambda x, tt: F.nll_loss(x, tt, torch.from_numpy(w) if weighted else None,
                                 reduction=reduction),
        [_randn(*x_shape), t], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_mse_l1_parity(reduction, dtype):
    x, t = _randn(3, 4), _randn(3, 4, seed=1)
    check_parity(lambda a, b: mse_loss(a, b, reduction), lambda a, b: F.mse_loss(a, b,
                 reduction=reduction), [x, t], dtype)
    check_parity(lambda a, b: l1_loss(a, b, reduction), lambda a, b: F.l1_loss(a, b,
                 reduction=reduction), [x, t], dtype)


@pytest.mark.filterwarnings("ignore:divide by zero")    # the target's gradient at x = 0, 1
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_parity(weighted, reduction, dtype):
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(0.01, 0.99, 10), [0.0, 1.0]]).reshape(3, 4)
    t = np.concatenate([rng.random(10), [1.0, 0.0]]).reshape(3, 4)
    w = np.linspace(0.5, 2.0, 4).astype(dtype)
    check_parity(
        lambda a, b: binary_cross_entropy(a, b, minidl.tensor(w) if weighted else None,
                                          reduction),
        lambda a, b: F.binary_cross_entropy(a, b, torch.from_numpy(w) if weighted else None,
                                            reduction=reduction),
        [x, t], dtype, no_grad=(1,) if dtype == np.float32 else ())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted, pos_weighted", [(False, False), (True, False),
                                                    (False, True), (True, True)])
def test_binary_cross_entropy_with_logits_parity(weighted, pos_weighted, reduction, dtype):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 3, 10), [1e4, -1e4]]).reshape(3, 4)
    t = rng.random((3, 4))
    w = np.linspace(0.5, 2.0, 4).astype(dtype)
    pw = np.linspace(0.3, 3.0, 4).astype(dtype)

    def ours(a, b):
        return binary_cross_entropy_with_logits(
            a, b, minidl.tensor(w) if weighted else None, reduction,
            minidl.tensor(pw) if pos_weighted else None)

    def theirs(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, torch.from_numpy(w) if weighted else None, reduction=reduction,
            pos_weight=torch.from_numpy(pw) if pos_weighted else None)

    check_parity(ours, theirs, [x, t], dtype)


# ---- second order ----
SECOND_ORDER = [
    ("conv2d", lambda x, w: conv2d(x, w, stride=2, padding=1, groups=2, dilation=(1, 2)),
     lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2, dilation=(1, 2)),
     [(2, 4, 6, 7), (4, 2, 3, 2)]),
    ("max_pool2d", lambda x: max_pool2d(x, 3, 2, 1, ceil_mode=True),
     lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 7, 6)]),
    ("avg_pool2d", lambda x: avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     [(2, 3, 7, 6)]),
    ("cross_entropy", lambda x: cross_entropy(x, minidl.tensor([1, 0, 2]), label_smoothing=0.1),
     lambda x: F.cross_entropy(x, torch.tensor([1, 0, 2]), label_smoothing=0.1), [(3, 4)]),
    ("bce_with_logits",
     lambda x: binary_cross_entropy_with_logits(x, minidl.tensor(np.full((3, 4), 0.3))),
     lambda x: F.binary_cross_entropy_with_logits(x, torch.full((3, 4), 0.3,
                                                                dtype=torch.float64)),
     [(3, 4)]),
]


@pytest.mark.parametrize("name, ours_fn, torch_fn, shapes", SECOND_ORDER,
                         ids=[c[0] for c in SECOND_ORDER])
def test_double_backward_parity(name, ours_fn, torch_fn, shapes):
    """d/d(inputs, g) of <g^T J, v>: a Hessian-vector product and the backward's own
    adjoint, both through the backward ops."""
    arrays = [_randn(*s, seed=i) for i, s in enumerate(shapes)]
    ours = [minidl.Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    g_array = _randn(*y.shape, seed=7)
    g = minidl.Tensor(g_array.copy(), requires_grad=True)
    tg = torch.from_numpy(g_array.copy()).requires_grad_()
    first = grad(y, ours, g, create_graph=True)
    tfirst = torch.autograd.grad(ty, theirs, tg, create_graph=True)
    vs = [_randn(*a.shape, seed=8 + i) for i, a in enumerate(arrays)]
    scalar = sum((f * minidl.Tensor(v)).sum() for f, v in zip(first, vs))
    tscalar = sum((f * torch.from_numpy(v)).sum() for f, v in zip(tfirst, vs))
    second = grad(scalar, ours + [g], allow_unused=True)
    tsecond = torch.autograd.grad(tscalar, theirs + [tg], allow_unused=True)
    for a, b, arr in zip(second, tsecond, arrays + [g_array]):
        a = np.zeros(arr.shape) if a is None else a.array
        b = np.zeros(arr.shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
