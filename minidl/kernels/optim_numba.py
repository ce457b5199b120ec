"""Optimizer updates fused into one pass over each parameter (Numba).

Twin of `reference.adam_update_`: the same formula, in the same order of operations, with
every scalar rounded to the parameter's dtype exactly as NumPy rounds a Python float
meeting a float32 array, so the result is the same to the last bit. What changes is that
each element is read and written once instead of once per NumPy statement (about ten
passes over every parameter), and large parameters are split across threads (`jit.twins`):
the update of each element is independent, so the split changes no bit.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .jit import pick, twins

# elements; below this one thread is faster. In isolation two threads already win at 10^5
# elements (36 against 66 us), but in a training step the update follows the backward's
# BLAS products, whose OpenBLAS threads go on spinning for a while: a two-thread update of
# the MLP's 100 480 weights right after one ran 2.5x slower than on one thread, and the
# two-thread MLP step took 1.35 ms with it against 1.04 without (benchmarks/NOTES.md).
PARALLEL_MIN = 1 << 20


def _adam_loops(p, g, m, v, v_max, amsgrad, decoupled, scalars):
    decay, weight_decay, one_minus_beta1, beta2 = scalars[0], scalars[1], scalars[2], scalars[3]
    one_minus_beta2, eps, step_size, bias_correction2_sqrt = \
        scalars[4], scalars[5], scalars[6], scalars[7]
    for i in prange(p.size):
        gi = g[i]
        if weight_decay != 0:
            if decoupled:                         # AdamW: shrink the weight itself
                p[i] *= decay
            else:                                 # Adam: L2 added to the gradient
                gi = gi + weight_decay * p[i]
        m[i] += one_minus_beta1 * (gi - m[i])
        v[i] *= beta2
        v[i] += one_minus_beta2 * gi * gi
        vi = v[i]
        if amsgrad:
            if vi > v_max[i] or vi != vi:     # NumPy's maximum: NaN wins
                v_max[i] = vi
            vi = v_max[i]
        p[i] -= step_size * (m[i] / (np.sqrt(vi) / bias_correction2_sqrt + eps))


_adam = twins(_adam_loops)


def adam_update_(p, g, m, v, v_max, lr, beta1, beta2, eps, weight_decay, decoupled,
                 step_size, bias_correction2_sqrt):
    """Same contract as reference.adam_update_, for C-contiguous NumPy arrays of one float
    dtype (updated in place through flat views)."""
    # the scalars travel as one small array of p's dtype: each rounded as np.float32(x)
    # would round it, and one argument for Numba to type instead of eight
    scalars = np.array([1 - lr * weight_decay, weight_decay, 1 - beta1, beta2, 1 - beta2, eps,
                        step_size, bias_correction2_sqrt], p.dtype)
    v_flat = v.reshape(-1)
    amsgrad = v_max is not None
    pick(_adam, p.size, PARALLEL_MIN)(
        p.reshape(-1), np.ascontiguousarray(g).reshape(-1), m.reshape(-1), v_flat,
        v_max.reshape(-1) if amsgrad else v_flat, amsgrad, bool(decoupled), scalars)
