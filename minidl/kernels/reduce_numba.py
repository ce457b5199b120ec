"""Large float sums on the CPU in one pass, parallel (Numba): over every axis, and over
every axis but the second, the bias gradient of a convolution (NCHW summed over 0, 2, 3).

Twin of `reference.reduce_sum`; other sums (other dims, integer or strided arrays) go to
it, and ops.reduction sends small ones straight there. NumPy's float32 sum reads about
11 GB/s here: 0.46-0.58 ms for the 1.6 million elements of the conv2d benchmark's output,
at any thread count. These loops take 0.29 ms on one thread and 0.135 ms on two
(benchmarks/NOTES.md). Each row is summed in float64,
so a float32 sum is more exact than NumPy's pairwise float32 one, and the rows are fixed
(never per thread), so the result is the same at every thread count.
"""
from __future__ import annotations

import numpy as np
from numba import prange, uint64

from . import reference
from .jit import pick, twins

PARALLEL_MIN = 1 << 16      # elements; below this one thread is faster
ROW_MIN = 64                # a row shorter than this does not fill the vector loop
BLOCK = 1 << 12             # elements per row of a sum over every axis


def _row_sums_loops(flat, rows, length, out):
    """out[r] = flat[r*length : (r+1)*length].sum(), accumulated in float64. The indices
    are unsigned: with signed ones Numba checks each for wrap-around and the loop does not
    vectorise (2x slower); `reassoc` lets LLVM split the sum across vector lanes."""
    for r in prange(rows):
        total = 0.0
        start = uint64(r) * uint64(length)
        for j in range(uint64(length)):
            total += flat[start + j]
        out[r] = total


_row_sums = twins(_row_sums_loops, fastmath={"reassoc"})


def _rows_summed(flat, length: int):
    """The sums of flat's consecutive rows of `length` elements, float64 (len(flat) //
    length of them; a shorter tail is left to the caller)."""
    rows = flat.size // length
    out = np.empty(rows, np.float64)
    pick(_row_sums, rows * length, PARALLEL_MIN)(flat, rows, length, out)
    return out


def reduce_sum(x, dims: tuple, keepdim: bool):
    """Same contract as reference.reduce_sum."""
    every_axis = len(dims) == x.ndim
    all_but_second = x.ndim >= 3 and dims == (0, *range(2, x.ndim))
    if (x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous
            or not (every_axis or all_but_second)):
        return reference.reduce_sum(x, dims, keepdim)
    flat = x.reshape(-1)
    if every_axis:
        full = flat.size - flat.size % BLOCK
        total = _rows_summed(flat, BLOCK).sum() + flat[full:].sum(dtype=np.float64)
        out = np.asarray(total, x.dtype)
    else:
        length = flat.size // (x.shape[0] * x.shape[1])
        if length < ROW_MIN:
            return reference.reduce_sum(x, dims, keepdim)
        out = _rows_summed(flat, length).reshape(x.shape[:2]).sum(axis=0).astype(x.dtype)
    return out.reshape([1 if d in dims else n for d, n in enumerate(x.shape)]) if keepdim \
        else out
