"""Pooling on the CPU: one fused Numba pass per window, parallel over (sample, channel) planes.

Twins of reference.max_pool2d_forward/backward and avg_pool2d_forward/backward (same
signatures and results). Each window is read once straight from the input; which kernel
taps fall inside the input (padding) is computed once per output row and column, so the
window loops hold no bounds checks; max-pooling records the flat index of the winner as it
goes. No padded copy, no temporary per kernel tap. Each kernel is compiled twice (`jit.twins`):
parallel over (sample, channel) planes for large inputs, serial for small ones.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .jit import kernel, pick, twins
from .reference import pool_output_size


PARALLEL_MIN = 1 << 17      # elements; below this one thread is faster


def _pick(compiled, x):
    return pick(compiled, x.size, PARALLEL_MIN)


@kernel
def _taps(O, S, P, D, K, size):
    """For each output position o, the kernel taps [lo, hi) that land inside the input.
    Computed once per call, so the window loops need no bounds checks or divisions."""
    lo = np.empty(O, np.int64)
    hi = np.empty(O, np.int64)
    for o in range(O):
        start = o * S - P
        lo[o] = 0 if start >= 0 else (-start + D - 1) // D
        hi[o] = max(lo[o], min(K, (size - 1 - start) // D + 1)) if size - 1 - start >= 0 \
            else lo[o]
    return lo, hi


def _max_pool_loops(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    indices = np.empty((N, C, OH, OW), dtype=np.int64)
    i_lo, i_hi = _taps(OH, SH, PH, DH, KH, H)
    j_lo, j_hi = _taps(OW, SW, PW, DW, KW, W)
    for t in prange(N * C):
        plane = x[t // C, t % C]
        y_plane = y[t // C, t % C]
        at_plane = indices[t // C, t % C]
        for oh in range(OH):
            h0 = oh * SH - PH
            for ow in range(OW):
                w0 = ow * SW - PW
                best = -np.inf
                best_at = -1          # stays -1 for a window wholly in the padding
                for i in range(i_lo[oh], i_hi[oh]):
                    ih = h0 + i * DH
                    for j in range(j_lo[ow], j_hi[ow]):
                        iw = w0 + j * DW
                        v = plane[ih, iw]
                        # PyTorch's rule: a larger value or a NaN takes the place, ties
                        # keep the first; written as selects, not branches
                        take = (v > best) | (v != v) | (best_at < 0)
                        best = v if take else best
                        best_at = ih * W + iw if take else best_at
                y_plane[oh, ow] = best
                at_plane[oh, ow] = best_at
    return y, indices


def _max_pool_2x2_loops(x, OH, OW):
    """2x2 windows, stride 2, no padding: the usual CNN pooling, with its four taps written
    out. Unrolled, it runs about 7x faster than the general loops (no per-window tap
    ranges, no inner loops of length 2)."""
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    indices = np.empty((N, C, OH, OW), dtype=np.int64)
    for t in prange(N * C):
        plane = x[t // C, t % C]
        for oh in range(OH):
            top = plane[2 * oh]
            bottom = plane[2 * oh + 1]
            y_row = y[t // C, t % C, oh]
            at_row = indices[t // C, t % C, oh]
            for ow in range(OW):
                best = top[2 * ow]
                at = 0
                v = top[2 * ow + 1]
                take = (v > best) | (v != v)      # the same first-max / NaN rule as above
                best = v if take else best
                at = 1 if take else at
                v = bottom[2 * ow]
                take = (v > best) | (v != v)
                best = v if take else best
                at = W if take else at
                v = bottom[2 * ow + 1]
                take = (v > best) | (v != v)
                best = v if take else best
                at = W + 1 if take else at
                y_row[ow] = best
                at_row[ow] = 2 * oh * W + 2 * ow + at
    return y, indices


def _max_pool_backward_loops(grad_y, indices, H, W):
    N, C, OH, OW = grad_y.shape
    grad_x = np.zeros((N, C, H * W), dtype=grad_y.dtype)
    for t in prange(N * C):
        g_plane = grad_x[t // C, t % C]
        for oh in range(OH):
            for ow in range(OW):
                at = indices[t // C, t % C, oh, ow]
                if at >= 0:          # -1: a window wholly in the padding (its max is -inf)
                    g_plane[at] += grad_y[t // C, t % C, oh, ow]
    return grad_x.reshape(N, C, H, W)


@kernel
def _avg_windows(O, S, P, K, size, count_include_pad):
    """Per output position: first and last input index of the window, and its count."""
    lo = np.empty(O, np.int64)
    hi = np.empty(O, np.int64)
    count = np.empty(O, np.int64)
    for o in range(O):
        start = o * S - P
        end = min(start + K, size + P)
        lo[o] = max(start, 0)
        hi[o] = min(end, size)
        count[o] = end - start if count_include_pad else hi[o] - lo[o]
    return lo, hi, count


def _avg_pool_loops(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override):
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    h_lo, h_hi, h_n = _avg_windows(OH, SH, PH, KH, H, count_include_pad)
    w_lo, w_hi, w_n = _avg_windows(OW, SW, PW, KW, W, count_include_pad)
    for t in prange(N * C):
        plane = x[t // C, t % C]
        for oh in range(OH):
            for ow in range(OW):
                total = 0.0
                for ih in range(h_lo[oh], h_hi[oh]):
                    for iw in range(w_lo[ow], w_hi[ow]):
                        total += plane[ih, iw]
                divisor = divisor_override if divisor_override > 0 else h_n[oh] * w_n[ow]
                y[t // C, t % C, oh, ow] = total / divisor
    return y


def _avg_pool_backward_loops(grad_y, H, W, KH, KW, SH, SW, PH, PW, count_include_pad,
                             divisor_override):
    N, C, OH, OW = grad_y.shape
    grad_x = np.zeros((N, C, H, W), dtype=grad_y.dtype)
    h_lo, h_hi, h_n = _avg_windows(OH, SH, PH, KH, H, count_include_pad)
    w_lo, w_hi, w_n = _avg_windows(OW, SW, PW, KW, W, count_include_pad)
    for t in prange(N * C):
        g_plane = grad_x[t // C, t % C]
        for oh in range(OH):
            for ow in range(OW):
                divisor = divisor_override if divisor_override > 0 else h_n[oh] * w_n[ow]
                share = grad_y[t // C, t % C, oh, ow] / divisor
                for ih in range(h_lo[oh], h_hi[oh]):
                    for iw in range(w_lo[ow], w_hi[ow]):
                        g_plane[ih, iw] += share
    return grad_x


_max_pool = twins(_max_pool_loops)
_max_pool_2x2 = twins(_max_pool_2x2_loops)
_max_pool_backward = twins(_max_pool_backward_loops)
_avg_pool = twins(_avg_pool_loops)
_avg_pool_backward = twins(_avg_pool_backward_loops)


def _out_hw(x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    return (pool_output_size(x_shape[2], kernel_size[0], stride[0], padding[0], dilation[0],
                             ceil_mode),
            pool_output_size(x_shape[3], kernel_size[1], stride[1], padding[1], dilation[1],
                             ceil_mode))


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Same contract as reference.max_pool2d_forward: x (N, C, H, W) -> (y, int64 indices)."""
    OH, OW = _out_hw(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    x = np.ascontiguousarray(x)
    if (tuple(kernel_size) == tuple(stride) == (2, 2) and tuple(padding) == (0, 0)
            and tuple(dilation) == (1, 1) and (OH, OW) == (x.shape[2] // 2, x.shape[3] // 2)):
        return _pick(_max_pool_2x2, x)(x, OH, OW)
    return _pick(_max_pool, x)(x, *kernel_size, *stride, *padding, *dilation, OH, OW)


def max_pool2d_backward(grad_y, indices, x_shape):
    """Same contract as reference.max_pool2d_backward: -> grad_x of x_shape."""
    grad_y = np.ascontiguousarray(grad_y)
    return _pick(_max_pool_backward, grad_y)(grad_y, np.ascontiguousarray(indices),
                                             x_shape[2], x_shape[3])


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override):
    """Same contract as reference.avg_pool2d_forward: x (N, C, H, W) -> y (N, C, OH, OW)."""
    OH, OW = _out_hw(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    x = np.ascontiguousarray(x)
    return _pick(_avg_pool, x)(x, *kernel_size, *stride, *padding, OH, OW,
                               bool(count_include_pad), int(divisor_override or 0))


def avg_pool2d_backward(grad_y, x_shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override):
    """Same contract as reference.avg_pool2d_backward: grad_y -> grad_x of x_shape."""
    grad_y = np.ascontiguousarray(grad_y)
    return _pick(_avg_pool_backward, grad_y)(grad_y, x_shape[2], x_shape[3], *kernel_size,
                                             *stride, *padding, bool(count_include_pad),
                                             int(divisor_override or 0))
