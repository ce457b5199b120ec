"""conv1d, conv_transpose2d, conv_transpose1d and F.pad: values and every gradient against
PyTorch (float64), gradcheck and gradgradcheck over Hypothesis-drawn configurations, and
PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl.testing import shapes  # noqa: E402
from minidl.testing.op_test import check_op  # noqa: E402

TF = torch.nn.functional


@st.composite
def conv1d_configs(draw):
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(
        st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, 2, "valid"] + (["same"] if stride == 1 else [])))
    pad = 0 if isinstance(padding, str) else padding
    length = draw(st.integers(max(1, dilation * (k - 1) + 1 - 2 * pad), 6))
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    return dict(x=batch + (cin, length), w=(cout, cin // groups, k), b=(cout,),
                kw=dict(stride=stride, padding=padding, dilation=dilation, groups=groups))


@given(conv1d_configs(), st.booleans())
def test_conv1d(cfg, with_bias):
    kw = cfg["kw"]
    if with_bias:
        check_op(lambda x, w, b: F.conv1d(x, w, b, **kw), [cfg["x"], cfg["w"], cfg["b"]],
                 torch_fn=lambda x, w, b: TF.conv1d(x, w, b, **kw))
    else:
        check_op(lambda x, w: F.conv1d(x, w, **kw), [cfg["x"], cfg["w"]],
                 torch_fn=lambda x, w: TF.conv1d(x, w, **kw))


@st.composite
def transpose2d_configs(draw):
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    pair = st.tuples(st.integers(1, 3), st.integers(1, 3))
    kernel, stride = draw(pair), draw(pair)
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(2))
    size = []
    for k, s, p, op, d in zip(kernel, stride, padding, out_pad, dilation):
        # the smallest input side whose output has at least one element
        low = 1
        while (low - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            low += 1
        size.append(draw(st.integers(low, low + 2)))
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    return dict(x=batch + (cin, *size), w=(cin, cout // groups, *kernel), b=(cout,),
                kw=dict(stride=stride, padding=padding, output_padding=out_pad,
                        groups=groups, dilation=dilation))


@given(transpose2d_configs(), st.booleans())
def test_conv_transpose2d(cfg, with_bias):
    kw = cfg["kw"]
    if with_bias:
        check_op(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
                 [cfg["x"], cfg["w"], cfg["b"]],
                 torch_fn=lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw))
    else:
        check_op(lambda x, w: F.conv_transpose2d(x, w, **kw), [cfg["x"], cfg["w"]],
                 torch_fn=lambda x, w: TF.conv_transpose2d(x, w, **kw))


@pytest.mark.parametrize("kw", [
    dict(), dict(stride=2), dict(stride=3, output_padding=2, padding=1),
    dict(stride=1, dilation=2, output_padding=1), dict(groups=2, dilation=2, stride=2)])
def test_conv_transpose1d(kw):
    out = 3 * kw.get("groups", 1)
    check_op(lambda x, w, b: F.conv_transpose1d(x, w, b, **kw), [(2, 4, 5), (4, 3, 3), (out,)],
             torch_fn=lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw))
    check_op(lambda x, w: F.conv_transpose1d(x, w, **kw), [(4, 5), (4, 3, 3)],
             torch_fn=lambda x, w: TF.conv_transpose1d(x, w, **kw), gradgradcheck=False)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv2d(u, w), v> = <u, conv_transpose2d(v, w)> for the same stride/padding/dilation
    rng = np.random.default_rng(3)
    u, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    kw = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    y = F.conv2d(minidl.tensor(u), minidl.tensor(w), **kw)
    v = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(minidl.tensor(v), minidl.tensor(w), output_padding=(0, 0), **kw)
    assert back.shape == u.shape
    np.testing.assert_allclose((y.cpu().numpy() * v).sum(), (u * back.cpu().numpy()).sum(), rtol=1e-12)


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = draw(shapes(max_dims=4, max_side=4))
        n = draw(st.integers(1, len(shape)))
    else:
        n = draw(st.integers(1, 3))
        shape = draw(shapes(min_dims=n + 1, max_dims=n + 2, max_side=4))
    widths = []
    for k in range(n):
        size = shape[len(shape) - 1 - k]
        # reflect needs pads below the size, circular at most the size; negative pads crop
        top = {"reflect": size - 1, "circular": size}.get(mode, 3)
        # crops leave at least one element: PyTorch raises for an empty result in some
        # modes and ranks and not in others (replicate on (1, 4) by (-2, -2) raises)
        low = 0 if mode == "circular" else -((size - 1) // 2)
        widths += [draw(st.integers(low, max(top, 0))) for _ in range(2)]
    if mode == "reflect":     # a crop leaves the reflection less room: keep it simple
        widths = [max(p, 0) for p in widths]
    return shape, tuple(widths), mode


@given(pad_cases(), st.sampled_from([None, -1.5]))
def test_pad(case, value):
    shape, widths, mode = case
    value = value if mode == "constant" else None
    check_op(lambda x: F.pad(x, widths, mode=mode, value=value), [shape],
             torch_fn=lambda x: TF.pad(x, widths, mode=mode, value=value))


def test_pad_values_by_hand():
    x = minidl.tensor([[[0.0, 1.0, 2.0, 3.0]]])
    assert F.pad(x, (2, 2), mode="reflect").tolist() == [[[2, 1, 0, 1, 2, 3, 2, 1]]]
    assert F.pad(x, (2, 2), mode="replicate").tolist() == [[[0, 0, 0, 1, 2, 3, 3, 3]]]
    assert F.pad(x, (2, 2), mode="circular").tolist() == [[[2, 3, 0, 1, 2, 3, 0, 1]]]
    assert F.pad(x, (-1, 1), value=7.0).tolist() == [[[1, 2, 3, 7]]]


def _err(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_pad_errors():
    x = minidl.zeros(1, 2, 3)
    _err(RuntimeError, "Padding length must be divisible by 2", F.pad, x, (1, 2, 3))
    _err(RuntimeError, "less than or equal to two times the input dimension but got padding "
                       "length 8 and input of dimension 3", F.pad, x, (1,) * 8)
    _err(NotImplementedError, "Unrecognised padding mode foo", F.pad, x, (1, 1), mode="foo")
    _err(RuntimeError, "Padding mode \"reflect\" doesn't take in value argument", F.pad, x,
         (1, 1), mode="reflect", value=1.0)
    _err(NotImplementedError, "Padding size 2 is not supported for 1D input", F.pad,
         minidl.zeros(3), (1, 1), mode="reflect")
    _err(RuntimeError, r"padding \(3, 3\) at dimension 2 of input \[1, 2, 3\]", F.pad, x,
         (3, 3), mode="reflect")
    _err(RuntimeError, "wrapping around more than once", F.pad, x, (4, 0), mode="circular")
    _err(RuntimeError, "removes more than", F.pad, x, (-4, 0))
    # the same exception types as PyTorch
    for args, kwargs in [(((1, 2, 3),), {}), (((3, 3),), {"mode": "reflect"}),
                         (((1, 1),), {"mode": "foo"})]:
        with pytest.raises(Exception) as ours:
            F.pad(x, *args, **kwargs)
        with pytest.raises(Exception) as theirs:
            TF.pad(torch.zeros(1, 2, 3), *args, **kwargs)
        assert ours.type is theirs.type


def test_conv1d_errors():
    x, w = minidl.zeros(1, 4, 3), minidl.zeros(4, 3, 2)
    _err(RuntimeError, r"Given groups=1, weight of size \[4, 3, 2\], expected input\[1, 4, 3\] "
                       r"to have 3 channels, but got 4 channels instead", F.conv1d, x, w)
    _err(RuntimeError, r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d, but got "
                       r"input of size: \[1, 4, 3, 3\]", F.conv1d, minidl.zeros(1, 4, 3, 3), w)
    _err(RuntimeError, r"Kernel size: \(5\). Kernel size can't be greater than actual input",
         F.conv1d, x, minidl.zeros(4, 4, 5))
    _err(RuntimeError, "padding='same' is not supported for strided", F.conv1d, x,
         minidl.zeros(2, 4, 2), stride=2, padding="same")
    _err(RuntimeError, "non-positive stride", F.conv1d, x, minidl.zeros(2, 4, 2), stride=0)
    _err(RuntimeError, "expected stride to be a single integer value or a list of 1 values",
         F.conv1d, x, minidl.zeros(2, 4, 2), stride=(1, 1))
    _err(RuntimeError, "same floating dtype", F.conv1d, x, minidl.zeros(2, 4, 2,
                                                                        dtype=minidl.float64))


def test_conv_transpose_errors():
    x = minidl.zeros(1, 2, 3, 3)
    _err(RuntimeError, r"Given transposed=1, weight of size \[3, 3, 2, 2\], expected "
                       r"input\[1, 2, 3, 3\] to have 3 channels, but got 2 channels instead",
         F.conv_transpose2d, x, minidl.zeros(3, 3, 2, 2))
    _err(RuntimeError, "output padding must be smaller than either stride or dilation, but "
                       "got output_padding_height: 1 output_padding_width: 1 stride_height: 1",
         F.conv_transpose2d, x, minidl.zeros(2, 3, 2, 2), output_padding=1)
    _err(RuntimeError, r"Given input size per channel: \(3 x 3\). Calculated output size per "
                       r"channel: \(-2 x -2\). Output size is too small", F.conv_transpose2d,
         minidl.zeros(1, 4, 3, 3), minidl.zeros(4, 3, 2, 2), padding=3)
    _err(TypeError, "argument 'padding' must be tuple of ints, not str", F.conv_transpose2d,
         x, minidl.zeros(2, 3, 2, 2), padding="same")
    _err(RuntimeError, "expected weight to be divisible by 2 at dimension 0",
         F.conv_transpose2d, minidl.zeros(1, 3, 3, 3), minidl.zeros(3, 3, 2, 2), groups=2)
    _err(RuntimeError, "expected bias to be 1-dimensional with 3 elements",
         F.conv_transpose2d, x, minidl.zeros(2, 3, 2, 2), minidl.zeros(2))
    _err(RuntimeError, "output padding must be smaller", F.conv_transpose1d,
         minidl.zeros(1, 2, 3), minidl.zeros(2, 3, 2), output_padding=1)


def test_numpy_integer_arguments_are_taken_as_torch_takes_them():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 4, 5, 5)), rng.standard_normal((4, 1, 3, 3))
    kw = dict(stride=(np.int64(2), np.int64(1)), padding=np.int64(1), groups=np.int64(2))
    np.testing.assert_allclose(
        F.conv_transpose2d(minidl.tensor(x), minidl.tensor(w), **kw).cpu().numpy(),
        TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw).cpu().numpy(), rtol=1e-12)
    x1, w1 = rng.standard_normal((1, 4, 6)), rng.standard_normal((2, 2, 3))
    kw = dict(stride=np.int64(2), dilation=(np.int64(1),), groups=np.int64(2))
    np.testing.assert_allclose(F.conv1d(minidl.tensor(x1), minidl.tensor(w1), **kw).cpu().numpy(),
                               TF.conv1d(torch.tensor(x1), torch.tensor(w1), **kw).cpu().numpy(),
                               rtol=1e-12)


def test_pad_size_errors():
    x = minidl.zeros(2, 3, 4)
    _err(RuntimeError, "too small for replicate padding", F.pad, x, (-3, -2),
         mode="replicate")
    # PyTorch reads uninitialised memory when a circular pad wraps past what a crop leaves
    _err(RuntimeError, "wraps around more than the 1 elements", F.pad, x, (-3, 2),
         mode="circular")
