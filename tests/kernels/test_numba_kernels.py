"""Every Numba kernel equals its plain-NumPy twin in kernels.reference, over a grid of
shapes, strides, paddings and dilations (odd sizes, 1x1 kernels), float32 and float64,
in both compiled forms (serial and parallel); and the switch between them works."""
import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minidl
from minidl import kernels
from minidl.kernels import reference as ref

pool = pytest.importorskip("minidl.kernels.pool_numba")
conv = pytest.importorskip("minidl.kernels.conv_numba")
mm = pytest.importorskip("minidl.kernels.matmul_numba")
act = pytest.importorskip("minidl.kernels.activation_numba")
loss = pytest.importorskip("minidl.kernels.loss_numba")
optim = pytest.importorskip("minidl.kernels.optim_numba")
red = pytest.importorskip("minidl.kernels.reduce_numba")
from minidl.kernels import threads  # noqa: E402

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}

CONV_CASES = [  # (N, C, H, W, OC, KH, KW, stride, padding, dilation, groups)
    (2, 3, 7, 6, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    (1, 4, 9, 8, 6, 2, 3, (2, 1), (0, 2), (1, 2), 2),
    (3, 6, 5, 5, 6, 1, 1, (1, 1), (0, 0), (1, 1), 6),     # depthwise 1x1
    (2, 2, 4, 4, 3, 3, 3, (2, 2), (1, 1), (1, 1), 1),
    (1, 1, 1, 1, 2, 1, 1, (1, 1), (0, 0), (1, 1), 1),     # 1x1 image, 1x1 kernel
    (2, 5, 11, 7, 4, 5, 3, (3, 2), (2, 1), (2, 1), 1),
    (1, 4, 6, 6, 8, 3, 3, (1, 1), (2, 2), (2, 2), 4),
    (1, 2, 3, 3, 2, 3, 3, (1, 1), (3, 3), (1, 1), 1),     # padding wider than the image
    (1, 1, 1, 3, 1, 2, 3, (1, 1), (50, 1), (100, 1), 1),  # taps wholly in the padding,
    (1, 1, 1, 1, 1, 1, 2, (1, 1), (0, 50), (1, 100), 1),  # padding wider than the output
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_kernels_equal_reference(case, dtype):
    N, C, H, W, OC, KH, KW, s, p, d, g = case
    rng = np.random.default_rng(sum(case[:7]))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((OC, C // g, KH, KW)).astype(dtype)
    cols = conv.im2col(x, (KH, KW), s, p, d)
    np.testing.assert_array_equal(cols, ref.im2col(x, (KH, KW), s, p, d))
    np.testing.assert_allclose(conv.col2im(cols, x.shape, s, p, d),
                               ref.col2im(cols, x.shape, s, p, d), **TOL[dtype])
    y, kept = conv.conv2d_forward(x, w, s, p, d, g, keep_cols=True)
    np.testing.assert_allclose(y, ref.conv2d_forward(x, w, s, p, d, g), **TOL[dtype])
    assert y.dtype == dtype and y.flags.c_contiguous
    b = rng.standard_normal(OC).astype(dtype)
    np.testing.assert_allclose(conv.conv2d_forward(x, w, s, p, d, g, bias=b),
                               ref.conv2d_forward(x, w, s, p, d, g, bias=b), **TOL[dtype])
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(conv.conv2d_backward_input(gy, w, x.shape, s, p, d, g),
                               ref.conv2d_backward_input(gy, w, x.shape, s, p, d, g),
                               **TOL[dtype])
    expected = ref.conv2d_backward_weight(gy, x, w.shape, s, p, d, g)
    np.testing.assert_allclose(conv.conv2d_backward_weight(gy, x, w.shape, s, p, d, g),
                               expected, **TOL[dtype])
    np.testing.assert_allclose(conv.conv2d_backward_weight(gy, x, w.shape, s, p, d, g, kept),
                               expected, **TOL[dtype])


def test_span_stays_within_the_outputs():
    """lo and hi bound the loops that zero the padding, unchecked: a tap wholly in a
    padding wider than the output must give lo = hi = count, not lo > count."""
    assert conv._span(1, 1, -50, 1) == (1, 1)
    assert conv._span(3, 2, -7, 4) == (3, 3)
    assert conv._span(5, 1, -1, 5) == (1, 5)
    assert conv._span(5, 2, 3, 4) == (0, 1)
    assert conv._span(4, 1, 9, 4) == (0, 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 2), st.integers(1, 2), st.integers(0, 4), st.integers(0, 3),
       st.integers(1, 2), st.booleans())
def test_im2col_and_col2im_equal_reference_over_geometries(H, W, KH, KW, SH, DH, PH, PW,
                                                            C, one_pitch):
    """Random geometries; half of them with stride 1 and the width padding that keeps the
    width (OW = W, any dilation), the unfold's one-copy path, including taps with no row
    inside."""
    SW, DW = SH, DH
    if one_pitch:
        SH = SW = 1
        if DW * (KW - 1) % 2:
            KW += 1
        PW = DW * (KW - 1) // 2
    assume(H + 2 * PH >= DH * (KH - 1) + 1 and W + 2 * PW >= DW * (KW - 1) + 1)
    x = np.random.default_rng(H * W + KH).standard_normal((2, C, H, W))
    args = ((KH, KW), (SH, SW), (PH, PW), (DH, DW))
    cols = conv.im2col(x, *args)
    np.testing.assert_array_equal(cols, ref.im2col(x, *args))
    np.testing.assert_allclose(conv.col2im(cols, x.shape, *args[1:]),
                               ref.col2im(cols, x.shape, *args[1:]), rtol=1e-12, atol=1e-12)


@pytest.fixture(params=["serial", "parallel"], autouse=True)
def twin(request, monkeypatch):
    """Run every kernel test both ways: serial (the convolution walked one sample per
    tile), and parallel (the parallel twins of the pooling and activation loops, and the
    convolution's batch split into 3 shares, so that uneven shares and more shares than
    samples are covered, with the default tile size)."""
    parallel = request.param == "parallel"
    threshold = 0 if parallel else 1 << 62
    monkeypatch.setattr(conv, "TILE_BYTES", conv.TILE_BYTES if parallel else 1)
    monkeypatch.setattr(pool, "PARALLEL_MIN", threshold)
    monkeypatch.setattr(act, "PARALLEL_MIN", threshold)
    monkeypatch.setattr(optim, "PARALLEL_MIN", threshold)
    monkeypatch.setattr(red, "PARALLEL_MIN", threshold)
    monkeypatch.setattr(threads._state, "threads", 3 if parallel else 1)
    return request.param


def test_conv_tiles_cover_a_share_in_cache_sized_pieces(monkeypatch):
    cols_shape = (7, 2, 3, 3, 2, 2)                  # 288 float32 bytes a sample
    monkeypatch.setattr(conv, "TILE_BYTES", 600)
    assert conv._tile_size(cols_shape, 4) == 2
    assert conv._tile_size(cols_shape, 8) == 1
    assert conv._tiles(1, 7, 2) == [(1, 3), (3, 5), (5, 7)]
    assert conv._tiles(2, 7, 2) == [(2, 4), (4, 6), (6, 7)]
    assert conv._tiles(0, 0, 2) == []
    monkeypatch.setattr(conv, "TILE_BYTES", 100)     # smaller than a sample: one each
    assert conv._tile_size(cols_shape, 4) == 1


@pytest.mark.parametrize("keep", [False, True])
def test_conv_passes_with_a_partial_last_tile_equal_reference(monkeypatch, keep):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    args = ((1, 1), (1, 1), (1, 1), 1)
    per_sample = 3 * 9 * 6 * 5 * 8
    monkeypatch.setattr(threads._state, "threads", 1)            # one share: 5 samples
    monkeypatch.setattr(conv, "TILE_BYTES", 2 * per_sample)     # tiles of 2, 2 and 1
    out = conv.conv2d_forward(x, w, *args, keep_cols=keep, bias=b)
    y, kept = out if keep else (out, None)
    np.testing.assert_allclose(y, ref.conv2d_forward(x, w, *args, bias=b), **TOL[np.float64])
    if keep:
        np.testing.assert_array_equal(kept, ref.im2col(x, (3, 3), *args[:3]))
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(conv.conv2d_backward_input(gy, w, x.shape, *args),
                               ref.conv2d_backward_input(gy, w, x.shape, *args),
                               **TOL[np.float64])
    np.testing.assert_allclose(conv.conv2d_backward_weight(gy, x, w.shape, *args, cols=kept),
                               ref.conv2d_backward_weight(gy, x, w.shape, *args),
                               **TOL[np.float64])


POOL_CASES = [  # (N, C, H, W, kernel, stride, padding, dilation, ceil_mode)
    (2, 3, 8, 6, (2, 2), (2, 2), (0, 0), (1, 1), False),      # the unrolled 2x2 kernel
    (1, 2, 7, 5, (2, 2), (2, 2), (0, 0), (1, 1), False),      # 2x2, odd sizes: floor
    (1, 2, 7, 5, (2, 2), (2, 2), (0, 0), (1, 1), True),       # 2x2, ceil: general loops
    (2, 3, 7, 6, (2, 2), (2, 2), (0, 0), (1, 1), False),
    (1, 2, 9, 8, (3, 2), (2, 1), (1, 1), (1, 2), True),
    (2, 2, 5, 5, (3, 3), (2, 2), (1, 1), (1, 1), True),
    (1, 1, 4, 4, (1, 1), (1, 1), (0, 0), (1, 1), False),
    (3, 4, 13, 11, (3, 3), (3, 2), (1, 0), (1, 1), True),
    (1, 1, 1, 1, (1, 1), (1, 1), (0, 0), (1, 1), False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_kernels_equal_reference(case, dtype):
    N, C, H, W, k, s, p, d, ceil = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    y, idx = pool.max_pool2d_forward(x, k, s, p, d, ceil)
    y_ref, idx_ref = ref.max_pool2d_forward(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(pool.max_pool2d_backward(gy, idx, x.shape),
                               ref.max_pool2d_backward(gy, idx_ref, x.shape), **TOL[dtype])


def test_max_pool_ties_and_nan_follow_pytorch_rules():
    x = np.array([[[[1.0, 1.0], [np.nan, 0.0]]]])
    y, idx = pool.max_pool2d_forward(x, (1, 2), (1, 2), (0, 0), (1, 1), False)
    assert idx[0, 0, 0, 0] == 0                 # a tie keeps the first
    assert np.isnan(y[0, 0, 1, 0]) and idx[0, 0, 1, 0] == 2      # NaN propagates
    ties = np.array([[[[3.0, 3.0], [3.0, 1.0]], [[0.0, np.nan], [5.0, np.nan]]]])
    y, idx = pool.max_pool2d_forward(ties, (2, 2), (2, 2), (0, 0), (1, 1), False)  # 2x2
    assert idx[0, 0, 0, 0] == 0 and y[0, 0, 0, 0] == 3.0
    assert np.isnan(y[0, 1, 0, 0]) and idx[0, 1, 0, 0] == 3      # the last NaN, as PyTorch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [c for c in POOL_CASES if c[7] == (1, 1)])
@pytest.mark.parametrize("count_include_pad,divisor", [(True, None), (False, None), (True, 3)])
def test_avg_pool_kernels_equal_reference(case, dtype, count_include_pad, divisor):
    N, C, H, W, k, s, p, _, ceil = case
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    args = (k, s, p, ceil, count_include_pad, divisor)
    y = pool.avg_pool2d_forward(x, *args)
    np.testing.assert_allclose(y, ref.avg_pool2d_forward(x, *args), **TOL[dtype])
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(pool.avg_pool2d_backward(gy, x.shape, *args),
                               ref.avg_pool2d_backward(gy, x.shape, *args), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 7, 1000, 70001])
def test_relu_kernels_are_bitwise_their_numpy_twins(size, dtype):
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(dtype)
    x[::7] = 0.0
    x[1::11] = -0.0
    if size > 5:
        x[:4] = [np.nan, np.inf, -np.inf, -np.nan]
    g = rng.standard_normal(size).astype(dtype)
    if size > 5:
        g[4:6] = [np.inf, np.nan]
    y = act.relu_forward(x)
    np.testing.assert_array_equal(y, ref.relu_forward(x))
    assert y.dtype == dtype and y.tobytes() == ref.relu_forward(x).tobytes()   # -0.0 too
    with np.errstate(invalid="ignore"):             # inf * 0 is NaN in both, by design
        np.testing.assert_array_equal(act.relu_backward(g, y), ref.relu_backward(g, y))
        shaped = act.relu_backward(g.reshape(1, -1), y.reshape(1, -1)[:, ::-1])   # strided
        np.testing.assert_array_equal(shaped, ref.relu_backward(g.reshape(1, -1),
                                                                y.reshape(1, -1)[:, ::-1]))


SUM_CASES = [  # (shape, dims): the kernel's two sums, with and without a short last block
    ((70001,), (0,)),
    ((3, 4096), (0, 1)),
    ((2, 3, 4, 5), (0, 1, 2, 3)),
    ((2, 3, 64), (0, 2)),
    ((5, 3, 10, 7), (0, 2, 3)),
    ((2, 3, 4, 4, 4), (0, 2, 3, 4)),
    ((64, 16, 28, 28), (0, 2, 3)),
]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,dims", SUM_CASES)
def test_sum_kernel_is_the_exact_sum_rounded_once(shape, dims, dtype, keepdim):
    # float64 accumulation of at most 10^6 terms in [0, 1): an error far under float32's
    # last bit, so a float32 sum is the exact sum rounded once (NumPy's pairwise float32 sum
    # is 3 ulps off on the largest case)
    x = np.random.default_rng(len(shape)).random(shape).astype(dtype)
    got = red.reduce_sum(x, dims, keepdim)
    want = ref.reduce_sum(x, dims, keepdim)
    assert got.shape == want.shape and got.dtype == want.dtype == dtype
    exact = x.astype(np.float64).sum(axis=dims, keepdims=keepdim)
    if dtype == np.float32:
        np.testing.assert_array_max_ulp(got, exact.astype(np.float32), maxulp=1)
    else:
        np.testing.assert_allclose(got, exact, rtol=1e-13)


def test_sum_kernel_gives_the_same_bits_on_one_thread_and_many(monkeypatch):
    x = np.random.default_rng(1).standard_normal((6, 5, 300)).astype(np.float32)
    results = []
    for threshold in (1 << 62, 0):
        monkeypatch.setattr(red, "PARALLEL_MIN", threshold)
        results.append([red.reduce_sum(x, dims, False).tobytes() for dims in [(0, 1, 2),
                                                                                (0, 2)]])
    assert results[0] == results[1]


@pytest.mark.parametrize("dims", [(0, 1, 2), (0, 2)])
def test_sum_kernel_propagates_inf_and_nan(dims):
    x = np.ones((4, 3, 100))
    x[1, 0, 5] = np.inf
    x[2, 1, 7] = np.nan
    x[0, 2, 1], x[3, 2, 9] = np.inf, -np.inf
    with np.errstate(invalid="ignore"):             # inf - inf: NumPy warns, the kernel not
        np.testing.assert_array_equal(red.reduce_sum(x, dims, False),
                                      ref.reduce_sum(x, dims, False))


@pytest.mark.parametrize("x,dims", [
    (np.ones((4, 200)), (1,)),                                   # another dim
    (np.ones((4, 3, 200))[:, :, ::2], (0, 2)),                    # strided
    (np.ones((4, 3, 200), np.int32), (0, 2)),                     # integer
    (np.ones((4, 3, 5)), (0, 2)),                                 # rows too short to pay
])
def test_other_sums_go_to_the_numpy_twin(monkeypatch, x, dims):
    spy = []
    real = ref.reduce_sum
    monkeypatch.setattr(red.reference, "reduce_sum", lambda *a: spy.append(a) or real(*a))
    got = red.reduce_sum(x, dims, False)
    assert len(spy) == 1
    np.testing.assert_array_equal(got, x.sum(axis=dims))
    assert got.dtype == x.sum(axis=dims).dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,c", [(1, 1), (3, 5), (128, 10), (7, 1000)])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_kernels_equal_reference(n, c, ignore_index, dtype):
    rng = np.random.default_rng(n * c)
    x = (rng.standard_normal((n, c)) * 5).astype(dtype)
    t = rng.integers(0, c, n)
    t[::3] = ignore_index                        # ignored rows, and (index 2) a real class
    if n > 5:
        x[1, 0], x[2, :] = np.inf, -np.inf       # inf logits: NaN rows in both
        x[4, 0], x[5, :] = np.nan, 1e4           # NaN logit; huge equal logits
    with np.errstate(invalid="ignore"):
        got, want = loss.cross_entropy_forward(x, t, ignore_index), \
            ref.cross_entropy_forward(x, t, ignore_index)
        assert got[2:] == want[2:]                                  # kept rows, no bad row
        for a, b in zip((got[0], *got[1]), (want[0], *want[1])):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **TOL[dtype])
        g = rng.standard_normal(n).astype(dtype)
        np.testing.assert_allclose(loss.cross_entropy_backward(x, t, ignore_index, got[1], g),
                                   ref.cross_entropy_backward(x, t, ignore_index, want[1], g),
                                   **TOL[dtype])


def test_cross_entropy_kernels_report_the_first_bad_target():
    x = np.zeros((4, 3), np.float32)
    for impl in (loss, ref):
        assert impl.cross_entropy_forward(x, np.array([0, 3, -1, 2]), -100)[1:] == (None, 0, 1)
        assert impl.cross_entropy_forward(x, np.array([-100, 0, -7, 9]), -100)[3] == 2
        assert impl.cross_entropy_forward(x, np.array([5, 0, 1, 2]), 5)[2:] == (3, -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 7), (65, 257, 130), (128, 64, 513)])
def test_gemm_equals_reference_matmul(m, k, n, dtype):
    rng = np.random.default_rng(m * k * n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(mm.gemm(a, b), ref.matmul(a, b), **tol)


def test_batched_numba_matmul_broadcasts_like_reference():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 1, 3, 4))
    b = rng.standard_normal((5, 4, 2))
    np.testing.assert_allclose(mm.matmul(a, b), ref.matmul(a, b), rtol=1e-12)


def test_for_array_picks_numba_for_numpy_arrays_while_the_kernels_are_on():
    x = np.ones(3)
    assert kernels.for_array(x, "pool_numba") is pool
    with kernels.use_numba(False):
        assert kernels.for_array(x, "pool_numba") is ref
    assert kernels.for_array(np.ma.masked_array(x), "pool_numba") is ref    # not a plain array


def test_use_numba_switch_is_a_context_manager_and_restores():
    assert kernels.numba_enabled()
    with kernels.use_numba(False):
        assert not kernels.numba_enabled()
    assert kernels.numba_enabled()


def test_ops_give_the_same_result_with_and_without_numba():
    rng = np.random.default_rng(5)
    x = minidl.tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    results = []
    for enabled in (True, False):
        with kernels.use_numba(enabled):
            x.grad = w.grad = None
            y = minidl.ops.max_pool2d(minidl.ops.conv2d(x, w, padding=1), 2)
            logits = minidl.ops.relu(y).reshape(2, -1)
            ((y * y).sum() + minidl.ops.cross_entropy(logits, minidl.tensor([3, -100]))
             ).backward()
            results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for fast, plain in zip(*results):
        np.testing.assert_allclose(fast, plain, rtol=1e-11, atol=1e-11)


def test_environment_variable_turns_numba_off():
    code = "import minidl.kernels as k; print(k.numba_enabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"MINIDL_NUMBA": "0", "PATH": ""}, check=True)
    assert out.stdout.strip() == "False"


def test_missing_numba_warns_and_falls_back(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_numba(name, *args, **kwargs):
        if name == "numba":
            raise ImportError("No module named 'numba'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numba)
    monkeypatch.setitem(kernels._state, "available", None)
    with pytest.warns(RuntimeWarning, match="Numba is unavailable"):
        assert not kernels.numba_enabled()
    x = minidl.tensor(np.ones((1, 1, 4, 4)))
    assert minidl.ops.max_pool2d(x, 2).shape == (1, 1, 2, 2)     # plain NumPy kernels run


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (2, 3, 4), (8, 8, 8)])
def test_serial_gemm_and_the_dispatch_agree_with_blas(m, k, n):
    from minidl.ops import linalg
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    np.testing.assert_allclose(mm.gemm_serial(a, b), a @ b, rtol=1e-12)
    assert m * k * n <= linalg.NUMBA_GEMM_MAX          # these go to the Numba GEMM
    np.testing.assert_allclose(linalg.dispatch_matmul(a, b), a @ b, rtol=1e-12)
    big = rng.standard_normal((16, 16))
    np.testing.assert_array_equal(linalg.dispatch_matmul(big, big), big @ big)  # BLAS


def _bits(a):
    return a.view(np.int32 if a.dtype == np.float32 else np.int64)


def _adam_state(dtype, rng, rows: int = 9):
    """p, m, v with the corners of the subnormal shortcuts: first moments stuck at 1-6
    units of the smallest subnormal (both signs), zeros, tiny and huge parameters."""
    unit = np.finfo(dtype).smallest_subnormal
    p = rng.standard_normal((rows, 8)).astype(dtype)
    m = (rng.standard_normal((rows, 8)) * 1e-3).astype(dtype)
    v = np.abs(rng.standard_normal((rows, 8))).astype(dtype) * dtype(1e-4)
    m[0] = unit * np.array([1, 2, 3, 4, 5, 6, -4, -5])     # stuck for beta1=0.9 up to 4
    m[1] = unit * np.array([4, -4, 4, 4, 0, -0.0, 1, 7])
    p[1] = [1e-30, -1e-30, 0, np.inf, -np.inf, np.nan, 3e-26, 1.0]   # small in float32
    m[2] = np.finfo(dtype).smallest_normal * np.array([0.5, 0.99, 1, 2, -0.5, -1, 1e-3, 3])
    v[3, :4] = 0                                            # denominators of eps alone
    v[4, :2] = unit * 3                                     # subnormal second moments
    return p, m, v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay,decoupled,amsgrad,beta1,eps",
                         [(0.0, False, False, 0.9, 1e-8), (0.01, False, True, 0.9, 1e-8),
                          (0.05, True, False, 0.9, 1e-8), (0.0, False, True, 0.5, 1e-8),
                          (0.0, False, False, 0.9, 0.0), (0.05, True, True, 0.99, 1e-6)])
