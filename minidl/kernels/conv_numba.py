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
from numba import uint64

from .jit import kernel

from . import reference
from .reference import im2col_shape
from .threads import batch_chunks, run_chunks
from .workspace import Workspace

# the forward's kept columns (and tile buffers over TILE_BYTES), reused from step to step
WORKSPACE = Workspace()


@kernel
def _span(count, S, off, size):
    """The outputs o in [lo, hi) whose tap position o*S + off lies inside [0, size), with
    0 <= lo <= hi <= count: the loops zero [0, lo) and [hi, count) as padding, unchecked,
    so a tap that lies wholly in the padding (a padding wider than the output) must not
    give lo > count."""
    lo = 0 if off >= 0 else min(count, (-off + S - 1) // S)
    hi = 0 if size - 1 - off < 0 else min(count, (size - 1 - off) // S + 1)
    return lo, max(lo, hi)


@kernel
def _unfold_tap_by_rows(flat, cols, tap, src0, SH, SW, W, OH, OW, oh_lo, oh_hi, ow_lo, ow_hi):
    """One kernel tap's (OH, OW) block of columns, row by row: input row oh starts at
    src0 + oh * SH * W; rows and columns outside [lo, hi) are padding."""
    for oh in range(OH):
        out = tap + oh * OW
        if oh < oh_lo or oh >= oh_hi:               # a row of padding
            for ow in range(OW):
                cols[uint64(out + ow)] = 0
            continue
        src = src0 + oh * SH * W
        for ow in range(ow_lo):
            cols[uint64(out + ow)] = 0
        for ow in range(ow_lo, ow_hi):
            cols[uint64(out + ow)] = flat[uint64(src + ow * SW)]
        for ow in range(ow_hi, OW):
            cols[uint64(out + ow)] = 0


@kernel
def _unfold_tap_in_one_copy(flat, cols, tap, src0, OH, OW, oh_lo, oh_hi, ow_lo, ow_hi):
    """The same block when input and output rows have one pitch (stride 1, OW = W, as for
    a 'same' padding): the inside of the block is then one contiguous run in both arrays,
    copied in one loop, after which the padding columns it crossed are zeroed. A row of
    28 outputs was mostly loop overhead: on a tile of 2x16x28x28 this unfolds in 34 us
    against 109 row by row."""
    for k in range(tap, tap + oh_lo * OW):
        cols[uint64(k)] = 0
    if oh_lo < oh_hi:
        for k in range(tap + oh_lo * OW + ow_lo, tap + (oh_hi - 1) * OW + ow_hi):
            cols[uint64(k)] = flat[uint64(k - tap + src0)]
    for oh in range(oh_lo, oh_hi):
        out = tap + oh * OW
        for ow in range(ow_lo):
            cols[uint64(out + ow)] = 0
        for ow in range(ow_hi, OW):
            cols[uint64(out + ow)] = 0
    for k in range(tap + oh_hi * OW, tap + OH * OW):
        cols[uint64(k)] = 0


@kernel
def _im2col(x, cols, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    N, C, H, W = x.shape
    flat = x.reshape(-1)
    one_pitch = SH == 1 and SW == 1 and OW == W
    for t in range(N * C):                      # one (sample, channel) plane at a time
        plane = t * H * W
        for i in range(KH):
            oh_lo, oh_hi = _span(OH, SH, i * DH - PH, H)
            for j in range(KW):
                ow_lo, ow_hi = _span(OW, SW, j * DW - PW, W)
                tap = ((t * KH + i) * KW + j) * OH * OW
                src0 = plane + (i * DH - PH) * W + j * DW - PW      # where output (0, 0) reads
                if one_pitch and ow_lo < ow_hi:
                    _unfold_tap_in_one_copy(flat, cols, tap, src0, OH, OW, oh_lo, oh_hi,
                                            ow_lo, ow_hi)
                else:
                    _unfold_tap_by_rows(flat, cols, tap, src0, SH, SW, W, OH, OW, oh_lo,
                                        oh_hi, ow_lo, ow_hi)


@kernel
def _col2im(cols, x, H, W, SH, SW, PH, PW, DH, DW):
    N, C, KH, KW, OH, OW = cols.shape
    x[:] = 0
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


def im2col(x, kernel_size, stride, padding, dilation, out=None):
    """Same contract as reference.im2col: x (N, C, H, W) -> cols (N, C, KH, KW, OH, OW),
    written into `out` (C-contiguous, of that shape) if given."""
    shape = im2col_shape(x.shape, kernel_size, stride, padding, dilation)
    cols = np.empty(shape, x.dtype) if out is None else out
    _im2col(np.ascontiguousarray(x), cols.reshape(-1), *kernel_size, *stride, *padding,
            *dilation, *shape[4:])
    return cols


def col2im(cols, x_shape, stride, padding, dilation, out=None):
    """Same contract as reference.col2im: cols (N, C, KH, KW, OH, OW) -> x of x_shape,
    written into `out` (C-contiguous, of x_shape) if given."""
    x = np.empty(x_shape, cols.dtype) if out is None else out
    _col2im(np.ascontiguousarray(cols), x.reshape(-1), x_shape[2], x_shape[3], *stride,
            *padding, *dilation)
    return x


# Each pass below splits the batch into one share per thread (kernels.threads), and each
# share walks its samples in tiles whose columns fit in a core's L2 cache: a tile is
# unfolded right before its GEMM reads the columns, or folded right after its GEMM wrote
# them, while they are still in cache. Untiled, the columns of the whole batch (29 MB for
# the benchmark's 64x16x28x28 input) go out to memory and back between the unfold and the
# GEMM, and the last-level cache decides the speed: with it cold (a 300 MB array written
# between calls), tiling took conv2d forward+backward to 0.92-0.93 of the untiled time at
# one and two threads. On this project's VM, whose 260 MiB L3 holds every column buffer of
# the benchmarks, it measured neutral (0.93-1.04; benchmarks/NOTES.md, conv_tiles.py).
# The forward still writes every tile's columns into one buffer when asked to keep them
# (keep_cols) for the weight gradient: unfolding each tile again instead took 1.01-1.06 of
# the time. TILE_BYTES is half this machine's 2 MiB L2; 2 and 4 MiB measured no better.

# bytes of columns per tile
TILE_BYTES = 1 << 20


def _tile_size(cols_shape: tuple, itemsize: int) -> int:
    """Samples per tile: at most TILE_BYTES of columns, at least one sample."""
    per_sample = int(np.prod(cols_shape[1:], dtype=np.int64)) * itemsize
    return max(1, TILE_BYTES // max(per_sample, 1))


def _tiles(start: int, stop: int, tile: int) -> list:
    """Samples [start, stop) as (lo, hi) pieces of `tile` samples, the last one shorter."""
    return [(lo, min(lo + tile, stop)) for lo in range(start, stop, tile)]


def _tile_buffer(tiles: list, cols_shape: tuple, dtype) -> np.ndarray:
    """A share's column buffer, as large as its largest tile (sliced for a smaller one).
    Up to TILE_BYTES it is allocated afresh, from memory malloc already holds; only when a
    single sample's columns are larger does it come from the workspace, whose few slots
    the kept columns need (one tile buffer per thread would push those out at three or
    more threads)."""
    shape = (max(hi - lo for lo, hi in tiles), *cols_shape[1:])
    if int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize <= TILE_BYTES:
        return np.empty(shape, dtype)
    return WORKSPACE.take(shape, dtype)


def conv2d_forward(x, w, stride, padding, dilation, groups, keep_cols: bool = False,
                   bias=None):
    """Same contract as reference.conv2d_forward."""
    x = np.ascontiguousarray(x)
    shape = im2col_shape(x.shape, w.shape[2:], stride, padding, dilation)
    y = np.empty((shape[0], w.shape[0], *shape[4:]), x.dtype)
    kept = WORKSPACE.take(shape, x.dtype) if keep_cols else None
    tile = _tile_size(shape, x.dtype.itemsize)

    def share(start, stop):
        tiles = _tiles(start, stop, tile)
        buffer = None if keep_cols else _tile_buffer(tiles, shape, x.dtype)
        for lo, hi in tiles:
            out = kept[lo:hi] if keep_cols else buffer[:hi - lo]
            cols = im2col(x[lo:hi], w.shape[2:], stride, padding, dilation, out=out)
            reference.conv2d_gemm(cols, w, groups, out=y[lo:hi])
            if bias is not None:
                y[lo:hi] += bias.reshape(1, -1, 1, 1)

    run_chunks(share, batch_chunks(shape[0]))
    return (y, kept) if keep_cols else y


def conv2d_backward_input(grad_y, w, x_shape, stride, padding, dilation, groups):
    """Same contract as reference.conv2d_backward_input."""
    grad_y = np.ascontiguousarray(grad_y)
    shape = im2col_shape(x_shape, w.shape[2:], stride, padding, dilation)
    grad_x = np.empty(x_shape, w.dtype)
    tile = _tile_size(shape, w.dtype.itemsize)

    def share(start, stop):
        tiles = _tiles(start, stop, tile)
        buffer = _tile_buffer(tiles, shape, w.dtype)
        for lo, hi in tiles:
            cols = reference.conv2d_gemm_input(grad_y[lo:hi], w, groups, out=buffer[:hi - lo])
            col2im(cols, grad_x[lo:hi].shape, stride, padding, dilation, out=grad_x[lo:hi])

    run_chunks(share, batch_chunks(x_shape[0]))
    return grad_x


def conv2d_backward_weight(grad_y, x, w_shape, stride, padding, dilation, groups, cols=None):
    """Same contract as reference.conv2d_backward_weight."""
    grad_y = np.ascontiguousarray(grad_y)
    x = np.ascontiguousarray(x) if cols is None else x        # read only to unfold it
    shape = im2col_shape(x.shape, w_shape[2:], stride, padding, dilation)
    OC, Cg, KH, KW = w_shape
    per_sample = np.empty((grad_y.shape[0], groups, Cg * KH * KW, OC // groups), x.dtype)
    tile = _tile_size(shape, x.dtype.itemsize)

    def gemm(lo, hi, tile_cols):
        reference.conv2d_gemm_weight_per_sample(grad_y[lo:hi], tile_cols, groups,
                                                out=per_sample[lo:hi])

    def share(start, stop):
        if cols is not None:                 # the forward's columns, in one batched GEMM
            gemm(start, stop, cols[start:stop])
            return
        tiles = _tiles(start, stop, tile)
        buffer = _tile_buffer(tiles, shape, x.dtype)
        for lo, hi in tiles:
            gemm(lo, hi, im2col(x[lo:hi], w_shape[2:], stride, padding, dilation,
                                out=buffer[:hi - lo]))

    run_chunks(share, batch_chunks(grad_y.shape[0]))
    return reference.weight_from_per_sample(per_sample, w_shape)   # the reference's sum
