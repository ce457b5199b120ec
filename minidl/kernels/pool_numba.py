"""Pooling on the CPU: one fused Numba pass per window, parallel over (sample, channel) planes.

Twins of reference.max_pool2d_forward/backward and avg_pool2d_forward/backward (same
signatures and results). Each window is read once straight from the input, padding is a
bounds check, and max-pooling records the flat index of the winner as it goes: no padded
copy, no temporary per kernel tap.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .reference import pool_output_size


@njit(parallel=True, cache=True)
def _max_pool(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    indices = np.empty((N, C, OH, OW), dtype=np.int64)
    for t in prange(N * C):
        n = t // C
        c = t % C
        plane = x[n, c]
        for oh in range(OH):
            for ow in range(OW):
                best = -np.inf
                best_at = -1
                for i in range(KH):
                    ih = oh * SH + i * DH - PH
                    if ih < 0 or ih >= H:
                        continue
                    for j in range(KW):
                        iw = ow * SW + j * DW - PW
                        if iw < 0 or iw >= W:
                            continue
                        v = plane[ih, iw]
                        # PyTorch's rule: a larger value or a NaN takes the place; ties keep
                        # the first; the first valid position wins if every value is -inf
                        if v > best or np.isnan(v) or best_at < 0:
                            best = v
                            best_at = ih * W + iw
                y[n, c, oh, ow] = best
                indices[n, c, oh, ow] = best_at
    return y, indices


@njit(parallel=True, cache=True)
def _max_pool_backward(grad_y, indices, H, W):
    N, C, OH, OW = grad_y.shape
    grad_x = np.zeros((N, C, H * W), dtype=grad_y.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for oh in range(OH):
            for ow in range(OW):
                at = indices[n, c, oh, ow]
                if at >= 0:          # -1: a window wholly in the padding (its max is -inf)
                    grad_x[n, c, at] += grad_y[n, c, oh, ow]
    return grad_x.reshape(N, C, H, W)


@njit(cache=True)
def _window(o, S, P, K, size):
    """Start and end of a window in the padded input, then clipped to the input."""
    start = o * S - P
    end = min(start + K, size + P)
    return start, end, max(start, 0), min(end, size)


@njit(parallel=True, cache=True)
def _avg_pool(x, KH, KW, SH, SW, PH, PW, OH, OW, count_include_pad, divisor_override):
    N, C, H, W = x.shape
    y = np.empty((N, C, OH, OW), dtype=x.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for oh in range(OH):
            h0, h1, hs, he = _window(oh, SH, PH, KH, H)
            for ow in range(OW):
                w0, w1, ws, we = _window(ow, SW, PW, KW, W)
                total = 0.0
                for ih in range(hs, he):
                    for iw in range(ws, we):
                        total += x[n, c, ih, iw]
                if divisor_override > 0:
                    divisor = divisor_override
                elif count_include_pad:
                    divisor = (h1 - h0) * (w1 - w0)
                else:
                    divisor = (he - hs) * (we - ws)
                y[n, c, oh, ow] = total / divisor
    return y


@njit(parallel=True, cache=True)
def _avg_pool_backward(grad_y, H, W, KH, KW, SH, SW, PH, PW, count_include_pad,
                       divisor_override):
    N, C, OH, OW = grad_y.shape
    grad_x = np.zeros((N, C, H, W), dtype=grad_y.dtype)
    for t in prange(N * C):
        n = t // C
        c = t % C
        for oh in range(OH):
            h0, h1, hs, he = _window(oh, SH, PH, KH, H)
            for ow in range(OW):
                w0, w1, ws, we = _window(ow, SW, PW, KW, W)
                if divisor_override > 0:
                    divisor = divisor_override
                elif count_include_pad:
                    divisor = (h1 - h0) * (w1 - w0)
                else:
                    divisor = (he - hs) * (we - ws)
                share = grad_y[n, c, oh, ow] / divisor
                for ih in range(hs, he):
                    for iw in range(ws, we):
                        grad_x[n, c, ih, iw] += share
    return grad_x


def _out_hw(x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    return (pool_output_size(x_shape[2], kernel_size[0], stride[0], padding[0], dilation[0],
                             ceil_mode),
            pool_output_size(x_shape[3], kernel_size[1], stride[1], padding[1], dilation[1],
                             ceil_mode))


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Same contract as reference.max_pool2d_forward: x (N, C, H, W) -> (y, int64 indices)."""
    OH, OW = _out_hw(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(np.ascontiguousarray(x), kernel_size[0], kernel_size[1], stride[0],
                     stride[1], padding[0], padding[1], dilation[0], dilation[1], OH, OW)


def max_pool2d_backward(grad_y, indices, x_shape):
    """Same contract as reference.max_pool2d_backward: -> grad_x of x_shape."""
    return _max_pool_backward(np.ascontiguousarray(grad_y), np.ascontiguousarray(indices),
                              x_shape[2], x_shape[3])


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override):
    """Same contract as reference.avg_pool2d_forward: x (N, C, H, W) -> y (N, C, OH, OW)."""
    OH, OW = _out_hw(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    return _avg_pool(np.ascontiguousarray(x), kernel_size[0], kernel_size[1], stride[0],
                     stride[1], padding[0], padding[1], OH, OW, bool(count_include_pad),
                     int(divisor_override or 0))


def avg_pool2d_backward(grad_y, x_shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override):
    """Same contract as reference.avg_pool2d_backward: grad_y -> grad_x of x_shape."""
    return _avg_pool_backward(np.ascontiguousarray(grad_y), x_shape[2], x_shape[3],
                              kernel_size[0], kernel_size[1], stride[0], stride[1],
                              padding[0], padding[1], bool(count_include_pad),
                              int(divisor_override or 0))
