"""Convolution on the CPU: Numba im2col/col2im around the same BLAS GEMMs as the reference.

Twins of `reference.im2col`, `col2im` and the three conv2d passes: same signatures, same
column layout (N, C, KH, KW, OH, OW), same results. The GEMMs are NumPy's BLAS in both;
Numba replaces the unfolding, which the reference does with a padded copy of the input and
one strided slice copy per kernel tap (rows of only OW elements, where NumPy's per-row
overhead dominates):
- padding is never materialised: which output rows and columns of a tap fall inside the
  input is computed once per tap (`_span`), so the copy loops hold no bounds checks;
- the arrays are indexed flat, through unsigned indices: with a signed index Numba must
  check for negative (wrap-around) indices on every access, and that check alone made the
  earlier versions of these loops 2-4x slower than NumPy (benchmarks/NOTES.md).
On the SimpleCNN shapes this unfolds 2x faster and folds 4-5x faster than the reference.
The loops are serial: a parallel build measured no faster on these memory-bound copies.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uint64

from . import reference
from .reference import conv_output_size


@njit(cache=True)
def _span(count, S, off, size):
    """The outputs o in [lo, hi) whose tap position o*S + off lies inside [0, size)."""
    lo = 0 if off >= 0 else (-off + S - 1) // S
    hi = 0 if size - 1 - off < 0 else min(count, (size - 1 - off) // S + 1)
    return lo, max(lo, hi)


@njit(cache=True)
def _im2col(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    N, C, H, W = x.shape
    cols = np.empty(N * C * KH * KW * OH * OW, dtype=x.dtype)
    flat = x.reshape(-1)
    for t in range(N * C):                      # one (sample, channel) plane at a time
        plane = t * H * W
        for i in range(KH):
            oh_lo, oh_hi = _span(OH, SH, i * DH - PH, H)
            for j in range(KW):
                ow_lo, ow_hi = _span(OW, SW, j * DW - PW, W)
                tap = ((t * KH + i) * KW + j) * OH * OW
                for oh in range(OH):
                    out = tap + oh * OW
                    if oh < oh_lo or oh >= oh_hi:          # a row of padding
                        for ow in range(OW):
                            cols[uint64(out + ow)] = 0
                        continue
                    src = plane + (oh * SH + i * DH - PH) * W + j * DW - PW
                    for ow in range(ow_lo):
                        cols[uint64(out + ow)] = 0
                    for ow in range(ow_lo, ow_hi):
                        cols[uint64(out + ow)] = flat[uint64(src + ow * SW)]
                    for ow in range(ow_hi, OW):
                        cols[uint64(out + ow)] = 0
    return cols.reshape(N, C, KH, KW, OH, OW)


@njit(cache=True)
def _col2im(cols, H, W, SH, SW, PH, PW, DH, DW):
    N, C, KH, KW, OH, OW = cols.shape
    x = np.zeros(N * C * H * W, dtype=cols.dtype)
    flat = cols.reshape(-1)
    for t in range(N * C):
        plane = t * H * W
        for i in range(KH):
            oh_lo, oh_hi = _span(OH, SH, i * DH - PH, H)
            for j in range(KW):
                ow_lo, ow_hi = _span(OW, SW, j * DW - PW, W)
                tap = ((t * KH + i) * KW + j) * OH * OW
                for oh in range(oh_lo, oh_hi):
                    dst = plane + (oh * SH + i * DH - PH) * W + j * DW - PW
                    src = tap + oh * OW
                    for ow in range(ow_lo, ow_hi):
                        x[uint64(dst + ow * SW)] += flat[uint64(src + ow)]
    return x.reshape(N, C, H, W)


def im2col(x, kernel_size, stride, padding, dilation):
    """Same contract as reference.im2col: x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW)."""
    KH, KW = kernel_size
    OH = conv_output_size(x.shape[2], KH, stride[0], padding[0], dilation[0])
    OW = conv_output_size(x.shape[3], KW, stride[1], padding[1], dilation[1])
    return _im2col(np.ascontiguousarray(x), KH, KW, *stride, *padding, *dilation, OH, OW)


def col2im(cols, x_shape, stride, padding, dilation):
    """Same contract as reference.col2im: cols (N, C, KH, KW, OH, OW) -> x of x_shape."""
    return _col2im(np.ascontiguousarray(cols), x_shape[2], x_shape[3], *stride, *padding,
                   *dilation)


def conv2d_forward(x, w, stride, padding, dilation, groups, keep_cols: bool = False):
    """Same contract as reference.conv2d_forward."""
    cols = im2col(x, tuple(w.shape[2:]), stride, padding, dilation)
    y = reference.conv2d_gemm(cols, w, groups)
    return (y, cols) if keep_cols else y


def conv2d_backward_input(grad_y, w, x_shape, stride, padding, dilation, groups):
    """Same contract as reference.conv2d_backward_input."""
    cols = reference.conv2d_gemm_input(grad_y, w, groups)
    return col2im(cols, x_shape, stride, padding, dilation)


def conv2d_backward_weight(grad_y, x, w_shape, stride, padding, dilation, groups, cols=None):
    """Same contract as reference.conv2d_backward_weight."""
    if cols is None:
        cols = im2col(x, tuple(w_shape[2:]), stride, padding, dilation)
    return reference.conv2d_gemm_weight(grad_y, cols, w_shape, groups)
