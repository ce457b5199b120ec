"""A blocked, parallel GEMM in Numba, written to be read and taught.

C = A @ B is computed tile by tile: rows of C are split into blocks run in parallel
(`prange`), and inside a block the k and j loops are tiled so the touched parts of A, B
and C stay in cache. The innermost loop runs along a row of B and a row of C (`j`), both
contiguous, so LLVM turns it into SIMD multiply-adds; written as `C[i, j] += A[i, k] *
B[k, j]` it does not vectorise and runs about 10x slower.

It does not beat a tuned BLAS (which adds register blocking, packing and hand-written
micro-kernels) except on tiny products, where BLAS's call overhead dominates: `ops.linalg`
sends each product to the faster one by a measured size threshold.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .jit import twins

BLOCK_I = 64     # rows of C per parallel task
BLOCK_K = 256    # depth of a tile: a BLOCK_K x BLOCK_J panel of B stays in L2
BLOCK_J = 512    # columns of C per tile


def _gemm_loops(a, b):
    """C = A @ B.  Shapes: a (M, K), b (K, N) -> (M, N); C-contiguous, same float dtype."""
    M, K = a.shape
    N = b.shape[1]
    c = np.zeros((M, N), dtype=a.dtype)
    n_blocks = (M + BLOCK_I - 1) // BLOCK_I
    for block in prange(n_blocks):
        i0 = block * BLOCK_I
        i1 = min(i0 + BLOCK_I, M)
        for k0 in range(0, K, BLOCK_K):
            k1 = min(k0 + BLOCK_K, K)
            for j0 in range(0, N, BLOCK_J):
                j1 = min(j0 + BLOCK_J, N)
                for i in range(i0, i1):
                    c_tile = c[i, j0:j1]
                    for k in range(k0, k1):
                        a_ik = a[i, k]
                        b_tile = b[k, j0:j1]
                        # Loop over the slices' own length from 0: Numba then knows the
                        # index is never negative, drops its wraparound check and LLVM
                        # vectorises (indexing c[i, j] for j in range(j0, j1) runs ~10x slower).
                        for j in range(c_tile.shape[0]):
                            c_tile[j] += a_ik * b_tile[j]
    return c


# `gemm` splits the row blocks across threads; `gemm_serial` is the same loops compiled
# without threads, for tiny products, where starting a parallel region costs more than the
# product itself.
gemm, gemm_serial = twins(_gemm_loops, fastmath=True)


def matmul(a, b):
    """A @ B for 2-D CPU arrays through `gemm` (batched operands loop over the batch).

    Shapes: a (..., M, K), b (..., K, N) -> (..., M, N), batch dims broadcast.
    """
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    if a.ndim == 2 and b.ndim == 2:
        return gemm(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    for idx in np.ndindex(*batch):
        out[idx] = gemm(np.ascontiguousarray(a[idx]), np.ascontiguousarray(b[idx]))
    return out