def test_fused_adam_is_bitwise_its_numpy_twin(dtype, weight_decay, decoupled, amsgrad,
                                              beta1, eps):
    rng = np.random.default_rng(4)
    p, m, v = _adam_state(dtype, rng)
    fused = [p.copy(), m.copy(), v.copy()]
    plain = [p.copy(), m.copy(), v.copy()]
    vmax_f = np.abs(rng.standard_normal(p.shape)).astype(dtype) * dtype(1e-4) \
        if amsgrad else None
    vmax_p = None if vmax_f is None else vmax_f.copy()
    for step in range(1, 5):
        g = rng.standard_normal(p.shape).astype(dtype)
        g[:2] = 0                                  # dead units: the stuck moments stay
        g[1, 5] = -0.0
        args = (1e-2, beta1, 0.999, eps, weight_decay, decoupled,
                1e-2 / (1 - beta1 ** step), (1 - 0.999 ** step) ** 0.5)
        optim.adam_update_(fused[0], g, fused[1], fused[2], vmax_f, *args)
        with np.errstate(all="ignore"):           # 0 / 0 where eps = 0 and v = 0
            ref.adam_update_(plain[0], g, plain[1], plain[2], vmax_p, *args)
        for f, q in zip(fused, plain):
            np.testing.assert_array_equal(_bits(f), _bits(q))
        if amsgrad:
            np.testing.assert_array_equal(_bits(vmax_f), _bits(vmax_p))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta1", [0.9, 0.5, 0.75, 0.99])
