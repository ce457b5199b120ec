"""Reference conv/pool kernels against naive loops over output pixels.

The naive versions below read straight from the definitions (a window is every tap whose
position lies in the padded input; padding contributes 0 to sums and never wins a max)
and share no code with `minidl.kernels.reference`. A grid of shapes, strides, paddings,
dilations and groups, odd sizes and 1x1 kernels, in float32 and float64.
"""
import math

import numpy as np
import pytest

from minidl.kernels import reference as ref

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
DTYPES = [np.float32, np.float64]


def _out(size, k, s, p, d, ceil=False):
    span = size + 2 * p - d * (k - 1) - 1
    n = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (n - 1) * s >= size + p:   # the last window must start inside input/left pad
        n -= 1
    return n


def _taps(o, k, s, p, d):
    """Input positions (may be out of range: padding) of the k taps of window o."""
    return [o * s - p + i * d for i in range(k)]


def naive_conv(x, w, stride, padding, dilation, groups):
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    OH = _out(H, KH, stride[0], padding[0], dilation[0])
    OW = _out(W, KW, stride[1], padding[1], dilation[1])
    y = np.zeros((N, OC, OH, OW), dtype=np.float64)
    for oc in range(OC):
        g = oc // (OC // groups)
        for oh in range(OH):
            for ow in range(OW):
                for c in range(Cg):
                    for i, h in enumerate(_taps(oh, KH, stride[0], padding[0], dilation[0])):
                        for j, v in enumerate(_taps(ow, KW, stride[1], padding[1], dilation[1])):
                            if 0 <= h < H and 0 <= v < W:
                                y[:, oc, oh, ow] += x[:, g * Cg + c, h, v] * w[oc, c, i, j]
    return y


def naive_conv_grads(grad_y, x, w, stride, padding, dilation, groups):
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    _, _, OH, OW = grad_y.shape
    gx = np.zeros(x.shape)
    gw = np.zeros(w.shape)
    for oc in range(OC):
        g = oc // (OC // groups)
        for oh in range(OH):
            for ow in range(OW):
                for c in range(Cg):
                    for i, h in enumerate(_taps(oh, KH, stride[0], padding[0], dilation[0])):
                        for j, v in enumerate(_taps(ow, KW, stride[1], padding[1], dilation[1])):
                            if 0 <= h < H and 0 <= v < W:
                                gx[:, g * Cg + c, h, v] += grad_y[:, oc, oh, ow] * w[oc, c, i, j]
                                gw[oc, c, i, j] += grad_y[:, oc, oh, ow] @ x[:, g * Cg + c, h, v]
    return gx, gw


