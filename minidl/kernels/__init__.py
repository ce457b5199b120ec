"""Array-in, array-out compute kernels. They know nothing of Tensor or autograd.

`reference` holds the plain-NumPy (xp-generic) versions: the readable ones, the test
oracle, the CuPy path and the fallback when Numba kernels are switched off.
"""
