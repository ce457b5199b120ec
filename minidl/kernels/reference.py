"""Plain-NumPy kernels, written to be read. Each works on NumPy and CuPy arrays alike.

These are the twins that every fast kernel is tested against.
"""
from __future__ import annotations

from ..backend import get_array_module


def matmul(a, b):
    """C = A @ B for operands of at least 2 dims, batch dims broadcast.

    Shapes: a (..., M, K), b (..., K, N) -> (..., M, N).
    """
    return get_array_module(a, b).matmul(a, b)
