"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: forward vs sliding-window NumPy formulas,
gradcheck and gradgradcheck in float64 over Hypothesis geometries (max-pool inputs with
distinct values, so no window has a tie), indices, unbatched input and errors.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import minidl
from minidl.autograd import grad, gradcheck, gradgradcheck
from minidl.ops import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minidl.testing.op_test import check_op


def _out(size, k, s, p, d, ceil):
    span = size + 2 * p - d * (k - 1) - 1
    n = (math.ceil(span / s) if ceil else span // s) + 1
    return n - 1 if ceil and (n - 1) * s >= size + p else n


def _windows(a, k, s, p, d, ceil, fill):
    """(N, C, OH, OW, KH, KW) windows of `a` padded with `fill` (and further for ceil_mode)."""
    H, W = a.shape[2:]
    OH, OW = _out(H, k[0], s[0], p[0], d[0], ceil), _out(W, k[1], s[1], p[1], d[1], ceil)
    need_h = (OH - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (OW - 1) * s[1] + d[1] * (k[1] - 1) + 1
    a = np.pad(a, ((0, 0), (0, 0), (p[0], max(p[0], need_h - H - p[0])),
                   (p[1], max(p[1], need_w - W - p[1]))), constant_values=fill)
    span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    win = sliding_window_view(a, span, axis=(2, 3))[:, :, ::s[0], ::s[1], ::d[0], ::d[1]]
    return win[:, :, :OH, :OW]


def max_pool_reference(x, k, s, p, d, ceil):
    return _windows(x, k, s, p, d, ceil, -np.inf).max(axis=(4, 5))


def avg_pool_reference(x, k, s, p, ceil, count_include_pad, divisor_override):
    ones = (1, 1)
    total = _windows(x, k, s, p, ones, ceil, 0.0).sum(axis=(4, 5))
    if divisor_override:
        return total / divisor_override
    # count the window's cells in the padded input (or in the input): pad a mask
    H, W = x.shape[2:]
    mask = np.ones((1, 1, H + 2 * p[0], W + 2 * p[1])) if count_include_pad else np.pad(
        np.ones((1, 1, H, W)), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    count = _windows(mask, k, s, (0, 0), ones, ceil, 0.0).sum(axis=(4, 5))
    count = count[:, :, :total.shape[2], :total.shape[3]]
    return total / count


def _distinct(shape, seed=0):
    """Values 0.1 apart in random order: every window has a unique max, far from a tie."""
    rng = np.random.default_rng(seed)
    return rng.permutation(math.prod(shape)).reshape(shape) * 0.1 - 1.0


@st.composite
def pool_geometry(draw, dilation=True):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    p = tuple(draw(st.integers(0, ((kk - 1) * dd + 1) // 2)) for kk, dd in zip(k, d))
    ceil = draw(st.booleans())
    lo = [max(1, dd * (kk - 1) + 1 - 2 * pp) for kk, dd, pp in zip(k, d, p)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
             draw(st.integers(lo[0], lo[0] + 4)), draw(st.integers(lo[1], lo[1] + 4)))
    # with dilation a window can fall entirely into the padding (tested on its own)
    assume(all(_every_window_sees_input(*g) for g in zip(shape[2:], k, s, p, d)) or
           not dilation)
    return shape, k, s, p, d, ceil


def _every_window_sees_input(size, k, s, p, d):
    return all(any(0 <= o * s - p + i * d < size for i in range(k))
               for o in range(_out(size, k, s, p, d, True)))


@given(pool_geometry())
def test_max_pool2d_forward_gradcheck_gradgradcheck(geometry):
    shape, k, s, p, d, ceil = geometry
    check_op(lambda x: max_pool2d(x, k, s, p, d, ceil_mode=ceil), [_distinct(shape)],
             reference=lambda x: max_pool_reference(x, k, s, p, d, ceil), rtol=0, atol=0)


@given(pool_geometry())
def test_max_pool2d_indices_point_at_the_maxima(geometry):
    shape, k, s, p, d, ceil = geometry
    x = _distinct(shape, seed=1)
    y, idx = max_pool2d(minidl.tensor(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
    assert idx.dtype == np.int64 and not idx.requires_grad
    planes = x.reshape(shape[0], shape[1], -1)
    picked = np.take_along_axis(planes, idx.array.reshape(shape[0], shape[1], -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(y.shape), y.array)


def test_max_pool2d_gradient_scatters_to_argmax_and_overlaps_add():
    x = minidl.tensor([[[[1.0, 2.0, 0.0], [0.0, 9.0, 0.0], [3.0, 0.0, 4.0]]]],
                      requires_grad=True)
    max_pool2d(x, 2, stride=1).sum().backward()      # the 9 wins all four windows
    np.testing.assert_array_equal(x.grad.cpu().numpy()[0, 0], [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_max_pool2d_window_inside_padding_gives_minus_inf_and_no_gradient():
    # taps at columns -1 and 1 of a 1-wide input: the window never sees the input
    x = minidl.tensor(np.full((1, 1, 1, 1), 2.0), requires_grad=True)
    y, idx = max_pool2d(x, (1, 2), stride=1, padding=(0, 1), dilation=(1, 2),
                        return_indices=True)
    assert y.item() == -np.inf and idx.item() == -1
    (gx,) = grad(y.sum(), (x,), create_graph=True)
    assert gx.item() == 0.0
    (ggy,) = grad(gx.sum(), (x,), allow_unused=True) if gx.requires_grad else (None,)
    assert ggy is None or ggy.item() == 0.0


def test_max_pool2d_padding_never_wins_over_minus_inf_input():
    x = minidl.tensor(np.full((1, 1, 2, 2), -np.inf))
    y, idx = max_pool2d(x, 2, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(idx.array[0, 0], [[0, 0, 1], [0, 0, 1], [2, 2, 3]])


def test_max_pool2d_double_backward_gathers_by_indices():
    x = minidl.tensor(_distinct((1, 2, 5, 5)), requires_grad=True)
    (gx,) = grad((max_pool2d(x, 3, 2, 1) ** 2).sum(), (x,), create_graph=True)
    assert gx.grad_fn is not None
    assert gradgradcheck(lambda x: max_pool2d(x, 3, 2, 1), (x,))


@given(pool_geometry(dilation=False), st.booleans(), st.sampled_from([None, 1, 3]))
def test_avg_pool2d_forward_gradcheck_gradgradcheck(geometry, count_include_pad,
                                                    divisor_override):
    shape, k, s, p, _, ceil = geometry

    def fn(x):
        return avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=count_include_pad,
                          divisor_override=divisor_override)

    check_op(fn, [shape], rtol=1e-12, atol=1e-12,
             reference=lambda x: avg_pool_reference(x, k, s, p, ceil, count_include_pad,
                                                    divisor_override))


def test_avg_pool2d_count_include_pad_changes_only_border_windows():
    x = minidl.tensor(np.ones((1, 1, 4, 4)))
    with_pad = avg_pool2d(x, 3, 1, 1).cpu().numpy()[0, 0]
    without = avg_pool2d(x, 3, 1, 1, count_include_pad=False).cpu().numpy()[0, 0]
    np.testing.assert_allclose(without, 1.0)
    np.testing.assert_allclose(with_pad[0, 0], 4 / 9)
    np.testing.assert_allclose(with_pad[1:3, 1:3], 1.0)


def test_pools_accept_unbatched_input():
    x = minidl.tensor(_distinct((2, 5, 6)), requires_grad=True)
    batched = x.unsqueeze(0)
    for fn in (lambda t: max_pool2d(t, 2, ceil_mode=True),
               lambda t: avg_pool2d(t, (3, 2), stride=(2, 1), padding=1),
               lambda t: adaptive_avg_pool2d(t, (3, None))):
        y = fn(x)
        np.testing.assert_array_equal(y.array, fn(batched).array[0])
        assert gradcheck(fn, (x,))
    y, idx = max_pool2d(x, 2, return_indices=True)
    assert y.shape == idx.shape == (2, 2, 3)


def _adaptive_reference(x, out):
    H, W = x.shape[-2:]
    y = np.empty(x.shape[:-2] + out)
    for i in range(out[0]):
        h0, h1 = (i * H) // out[0], math.ceil((i + 1) * H / out[0])
        for j in range(out[1]):
            w0, w1 = (j * W) // out[1], math.ceil((j + 1) * W / out[1])
            y[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    return y


@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 5), st.integers(1, 5))
def test_adaptive_avg_pool2d_forward_gradcheck_gradgradcheck(h, w, oh, ow):
    check_op(lambda x: adaptive_avg_pool2d(x, (oh, ow)), [(2, 2, h, w)],
             reference=lambda x: _adaptive_reference(x, (oh, ow)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("output_size, expected", [(3, (3, 3)), ((2, None), (2, 7)),
                                                   ((None, None), (5, 7)), ([1, 4], (1, 4))])
def test_adaptive_avg_pool2d_output_size_forms(output_size, expected):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 7))
    y = adaptive_avg_pool2d(minidl.tensor(x), output_size)
    assert y.shape == (1, 2) + expected
    np.testing.assert_allclose(y.cpu().numpy(), _adaptive_reference(x, expected), rtol=1e-12)


def test_pools_keep_float32():
    x = minidl.randn(2, 3, 6, 6, requires_grad=True)
    for y in (max_pool2d(x, 2), avg_pool2d(x, 3, 2, 1), adaptive_avg_pool2d(x, 4)):
        assert y.dtype == np.float32
        (gx,) = grad(y.sum(), (x,))
        assert gx.dtype == np.float32


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pools_take_an_empty_batch(pool, numba):
    """As in PyTorch, the batch dimension (only) may be empty."""
    with minidl.kernels.use_numba(numba):
        x = minidl.zeros(0, 3, 8, 7, requires_grad=True)
        y = pool(x, 3, 2, 1, ceil_mode=True)
        y.sum().backward()
    assert y.shape == (0, 3, 5, 4) and x.grad.shape == (0, 3, 8, 7)      # as in PyTorch


def _t(*shape):
    return minidl.tensor(np.ones(shape))


@pytest.mark.parametrize("call, match", [
    (lambda: max_pool2d(_t(1, 1, 5, 5), 3, padding=2),
     r"max_pool2d: pad should be at most half of effective kernel size, but got pad=2, "
     r"kernel_size=3"),
    (lambda: avg_pool2d(_t(1, 1, 5, 5), 2, padding=(0, 2)), r"avg_pool2d: pad should be at most"),
    (lambda: max_pool2d(_t(1, 3, 5, 5), 6),
     r"max_pool2d: Given input size: \(3x5x5\)\. Calculated output size: \(3x0x0\)\. "
     r"Output size is too small"),
    (lambda: avg_pool2d(_t(1, 3, 5, 5), 2, divisor_override=0), r"avg_pool2d: divisor must be"),
    (lambda: max_pool2d(_t(5, 5), 2), r"max_pool2d: Expected 3D or 4D .*\[5, 5\]"),
    (lambda: avg_pool2d(_t(1, 1, 1, 5, 5), 2), r"avg_pool2d: Expected 3D or 4D .*\[1, 1, 1, 5"),
    (lambda: max_pool2d(_t(2, 0, 5, 5), 2), r"optional 0 dim batch size .*\[2, 0, 5, 5\]"),
    (lambda: avg_pool2d(_t(3, 0, 5), 2), r"avg_pool2d: Expected 3D or 4D .*\[3, 0, 5\]"),
    (lambda: max_pool2d(_t(1, 1, 4, 4), 2, stride=0), r"max_pool2d: stride should be greater"),
    (lambda: max_pool2d(_t(1, 1, 4, 4), 0), r"max_pool2d: kernel size should be greater"),
    (lambda: max_pool2d(_t(1, 1, 4, 4), (2, 2, 2)), r"max_pool2d: kernel_size must either be"),
    (lambda: adaptive_avg_pool2d(_t(1, 1, 4, 4), (2, -1)),
     r"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0"),
    (lambda: adaptive_avg_pool2d(_t(4, 4), 2),
     r"adaptive_avg_pool2d: Expected 3D or 4D .*\(4, 4\)"),
])
def test_pool_bad_arguments(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
