"""conv2d: forward vs an einsum over sliding windows, gradcheck and gradgradcheck in float64
over Hypothesis-drawn geometries (stride, padding, dilation, groups, bias), 'same' and
'valid' padding, unbatched input, and clear errors for bad arguments.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import minidl
from minidl.autograd import grad, gradcheck, gradgradcheck
from minidl.ops import conv2d
from minidl.testing.op_test import check_op


def conv_reference(x, w, b, stride, padding, dilation, groups):
    """y[n, o] = sum over the group's channels and taps of window * w, by einsum."""
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OC, Cg, KH, KW = w.shape
    span = (dh * (KH - 1) + 1, dw * (KW - 1) + 1)
    win = sliding_window_view(x, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    N, C, OH, OW = win.shape[:4]
    win = win.reshape(N, groups, Cg, OH, OW, KH, KW)
    y = np.einsum("ngchwij,gocij->ngohw", win, w.reshape(groups, OC // groups, Cg, KH, KW))
    y = y.reshape(N, OC, OH, OW)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


@st.composite
def conv_geometry(draw):
    groups = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    h_min = max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0])
    w_min = max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1])
    x_shape = (draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)),
               draw(st.integers(h_min, h_min + 3)), draw(st.integers(w_min, w_min + 3)))
    w_shape = (groups * draw(st.integers(1, 2)), x_shape[1] // groups, kh, kw)
    return x_shape, w_shape, stride, padding, dilation, groups


@given(conv_geometry(), st.booleans())
def test_conv2d_forward_gradcheck_gradgradcheck(geometry, with_bias):
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    specs = [x_shape, w_shape] + ([(w_shape[0],)] if with_bias else [])

    def fn(x, w, b=None):
        return conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation,
                      groups=groups)

    def reference(x, w, b=None):
        return conv_reference(x, w, b, stride, padding, dilation, groups)

    check_op(fn, specs, reference=reference, rtol=1e-10, atol=1e-12)


def test_conv2d_full_jacobian_gradcheck_with_groups_stride_dilation():
    rng = np.random.default_rng(0)
    x = minidl.tensor(rng.standard_normal((1, 4, 5, 6)), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((2, 2, 2, 3)), requires_grad=True)
    b = minidl.tensor(rng.standard_normal(2), requires_grad=True)

    def fn(x, w, b):
        return conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("kernel, dilation", [((2, 2), (1, 1)), ((3, 4), (1, 1)),
                                              ((2, 3), (2, 1)), ((1, 1), (1, 1))])
