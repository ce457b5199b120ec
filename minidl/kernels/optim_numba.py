"""Optimizer updates fused into one pass over each parameter (Numba).

Twin of `reference.adam_update_`: the same formula, in the same order of operations, with
every scalar rounded to the parameter's dtype exactly as NumPy rounds a Python float
meeting a float32 array, so the result is the same to the last bit. What changes is that
each element is read and written once instead of once per NumPy statement (about ten
passes over every parameter), and large parameters are split across threads (`jit.twins`):
the update of each element is independent, so the split changes no bit.

Subnormal moments. A unit that stops receiving gradient (a dead ReLU) leaves its first
moments decaying by beta1 each step into the subnormal range, and there they stop: once
(1 - beta1) * m is below half the smallest subnormal it rounds to zero, and m + 0 is m
(for beta1 = 0.9 that is m = 4 x 2^-149 in float32, some 900 steps after the unit died).
On x86 an arithmetic instruction that reads or makes a subnormal takes a microcode assist
of the order of a hundred cycles: in the MLP benchmark after 2 000 steps, 66% of the first
layer's moments sat there, and its update took 1.35 ms instead of 76 us. The kernel
therefore skips, bit-exactly, the two pieces of arithmetic whose result is known:
- m where g = 0 and |m| <= M_STUCK (the largest m whose (1 - beta1) * m rounds to zero)
  stays m, as the formula would leave it;
- the step of a parameter whose m is subnormal is computed from m = 0 when it cannot
  change p anyway (|p| > P_MIN: the step is then below a quarter of an ulp of p, so
  p - step rounds back to p).
Both are tests and selects, which vectorise; `_skips` derives the two bounds, and the
tests compare against the plain formula bit for bit (benchmarks/NOTES.md has the
figures). Moments that are still decaying through the subnormal range, and second moments
(which take about 80 000 steps to get there), still pay the assists, as in PyTorch.
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np
from numba import prange

from .jit import kernel, pick, twins

# elements; below this one thread is faster. In isolation two threads already win at 10^5
# elements (36 against 66 us), but in a training step the update follows the backward's
# BLAS products, whose OpenBLAS threads go on spinning for a while: a two-thread update of
# the MLP's 100 480 weights right after one ran 2.5x slower than on one thread, and the
# two-thread MLP step took 1.35 ms with it against 1.04 without (benchmarks/NOTES.md).
PARALLEL_MIN = 1 << 20


@kernel
def _decayed(pi, gi, decay, weight_decay, decoupled):
    """(p, g) after weight decay: AdamW shrinks the weight, Adam adds L2 to the gradient."""
    if weight_decay != 0:
        if decoupled:
            pi = pi * decay
        else:
            gi = gi + weight_decay * pi
    return pi, gi


# `zero` below is a 0 of the parameter's dtype, passed in: a literal 0.0 is a float64 in
# Numba, and a select between it and a float32 would compute the rest in float64.
@kernel
def _first_moment(mi, gi, one_minus_beta1, m_stuck, m_stuck_again, zero):
    """m + (1 - beta1) * (g - m), computed from 0 where it is known to leave m as it is
    (not m = -0, which the formula turns into +0). The second test reads its bound from
    another argument, equal to the first: given one condition twice, LLVM merges the two
    selects and computes from the subnormal m after all (418 against 20 us)."""
    m_in = zero if (gi == 0) & (abs(mi) <= m_stuck) & (mi != 0) else mi
    m_new = m_in + one_minus_beta1 * (gi - m_in)
    return mi if (gi == 0) & (abs(mi) <= m_stuck_again) & (mi != 0) else m_new


@kernel
def _stepped(pi, mi, vi, step_size, bias_correction2_sqrt, eps, smallest_normal, p_min,
             zero):
    """p - step_size * m / (sqrt(v) / bias_correction2_sqrt + eps) (PyTorch's addcdiv);
    a step from a subnormal m that cannot move p is computed from 0 instead."""
    m_step = zero if (abs(mi) < smallest_normal) & (abs(pi) > p_min) else mi
    return pi - step_size * (m_step / (np.sqrt(vi) / bias_correction2_sqrt + eps))


def _adam_loops(p, g, m, v, v_max, amsgrad, decoupled, scalars):
    decay, weight_decay, one_minus_beta1, beta2 = scalars[0], scalars[1], scalars[2], scalars[3]
    one_minus_beta2, eps, step_size, bias_correction2_sqrt = \
        scalars[4], scalars[5], scalars[6], scalars[7]
    m_stuck, m_stuck_again, smallest_normal, p_min, zero = \
        scalars[8], scalars[9], scalars[10], scalars[11], scalars[12]
    # two copies of the loop, so that each is straight-line code that LLVM vectorises: with
    # the amsgrad test inside one loop it did not, once the loop had grown the selects
    if amsgrad:
        for i in prange(p.size):
            pi, gi = _decayed(p[i], g[i], decay, weight_decay, decoupled)
            mi = _first_moment(m[i], gi, one_minus_beta1, m_stuck, m_stuck_again, zero)
            vi = v[i] * beta2 + one_minus_beta2 * gi * gi
            m[i], v[i] = mi, vi
            vm = v_max[i]
            vm = vi if (vi > vm) | (vi != vi) else vm       # NumPy's maximum: NaN wins
            v_max[i] = vm
            p[i] = _stepped(pi, mi, vm, step_size, bias_correction2_sqrt, eps,
                            smallest_normal, p_min, zero)
    else:
        for i in prange(p.size):
            pi, gi = _decayed(p[i], g[i], decay, weight_decay, decoupled)
            mi = _first_moment(m[i], gi, one_minus_beta1, m_stuck, m_stuck_again, zero)
            vi = v[i] * beta2 + one_minus_beta2 * gi * gi
            m[i], v[i] = mi, vi
            p[i] = _stepped(pi, mi, vi, step_size, bias_correction2_sqrt, eps,
                            smallest_normal, p_min, zero)


@functools.lru_cache(maxsize=64)
def _m_stuck(dtype, one_minus_beta1: float) -> float:
    """M_STUCK of the module docstring: K units, K the largest integer with c * K <= 1/2
    (c = 1 - beta1 as the dtype holds it), so that c * m rounds to zero (half a unit is a
    tie, which rounds to the even 0). Exact rational arithmetic, cached: a Fraction costs
    tens of microseconds, and this runs per parameter per step."""
    info = np.finfo(dtype)
    c = Fraction(float(dtype.type(one_minus_beta1)))
    k = 0 if c <= 0 else min(math.floor(Fraction(1, 2) / c), 2 ** info.nmant - 1)
    return k * float(info.smallest_subnormal)


def _skips(dtype, one_minus_beta1, step_size, eps) -> tuple:
    """(M_STUCK, P_MIN) of the module docstring for these scalars, as Python floats.

    P_MIN bounds |p| from below so that the step step_size * (m / denom), with |m| below
    the smallest normal and denom >= eps, is below a quarter of an ulp of p, the rounding of
    the division and the product included."""
    info = np.finfo(dtype)
    unit, normal = float(info.smallest_subnormal), float(info.smallest_normal)
    step, eps = float(dtype.type(step_size)), float(dtype.type(eps))
    m_stuck = _m_stuck(dtype, one_minus_beta1)
    if not (eps > 0 and math.isfinite(step)):
        return m_stuck, math.inf                   # no bound on the step: never skip it
    return m_stuck, (abs(step) * (normal / eps + unit) + unit) * 2.0 ** (info.nmant + 4)


_adam = twins(_adam_loops)


def adam_update_(p, g, m, v, v_max, lr, beta1, beta2, eps, weight_decay, decoupled,
                 step_size, bias_correction2_sqrt):
    """Same contract as reference.adam_update_, for C-contiguous NumPy arrays of one float
    dtype (updated in place through flat views)."""
    # the scalars travel as one small array of p's dtype: each rounded as np.float32(x)
    # would round it, and one argument for Numba to type instead of eight
    m_stuck, p_min = _skips(p.dtype, 1 - beta1, step_size, eps)
    scalars = np.array([1 - lr * weight_decay, weight_decay, 1 - beta1, beta2, 1 - beta2, eps,
                        step_size, bias_correction2_sqrt, m_stuck, m_stuck,
                        np.finfo(p.dtype).smallest_normal, p_min, 0], p.dtype)
    v_flat = v.reshape(-1)
    amsgrad = v_max is not None
    pick(_adam, p.size, PARALLEL_MIN)(
        p.reshape(-1), np.ascontiguousarray(g).reshape(-1), m.reshape(-1), v_flat,
        v_max.reshape(-1) if amsgrad else v_flat, amsgrad, bool(decoupled), scalars)
