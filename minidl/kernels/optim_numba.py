"""Optimizer updates fused into one pass over each parameter (Numba).

Twin of `reference.adam_update_`: the same formula, in the same order of operations, with
every scalar rounded to the parameter's dtype exactly as NumPy rounds a Python float
meeting a float32 array, so the result is the same to the last bit. What changes is that
each element is read and written once instead of once per NumPy statement (about ten
passes over every parameter).
"""
from __future__ import annotations

import numpy as np

from .jit import kernel


@kernel
def _adam(p, g, m, v, v_max, amsgrad, decoupled, decay, weight_decay, one_minus_beta1,
          beta2, one_minus_beta2, eps, step_size, bias_correction2_sqrt):
    for i in range(p.size):
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
        p[i] -= step_size * m[i] / (np.sqrt(vi) / bias_correction2_sqrt + eps)


def adam_update_(p, g, m, v, v_max, lr, beta1, beta2, eps, weight_decay, decoupled,
                 step_size, bias_correction2_sqrt):
    """Same contract as reference.adam_update_, for C-contiguous NumPy arrays of one float
    dtype (updated in place through flat views)."""
    t = p.dtype.type
    flat = [a.reshape(-1) for a in (p, np.ascontiguousarray(g), m, v)]
    amsgrad = v_max is not None
    _adam(*flat, v_max.reshape(-1) if amsgrad else flat[3], amsgrad, bool(decoupled),
          t(1 - lr * weight_decay),
          t(weight_decay), t(1 - beta1), t(beta2), t(1 - beta2), t(eps), t(step_size),
          t(bias_correction2_sqrt))
