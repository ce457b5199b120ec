"""ReLU forward and backward on the CPU: one pass each, parallel over large arrays (Numba).

Twins of `reference.relu_forward` and `reference.relu_backward`, equal to the last bit.
NumPy computes the backward as a comparison into a bool mask and a float-times-bool product
that casts the mask on the way, three passes over memory; this is one, and it splits large
arrays across threads. Each kernel is compiled twice, serial and parallel (`jit.twins`).
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .jit import pick, twins

PARALLEL_MIN = 1 << 16      # elements; below this one thread is faster


def _relu_loops(x, y):
    for i in prange(x.size):
        v = x[i]
        y[i] = v if v > 0 or v != v else 0       # max(x, 0), NaN passes as in np.maximum


def _relu_backward_loops(grad, y, out):
    for i in prange(grad.size):
        # grad * (y > 0), as the NumPy twin computes it: -0.0 and inf * 0 = NaN included
        out[i] = grad[i] * 1.0 if y[i] > 0 else grad[i] * 0.0


_relu = twins(_relu_loops)
_relu_backward = twins(_relu_backward_loops)


def relu_forward(x):
    """Same contract as reference.relu_forward."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    pick(_relu, x.size, PARALLEL_MIN)(x.reshape(-1), y.reshape(-1))
    return y


def relu_backward(grad, y):
    """Same contract as reference.relu_backward."""
    grad, y = np.ascontiguousarray(grad), np.ascontiguousarray(y)
    out = np.empty_like(grad)
    pick(_relu_backward, grad.size, PARALLEL_MIN)(grad.reshape(-1), y.reshape(-1), out.reshape(-1))
    return out


def _softmax_backward_loops(grad, y, out):
    for r in prange(y.shape[0]):
        dot = 0.0
        for j in range(y.shape[1]):
            dot += grad[r, j] * y[r, j]
        for j in range(y.shape[1]):
            out[r, j] = y[r, j] * (grad[r, j] - dot)


_softmax_backward = twins(_softmax_backward_loops)


def softmax_backward_lastdim(grad, y):
    """Same contract as reference.softmax_backward_lastdim: two passes over each row (a dot
    product, then the update) where NumPy makes four over the whole array."""
    n = y.shape[-1]
    g2, y2 = np.ascontiguousarray(grad).reshape(-1, n), np.ascontiguousarray(y).reshape(-1, n)
    out = np.empty_like(y2)
    pick(_softmax_backward, y2.size, PARALLEL_MIN)(g2, y2, out)
    return out.reshape(y.shape)
