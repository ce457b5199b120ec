"""Linear algebra: matmul (all of torch.matmul's cases) and linear."""
from __future__ import annotations

import numpy as np

from ..autograd.function import ArrayFunction, named
from .. import kernels
from ..kernels import reference, threads
from .shape import transpose, unsqueeze, squeeze
from .reduction import sum_array

# The one dispatch point for products. Measured (benchmarks/NOTES.md): NumPy's BLAS wins
# from 16x16x16 up, by 3-4x at 64^3 and more beyond; below that its call overhead loses
# to the serial Numba GEMM (8^3: about 1.1 us against 1.5 us).
NUMBA_GEMM_MAX = 8 * 8 * 8          # M*N*K at or below which the Numba GEMM runs

# With several threads, OpenBLAS threads a product from about 10^6 multiply-adds (0.3.31:
# 917 504 ran on one thread, 1 040 384 on two), and its idle threads then poll for up to
# about 0.1 s on the cores that minidl's convolution shares and Numba's loops need next.
# The three 12.8M products of the SimpleCNN's first Linear layer cost its two-thread step
# 3-8 ms that way (14.0-20.0 ms, against 10.6-11.7 with them on one thread), while two
# threads save each of them 20-30% (about 40 us) when nothing else runs (benchmarks/
# NOTES.md, fifth round). So products between the two bounds run on one BLAS thread.
#
# The choice depends on sizes and the thread count only, never on the clock: one BLAS
# thread and two give different last bits for the same product (a 64x1568 @ 1568x128
# float32 product differs by up to 7e-5), so a rule that looked at how recently minidl's
# own threads had run (it did, until issue 17) made a resumed run differ from an
# uninterrupted one. The upper bound is a judgement, not a measured crossover: 256^3, the
# size from which the matmul benchmark times BLAS's own threading, keeps its threads.
BLAS_SERIAL_MIN = 917_504
BLAS_THREADS_MIN = 1 << 24

_ndarray = np.ndarray        # one global lookup per test in the dispatch, not two


def dispatch_matmul(a, b):
    """a @ b on arrays of at least 2 dims, by the faster of BLAS and the serial Numba GEMM
    for this size, and mid-size products on one BLAS thread (BLAS_SERIAL_MIN,
    BLAS_THREADS_MIN): the same sizes and thread count always take the same path.

    The test order keeps the common case cheap: two NumPy arrays whose left operand has
    more than NUMBA_GEMM_MAX elements go to np.matmul (BLAS) after a few tests.
    """
    if type(a) is _ndarray and type(b) is _ndarray:
        size = a.size
        if (size <= NUMBA_GEMM_MAX and a.ndim == 2 and b.ndim == 2
                and a.shape[0] * a.shape[1] * b.shape[1] <= NUMBA_GEMM_MAX
                and a.dtype == b.dtype and a.dtype.kind == "f" and kernels.numba_enabled()):
            return kernels.numba_kernels("matmul_numba").gemm_serial(
                np.ascontiguousarray(a), np.ascontiguousarray(b))
        # size * b.shape[-1] is M*N*K for 2-D operands: tested first, it lets the small
        # products through after one multiply and one comparison
        if (BLAS_SERIAL_MIN < size * b.shape[-1] < BLAS_THREADS_MIN and a.ndim == 2 == b.ndim
                and threads.get_num_threads() > 1):
            return threads.on_one_blas_thread(np.matmul, a, b)
        return a @ b
    return reference.matmul(a, b)


