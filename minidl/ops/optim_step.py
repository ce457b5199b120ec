"""In-place optimizer updates on parameter arrays (no graph is recorded).

The one dispatch point between the fused Numba update (kernels.optim_numba) and its
plain-NumPy twin (kernels.reference), which give bit-identical results; optimizers call
these instead of reaching into kernels.
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..kernels import reference


def _fusable(arrays) -> bool:
    """C-contiguous NumPy arrays of one float dtype, with the Numba kernels on."""
    dtype = arrays[0].dtype
    if dtype.kind != "f" or not kernels.numba_enabled():
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return True


def adam_update_(p, g, m, v, v_max, *, lr: float, beta1: float, beta2: float, eps: float,
                 weight_decay: float, decoupled: bool, step: int) -> None:
    """Apply one Adam/AdamW step to the arrays p, m, v (and v_max for amsgrad) in place.

    g is the gradient (negated by the caller for `maximize`); `step` counts from 1.
    """
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    arrays = (p, g, m, v) if v_max is None else (p, g, m, v, v_max)
    impl = kernels.numba_kernels("optim_numba") if _fusable(arrays) else reference
    impl.adam_update_(p, g, m, v, v_max, lr, beta1, beta2, eps, weight_decay, decoupled,
                      step_size, bias_correction2_sqrt)
