"""Convolution on the CPU: Numba im2col/col2im feeding one large BLAS GEMM per pass.

Twins of `reference.conv2d_forward`, `conv2d_backward_input` and `conv2d_backward_weight`
(same signatures, same results). What differs is the layout: here the columns are "rows"
of shape (N * OH * OW, C * KH * KW), one row per output pixel, built in parallel by Numba
with the zero padding folded into bounds checks (no padded copy of the input). Then each
pass is a single large GEMM, which BLAS runs near its peak, instead of N small ones:

    forward          y_rows   (N*P, OC) = cols (N*P, K) @ W^T (K, OC)
    backward input   dcols    (N*P, K)  = g_rows (N*P, OC) @ W (OC, K)   -> col2im
    backward weight  grad_W   (OC, K)   = g_rows^T (OC, N*P) @ cols (N*P, K)

with P = OH * OW and K = C/groups * KH * KW per group. y_rows is NHWC; one transpose
turns it into NCHW (it is OC/K times smaller than the columns).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .reference import conv_output_size


@njit(parallel=True, cache=True)
def im2col_rows(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """cols[(n*OH + oh)*OW + ow, (c*KH + i)*KW + j] = x[n, c, oh*SH + i*DH - PH, ow*SW + j*DW - PW]
    (zero outside x).  Shapes: x (N, C, H, W) -> cols (N*OH*OW, C*KH*KW)."""
    N, C, H, W = x.shape
    K = C * KH * KW
    cols = np.empty((N * OH * OW, K), dtype=x.dtype)
    for t in prange(N * OH):
        n = t // OH
        oh = t % OH
        for ow in range(OW):
            row = cols[t * OW + ow]
            for c in range(C):
                for i in range(KH):
                    ih = oh * SH + i * DH - PH
                    base = (c * KH + i) * KW
                    if ih < 0 or ih >= H:
                        for j in range(KW):
                            row[base + j] = 0
                        continue
                    for j in range(KW):
                        iw = ow * SW + j * DW - PW
                        row[base + j] = x[n, c, ih, iw] if 0 <= iw < W else 0
    return cols


@njit(parallel=True, cache=True)
def col2im_rows(cols, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    """The adjoint of im2col_rows: add every column entry back onto its input pixel.
    Shapes: cols (N*OH*OW, C*KH*KW) -> x (N, C, H, W). Parallel over samples, so no two
    threads ever add into the same pixel."""
    x = np.zeros((N, C, H, W), dtype=cols.dtype)
    for n in prange(N):
        for oh in range(OH):
            for ow in range(OW):
                row = cols[(n * OH + oh) * OW + ow]
                for c in range(C):
                    for i in range(KH):
                        ih = oh * SH + i * DH - PH
                        if ih < 0 or ih >= H:
                            continue
                        base = (c * KH + i) * KW
                        for j in range(KW):
                            iw = ow * SW + j * DW - PW
                            if 0 <= iw < W:
                                x[n, c, ih, iw] += row[base + j]
    return x


def _geometry(x_shape, w_shape, stride, padding, dilation):
    KH, KW = w_shape[2], w_shape[3]
    OH = conv_output_size(x_shape[2], KH, stride[0], padding[0], dilation[0])
    OW = conv_output_size(x_shape[3], KW, stride[1], padding[1], dilation[1])
    return (KH, KW, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1],
            OH, OW)


def _nhwc_rows(a):
    """(N, C, H, W) -> a contiguous (N*H*W, C) matrix."""
    N, C, H, W = a.shape
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(N * H * W, C)


def conv2d_forward(x, w, stride, padding, dilation, groups):
    """Same contract as reference.conv2d_forward: x (N, C, H, W), w (OC, C/groups, KH, KW)
    -> y (N, OC, OH, OW)."""
    N = x.shape[0]
    OC = w.shape[0]
    geo = _geometry(x.shape, w.shape, stride, padding, dilation)
    OH, OW = geo[-2], geo[-1]
    cols = im2col_rows(np.ascontiguousarray(x), *geo)
    w2 = w.reshape(OC, -1)
    if groups == 1:
        y_rows = cols @ w2.T
    else:
        K, OCg = w2.shape[1], OC // groups
        y_rows = np.empty((cols.shape[0], OC), dtype=x.dtype)
        for g in range(groups):
            y_rows[:, g * OCg:(g + 1) * OCg] = cols[:, g * K:(g + 1) * K] @ \
                w2[g * OCg:(g + 1) * OCg].T
    return np.ascontiguousarray(y_rows.reshape(N, OH, OW, OC).transpose(0, 3, 1, 2))


def conv2d_backward_input(grad_y, w, x_shape, stride, padding, dilation, groups):
    """Same contract as reference.conv2d_backward_input: grad_y (N, OC, OH, OW) -> grad_x."""
    N, C, H, W = x_shape
    OC = w.shape[0]
    geo = _geometry(x_shape, w.shape, stride, padding, dilation)
    g_rows = _nhwc_rows(grad_y)
    w2 = w.reshape(OC, -1)
    if groups == 1:
        dcols = g_rows @ w2
    else:
        K, OCg = w2.shape[1], OC // groups
        dcols = np.empty((g_rows.shape[0], K * groups), dtype=grad_y.dtype)
        for g in range(groups):
            dcols[:, g * K:(g + 1) * K] = g_rows[:, g * OCg:(g + 1) * OCg] @ \
                w2[g * OCg:(g + 1) * OCg]
    return col2im_rows(dcols, N, C, H, W, *geo)


def conv2d_backward_weight(grad_y, x, w_shape, stride, padding, dilation, groups):
    """Same contract as reference.conv2d_backward_weight: -> grad_w (OC, C/groups, KH, KW)."""
    OC = w_shape[0]
    geo = _geometry(x.shape, w_shape, stride, padding, dilation)
    cols = im2col_rows(np.ascontiguousarray(x), *geo)
    g_rows = _nhwc_rows(grad_y)
    if groups == 1:
        grad_w = g_rows.T @ cols
    else:
        K = cols.shape[1] // groups
        OCg = OC // groups
        grad_w = np.empty((OC, K), dtype=grad_y.dtype)
        for g in range(groups):
            grad_w[g * OCg:(g + 1) * OCg] = g_rows[:, g * OCg:(g + 1) * OCg].T @ \
                cols[:, g * K:(g + 1) * K]
    return grad_w.reshape(w_shape)