def test_conv2d_padding_same_pads_extra_at_bottom_right(kernel, dilation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((3, 2) + kernel)
    y = conv2d(minidl.tensor(x), minidl.tensor(w), padding="same", dilation=dilation)
    assert y.shape == (2, 3, 5, 6)
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    pads = [(t // 2, t - t // 2) for t in total]       # the odd extra goes bottom / right
    x_pad = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
    expected = conv_reference(x_pad, w, None, (1, 1), (0, 0), dilation, 1)
    np.testing.assert_allclose(y.cpu().numpy(), expected, rtol=1e-12, atol=1e-12)
    check_op(lambda x, w: conv2d(x, w, padding="same", dilation=dilation),
             [(1, 2, 4, 5), (2, 2) + kernel], gradgradcheck=kernel == (2, 3))


def test_conv2d_padding_valid_is_zero_padding():
    rng = np.random.default_rng(2)
    x, w = minidl.tensor(rng.standard_normal((1, 2, 5, 5))), minidl.tensor(
        rng.standard_normal((3, 2, 3, 3)))
    np.testing.assert_array_equal(conv2d(x, w, padding="valid").cpu().numpy(),
                                  conv2d(x, w, padding=0).cpu().numpy())


def test_conv2d_unbatched_input_matches_batch_of_one():
    rng = np.random.default_rng(3)
    x = minidl.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((3, 2, 2, 2)), requires_grad=True)
    y = conv2d(x, w, padding=1, stride=2)
    batched = conv2d(x.unsqueeze(0), w, padding=1, stride=2)
    assert y.shape == (3, 3, 3)
    np.testing.assert_array_equal(y.array, batched.array[0])
    assert gradcheck(lambda x, w: conv2d(x, w, padding=1, stride=2), (x, w))


def test_conv2d_bias_gradient_is_sum_over_batch_and_space():
    rng = np.random.default_rng(4)
    x = minidl.tensor(rng.standard_normal((3, 2, 4, 4)))
    w = minidl.tensor(rng.standard_normal((5, 2, 3, 3)))
    b = minidl.tensor(np.zeros(5), requires_grad=True)
    g = rng.standard_normal((3, 5, 2, 2))
    conv2d(x, w, b).backward(minidl.tensor(g))
    np.testing.assert_allclose(b.grad.cpu().numpy(), g.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("numba", [True, False])
def test_conv2d_takes_an_empty_batch(numba):
    """As in PyTorch: an empty output, zero weight and bias gradients (the batch split
    used to divide by the zero samples)."""
    with minidl.kernels.use_numba(numba):
        x = minidl.zeros(0, 3, 8, 8, requires_grad=True)
        w = minidl.randn(4, 3, 3, 3, requires_grad=True)
        b = minidl.randn(4, requires_grad=True)
        y = conv2d(x, w, b, padding=1)
        y.sum().backward()
    assert y.shape == (0, 4, 8, 8) and x.grad.shape == (0, 3, 8, 8)
    np.testing.assert_array_equal(w.grad.cpu().numpy(), np.zeros((4, 3, 3, 3)))
    np.testing.assert_array_equal(b.grad.cpu().numpy(), np.zeros(4))


@pytest.mark.parametrize("numba", [True, False])
def test_conv2d_keeps_its_columns_only_for_a_weight_gradient(numba, monkeypatch):
    """The forward's unfolded columns are kept for the weight gradient, and only when there
    will be one: not under no_grad, not for a frozen weight."""
    module = minidl.kernels.for_array(np.zeros(1), "conv_numba") if numba \
        else minidl.kernels.reference
    asked, real = [], module.conv2d_forward

    def spy(*args, keep_cols=False, **kwargs):
        asked.append(keep_cols)
        return real(*args, keep_cols=keep_cols, **kwargs)

    monkeypatch.setattr(module, "conv2d_forward", spy)
    x = minidl.randn(2, 3, 6, 6, requires_grad=True)
    w = minidl.randn(4, 3, 3, 3, requires_grad=True)
    frozen = minidl.randn(4, 3, 3, 3)
    with minidl.kernels.use_numba(numba):
        conv2d(x, w).sum().backward()
        with minidl.no_grad():
            y = conv2d(x, w)
        conv2d(x, frozen).sum().backward()
    assert asked == [True, False, False]
    assert y.grad_fn is None and w.grad is not None


def test_conv2d_keeps_float32():
    x = minidl.randn(2, 3, 6, 6, requires_grad=True)
    w = minidl.randn(4, 3, 3, 3, requires_grad=True)
    b = minidl.randn(4, requires_grad=True)
    y = conv2d(x, w, b, padding=1)
    y.sum().backward()
    assert y.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_conv2d_double_backward_runs_through_the_backward_ops():
    rng = np.random.default_rng(5)
    x = minidl.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    gx, gw = grad(conv2d(x, w, padding=1).pow(2).sum(), (x, w), create_graph=True)
    assert type(gx.grad_fn).__name__ == "Conv2dBackwardInputFn"
    assert type(gw.grad_fn).__name__ == "Conv2dBackwardWeightFn"
    assert gx.grad_fn.name() == "ConvolutionBackwardBackward0"     # PyTorch's name
    # third order: gradgradcheck of the first derivative exercises the backward ops' backward
    assert gradgradcheck(lambda x, w: grad(conv2d(x, w, padding=1).sum(), (x,),
                                           create_graph=True)[0] * w.sum(), (x, w),
                         fast_mode=True)


def _t(*shape, dtype=np.float64):
    return minidl.tensor(np.ones(shape, dtype=dtype))


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((_t(1, 1, 5, 5), _t(8, 3, 3, 3)), {}, RuntimeError,
     r"conv2d.*weight of size \[8, 3, 3, 3\].*input\[1, 1, 5, 5\] to have 3 channels, but got 1"),
    ((_t(1, 3, 2, 2), _t(4, 3, 3, 3)), {}, RuntimeError,
     r"conv2d.*padded input size per channel: \(2 x 2\)\. Kernel size: \(3 x 3\)"),
    ((_t(1, 3, 4, 4), _t(4, 3, 3, 3)), {"dilation": 2}, RuntimeError,
     r"conv2d.*Kernel size: \(5 x 5\)"),
    ((_t(1, 4, 5, 5), _t(3, 2, 3, 3)), {"groups": 2}, RuntimeError,
     r"conv2d: Given groups=2, expected weight to be divisible by 2 .*\[3, 2, 3, 3\]"),
    ((_t(1, 3, 5, 5), _t(4, 1, 3, 3)), {"groups": 2}, RuntimeError,
     r"conv2d: Given groups=2.*to have 2 channels, but got 3"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3), _t(3)), {}, RuntimeError,
     r"conv2d.*expected bias to be 1-dimensional with 4 elements, but got bias of size \[3\]"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3)), {"stride": 0}, RuntimeError,
     r"conv2d: non-positive stride"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3)), {"stride": 2, "padding": "same"}, RuntimeError,
     r"conv2d: padding='same' is not supported for strided convolutions"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3)), {"padding": "full"}, RuntimeError,
     r"conv2d: Invalid padding string: 'full'"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3)), {"padding": -1}, RuntimeError,
     r"conv2d: negative padding"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3)), {"padding": (1, 1, 1)}, RuntimeError,
     r"conv2d: expected padding to be .* 2 values"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3)), {"groups": 0}, RuntimeError,
     r"conv2d: non-positive groups"),
    ((_t(1, 1, 3, 5, 5), _t(4, 3, 3, 3)), {}, RuntimeError,
     r"conv2d: Expected 3D \(unbatched\) or 4D \(batched\) input.*\[1, 1, 3, 5, 5\]"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3)), {}, RuntimeError,
     r"conv2d: expected weight to be 4-dimensional.*\[4, 3, 3\]"),
    ((_t(1, 3, 5, 5), _t(4, 3, 3, 3, dtype=np.float32)), {}, RuntimeError,
     r"conv2d: .*same floating dtype, got input torch.float64 and weight torch.float32"),
])
def test_conv2d_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d(*args, **kwargs)