class MatMulFn(ArrayFunction):
    """C = A @ B for operands of at least 2 dims; batch dims broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)   # what is read
        return dispatch_matmul(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = matmul(grad_out, transpose(b, -2, -1)) if need_a else None   # dC/dA = G B^T
        grad_b = matmul(transpose(a, -2, -1), grad_out) if need_b else None   # dC/dB = A^T G
        return grad_a, grad_b

    @staticmethod
    def backward_arrays(ctx, grad_out):
        a, b = ctx.saved_arrays
        need_a, need_b = ctx.needs_input_grad
        return (dispatch_matmul(grad_out, b.swapaxes(-2, -1)) if need_a else None,
                dispatch_matmul(a.swapaxes(-2, -1), grad_out) if need_b else None)


def _shape_error(a, b):
    return RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                        f"multiplied ({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")


def matmul(a, b):
    """Matrix product with torch.matmul's rules for 1-D, 2-D and batched operands.

    A 1-D left operand is treated as a row (1, K), a 1-D right operand as a column (K, 1),
    and the added dim is removed from the result; batch dims broadcast.
    """
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise _shape_error(a, b)
    if a.dtype != b.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got "
                           f"{a.dtype} and {b.dtype}")
    if a.ndim >= 2 and b.ndim >= 2:
        try:
            return named(MatMulFn.apply(a, b),
                         "MmBackward0" if a.ndim == b.ndim == 2 else "UnsafeViewBackward0")
        except ValueError:
            raise RuntimeError(f"matmul: batch dims of shapes {tuple(a.shape)} and "
                               f"{tuple(b.shape)} are not broadcastable") from None
    a2 = unsqueeze(a, 0) if a.ndim == 1 else a
    b2 = unsqueeze(b, -1) if b.ndim == 1 else b
    out = MatMulFn.apply(a2, b2)
    if b.ndim == 1:
        out = squeeze(out, -1)
    if a.ndim == 1:
        out = squeeze(out, -2 if b.ndim > 1 else -1)
    name = {(1, 1): "DotBackward0", (2, 1): "MvBackward0"}.get((a.ndim, b.ndim))
    return named(out, name or ("SqueezeBackward4" if a.ndim == 1 else "UnsafeViewBackward0"))


def linear(x, weight, bias=None):
    """y = x W^T + b (torch.nn.functional.linear)."""
    if x.shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"linear: input of shape {tuple(x.shape)} has {x.shape[-1]} "
                           f"features, but the weight of shape {tuple(weight.shape)} expects "
                           f"{weight.shape[-1]}")
    if (weight.ndim == 2 and x.dtype == weight.dtype
            and (bias is None or (bias.shape == weight.shape[:1] and bias.dtype == x.dtype))):
        return LinearFn.apply(x, weight, bias)
    # operands the fused op does not take: matmul and add raise their own errors, or
    # broadcast a bias as PyTorch does
    y = matmul(x, transpose(weight, 0, 1))
    return y if bias is None else y + bias


class LinearFn(ArrayFunction):
    """y = x W^T + b for x (*, in), W (out, in), b (out,) or None: one product over the rows
    of x, with the bias added in place to its fresh result (no broadcast-add op)."""

    torch_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        # only what a gradient will read, as PyTorch saves: a frozen or first layer's weight
        # may then change in place (an optimizer step) before this backward runs
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_w else None, w if need_x else None)
        ctx.x_shape = x.shape
        if x.ndim != 2:                   # PyTorch's node: addmm / mm on 2-D input, else a view
            ctx._name = "ViewBackward0" if b is not None else "UnsafeViewBackward0"
        elif b is None:
            ctx._name = "MmBackward0"
        y = dispatch_matmul(x.reshape(-1, w.shape[1]), w.T)
        if b is not None:
            y += b
        return y.reshape(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        x_shape = ctx.x_shape
        rows = grad_out.reshape(-1, grad_out.shape[-1])                       # G, (rows, out)
        grad_x = matmul(rows, w).reshape(x_shape) if need_x else None         # G W
        grad_w = matmul(transpose(rows, 0, 1), x.reshape(-1, x_shape[-1])) \
            if need_w else None                                               # G^T X
        grad_b = rows.sum(0) if need_b else None
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_arrays(ctx, grad_out):
        x, w = ctx.saved_arrays
        need_x, need_w, need_b = ctx.needs_input_grad
        x_shape = ctx.x_shape
        rows = grad_out.reshape(-1, grad_out.shape[-1])
        return (dispatch_matmul(rows, w).reshape(x_shape) if need_x else None,
                dispatch_matmul(rows.T, x.reshape(-1, x_shape[-1])) if need_w else None,
                sum_array(rows, (0,), False) if need_b else None)