def test_adam_stuck_moments_are_where_the_formula_stops(dtype, beta1):
    unit = np.finfo(dtype).smallest_subnormal
    m_stuck = optim._skips(np.dtype(dtype), 1 - beta1, 1e-3, 1e-8)[0]
    c = dtype(1 - beta1)
    m = (np.arange(1, 300) * unit).astype(dtype)
    with np.errstate(under="ignore"):
        unchanged = (m + c * (dtype(0) - m)) == m          # the formula, as NumPy rounds it
    np.testing.assert_array_equal(unchanged, m <= dtype(m_stuck))
    assert m_stuck > 0                              # every one of these betas sticks somewhere
    if beta1 == 0.9:
        assert m_stuck == (4 if dtype == np.float32 else 5) * unit    # 1 - 0.9 rounds lower
    if beta1 == 0.5:
        assert m_stuck == unit                      # c * 1 unit is half a unit: a tie, to 0
    assert optim._skips(np.dtype(dtype), 0.0, 1e-3, 1e-8)[0] == 0     # beta1 = 1: no shortcut


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_step_skip_bound(dtype):
    """P_MIN: a step from |m| < smallest normal, with denominator >= eps, cannot move a
    larger |p|; and no eps, no bound."""
    p_min = optim._skips(np.dtype(dtype), 0.1, 1e-3, 1e-8)[1]
    step = dtype(1e-3) * (dtype(np.finfo(dtype).smallest_normal) / dtype(1e-8))
    p = dtype(p_min) * dtype(1.0001)
    assert p - step == p and -p + step == -p
    assert optim._skips(np.dtype(dtype), 0.1, 1e-3, 0.0)[1] == np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_near_the_skip_bound_is_bitwise_its_twin(dtype):
    """Parameters from far below to above P_MIN, with the largest subnormal m and v = 0
    (the largest possible step from a subnormal m): a P_MIN too small by 2^3 or more makes
    the skipped steps differ."""
    info = np.finfo(dtype)
    step_size, eps = 1e-2 / (1 - 0.9), 1e-8
    p_min = optim._skips(np.dtype(dtype), 0.1, step_size, eps)[1]
    factors = np.array([2.0 ** -k for k in range(1, 40)] + [0.99, 1.01, 2, 4, 1e3])
    p = (np.concatenate([factors, -factors]) * p_min).astype(dtype)
    g = np.zeros_like(p)
    m = np.full_like(p, info.smallest_normal - info.smallest_subnormal)  # largest subnormal
    m[::2] *= -1
    fused = [p.copy(), m.copy(), np.zeros_like(p)]
    plain = [a.copy() for a in fused]
    args = (1e-2, 0.9, 0.999, eps, 0.0, False, step_size, (1 - 0.999) ** 0.5)
    optim.adam_update_(fused[0], g, fused[1], fused[2], None, *args)
    with np.errstate(all="ignore"):
        ref.adam_update_(plain[0], g, plain[1], plain[2], None, *args)
    for f, q in zip(fused, plain):
        np.testing.assert_array_equal(_bits(f), _bits(q))
    assert (plain[0] != p).any()                    # some of these steps do move p


_TWINS = """
import sys
import numpy as np
from numba import prange
from minidl.kernels.jit import twins

def _loops(out):
    for i in prange(out.size):
        out[i] = 2 * i

parallel, serial = twins(_loops)
out = np.zeros(1 << 12, np.int64)
order = [serial, parallel] if sys.argv[1] == "serial-first" else [parallel, serial]
for f in order:
    out[:] = 0
    f(out)
    assert (out == 2 * np.arange(out.size)).all()
"""


@pytest.mark.parametrize("order", ["serial-first", "parallel-first"])
def test_twins_are_cached_apart(order, tmp_path):
    """Numba's cache keys a function by name and bytecode, not by its options, so the
    twins of one function must be cached under two names, or the second would load the
    first one's machine code (one process compiles both, a second loads both)."""
    import os
    import subprocess
    pytest.importorskip("numba")
    (tmp_path / "twins_case.py").write_text(_TWINS)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):
        subprocess.run([sys.executable, str(tmp_path / "twins_case.py"), order],
                       capture_output=True, text=True, env=env, check=True)
    index = sorted(p.name.split("-")[0] for p in (tmp_path / "cache").rglob("*.nbi"))
    assert index == ["twins_case._loops", "twins_case._loops_parallel"]