# (N, C, H, W), (OC, KH, KW), stride, padding, dilation, groups
CONV_CASES = [
    ((1, 1, 5, 5), (1, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((2, 3, 7, 6), (4, 3, 2), (2, 1), (1, 0), (1, 1), 1),
    ((2, 4, 6, 7), (6, 3, 3), (2, 2), (1, 2), (2, 1), 2),
    ((1, 4, 5, 5), (4, 3, 3), (1, 1), (1, 1), (1, 1), 4),          # depthwise
    ((2, 2, 4, 5), (6, 1, 1), (1, 1), (0, 0), (1, 1), 1),          # 1x1
    ((1, 3, 9, 8), (3, 1, 1), (3, 2), (0, 1), (1, 1), 3),          # 1x1, strided, groups
    ((2, 6, 9, 7), (4, 2, 3), (3, 2), (2, 1), (2, 3), 2),          # odd strides miss rows
    ((1, 2, 3, 3), (2, 3, 3), (1, 1), (0, 0), (1, 1), 1),          # 1x1 output
    ((3, 1, 8, 1), (2, 3, 1), (2, 1), (1, 0), (2, 1), 1),          # width 1
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_spec, stride, padding, dilation, groups", CONV_CASES)
def test_conv2d_kernels_match_naive_loops(x_shape, w_spec, stride, padding, dilation, groups,
                                          dtype):
    rng = np.random.default_rng(0)
    OC, KH, KW = w_spec
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((OC, x_shape[1] // groups, KH, KW)).astype(dtype)
    y = ref.conv2d_forward(x, w, stride, padding, dilation, groups)
    expected = naive_conv(x.astype(np.float64), w.astype(np.float64), stride, padding,
                          dilation, groups)
    assert y.dtype == dtype and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, **TOL[dtype])

    grad_y = rng.standard_normal(y.shape).astype(dtype)
    gx = ref.conv2d_backward_input(grad_y, w, x.shape, stride, padding, dilation, groups)
    gw = ref.conv2d_backward_weight(grad_y, x, w.shape, stride, padding, dilation, groups)
    ex, ew = naive_conv_grads(grad_y.astype(np.float64), x.astype(np.float64),
                              w.astype(np.float64), stride, padding, dilation, groups)
    assert gx.dtype == dtype and gw.dtype == dtype
    np.testing.assert_allclose(gx, ex, **TOL[dtype])
    np.testing.assert_allclose(gw, ew, **TOL[dtype])


@pytest.mark.parametrize("stride, padding, dilation", [((1, 1), (0, 0), (1, 1)),
                                                       ((2, 3), (1, 2), (1, 2)),
                                                       ((3, 1), (2, 0), (2, 1))])
def test_im2col_values_and_col2im_is_its_adjoint(stride, padding, dilation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 8))
    k = (3, 2)
    cols = ref.im2col(x, k, stride, padding, dilation)
    OH = _out(7, 3, stride[0], padding[0], dilation[0])
    OW = _out(8, 2, stride[1], padding[1], dilation[1])
    assert cols.shape == (2, 3, 3, 2, OH, OW)
    for i in range(3):
        for j in range(2):
            for oh in range(OH):
                for ow in range(OW):
                    h = oh * stride[0] - padding[0] + i * dilation[0]
                    v = ow * stride[1] - padding[1] + j * dilation[1]
                    inside = 0 <= h < 7 and 0 <= v < 8
                    want = x[:, :, h, v] if inside else 0.0
                    np.testing.assert_array_equal(cols[:, :, i, j, oh, ow], want)
    c = rng.standard_normal(cols.shape)
    folded = ref.col2im(c, x.shape, stride, padding, dilation)
    assert folded.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * folded), rtol=1e-12)


# ---- pooling ----
def naive_max_pool(x, k, s, p, d, ceil):
    N, C, H, W = x.shape
    OH, OW = _out(H, k[0], s[0], p[0], d[0], ceil), _out(W, k[1], s[1], p[1], d[1], ceil)
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    idx = np.empty((N, C, OH, OW), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    best, where = -np.inf, -1
                    for h in _taps(oh, k[0], s[0], p[0], d[0]):
                        for v in _taps(ow, k[1], s[1], p[1], d[1]):
                            if 0 <= h < H and 0 <= v < W and x[n, c, h, v] > best:
                                best, where = x[n, c, h, v], h * W + v
                    y[n, c, oh, ow], idx[n, c, oh, ow] = best, where
    return y, idx


def naive_avg_pool(x, k, s, p, ceil, count_include_pad, divisor_override):
    N, C, H, W = x.shape
    OH, OW = _out(H, k[0], s[0], p[0], 1, ceil), _out(W, k[1], s[1], p[1], 1, ceil)
    y = np.empty((N, C, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            total, inside, in_padded = 0.0, 0, 0
            for h in _taps(oh, k[0], s[0], p[0], 1):
                for v in _taps(ow, k[1], s[1], p[1], 1):
                    if -p[0] <= h < H + p[0] and -p[1] <= v < W + p[1]:
                        in_padded += 1              # ceil_mode overhang is never counted
                    if 0 <= h < H and 0 <= v < W:
                        inside += 1
                        total = total + x[:, :, h, v]
            divisor = divisor_override or (in_padded if count_include_pad else inside)
            y[:, :, oh, ow] = total / divisor
    return y


# (N, C, H, W), kernel, stride, padding, dilation, ceil_mode
POOL_CASES = [
    ((1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 3, 7, 6), (3, 3), (2, 2), (1, 1), (1, 1), False),
    ((2, 3, 7, 6), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((1, 2, 8, 9), (2, 3), (2, 1), (1, 1), (1, 1), True),
    ((1, 2, 9, 8), (3, 2), (3, 2), (0, 1), (2, 3), True),          # dilation (max only)
    ((2, 1, 5, 5), (1, 1), (2, 2), (0, 0), (1, 1), True),          # 1x1 window
    ((1, 2, 5, 7), (5, 2), (1, 3), (2, 1), (1, 1), False),
    ((1, 1, 10, 10), (4, 4), (3, 3), (2, 2), (1, 1), True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, k, s, p, d, ceil", POOL_CASES)
def test_max_pool2d_kernels_match_naive_loops(x_shape, k, s, p, d, ceil, dtype):
    rng = np.random.default_rng(2)
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape).astype(dtype)   # distinct values
    y, idx = ref.max_pool2d_forward(x, k, s, p, d, ceil)
    ey, eidx = naive_max_pool(x, k, s, p, d, ceil)
    assert y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(idx, eidx)

    grad_y = rng.standard_normal(y.shape).astype(dtype)
    gx = ref.max_pool2d_backward(grad_y, idx, x.shape)
    expected = np.zeros(x.shape)
    for (n, c, oh, ow), i in np.ndenumerate(eidx):
        expected[n, c, i // x.shape[3], i % x.shape[3]] += grad_y[n, c, oh, ow]
    assert gx.dtype == dtype
    np.testing.assert_allclose(gx, expected, **TOL[dtype])


def test_max_pool2d_ties_keep_the_first_and_nan_propagates():
    x = np.zeros((1, 1, 2, 2))
    y, idx = ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert idx.item() == 0
    x[0, 0, 1, 0] = np.nan
    y, idx = ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert np.isnan(y.item()) and idx.item() == 2


def test_max_pool2d_integer_input():
    x = np.arange(16, dtype=np.int64).reshape(1, 1, 4, 4)
    y, idx = ref.max_pool2d_forward(x, (2, 2), (2, 2), (1, 1), (1, 1), False)
    np.testing.assert_array_equal(y[0, 0], [[0, 2, 3], [8, 10, 11], [12, 14, 15]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("count_include_pad, divisor_override", [(True, None), (False, None),
                                                                 (True, 5), (False, 2)])
@pytest.mark.parametrize("x_shape, k, s, p, _d, ceil", POOL_CASES)
def test_avg_pool2d_kernels_match_naive_loops(x_shape, k, s, p, _d, ceil, count_include_pad,
                                              divisor_override, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(dtype)
    y = ref.avg_pool2d_forward(x, k, s, p, ceil, count_include_pad, divisor_override)
    expected = naive_avg_pool(x.astype(np.float64), k, s, p, ceil, count_include_pad,
                              divisor_override)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, **TOL[dtype])

    # the backward is the adjoint: <A x, g> = <x, A^T g>, checked on the naive forward
    grad_y = rng.standard_normal(y.shape).astype(dtype)
    gx = ref.avg_pool2d_backward(grad_y, x.shape, k, s, p, ceil, count_include_pad,
                                 divisor_override)
    assert gx.dtype == dtype and gx.shape == x.shape
    basis_grad = np.zeros(x.shape)
    for pos in np.ndindex(*x.shape[2:]):
        e = np.zeros(x.shape[2:])
        e[pos] = 1.0
        col = naive_avg_pool(np.broadcast_to(e, x.shape), k, s, p, ceil, count_include_pad,
                             divisor_override)
        basis_grad[:, :, pos[0], pos[1]] = (col * grad_y).sum(axis=(2, 3))
    np.testing.assert_allclose(gx, basis_grad, **TOL[dtype])


@pytest.mark.parametrize("size, k, s, p, d", [(7, 3, 2, 1, 1), (8, 2, 3, 1, 2), (5, 5, 1, 2, 1),
                                              (10, 4, 3, 2, 1), (6, 1, 4, 0, 1)])
def test_pool_output_size_matches_definition(size, k, s, p, d):
    for ceil in (False, True):
        assert ref.pool_output_size(size, k, s, p, d, ceil) == _out(size, k, s, p, d, ceil)
    assert ref.conv_output_size(size, k, s, p, d) == _out(size, k, s, p, d)


def test_forward_columns_reused_by_the_weight_gradient_give_the_same_result():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((6, 2, 3, 2))
    args = ((2, 1), (1, 0), (1, 2), 2)
    y, cols = ref.conv2d_forward(x, w, *args, keep_cols=True)
    np.testing.assert_array_equal(y, ref.conv2d_forward(x, w, *args))
    np.testing.assert_array_equal(cols, ref.im2col(x, (3, 2), *args[:3]))
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(ref.conv2d_backward_weight(gy, x, w.shape, *args, cols=cols),
                               ref.conv2d_backward_weight(gy, x, w.shape, *args), rtol=1e-12)
