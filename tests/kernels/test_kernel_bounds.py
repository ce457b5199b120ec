"""The Numba kernels never read or write outside their arrays, checked by recompiling them
with Numba's bounds checks (its own file: the kernel tests' serial/parallel fixture would
run it twice)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

KERNEL_TESTS = Path(__file__).with_name("test_numba_kernels.py")
SELECTED = "(equal_reference or geometries or bitwise or near_the_skip or gemm) and serial"


def test_kernels_stay_inside_their_arrays(tmp_path):
    """Numba does not check indices (and the unfold and fold index flat arrays through
    unsigned ones): an index past the end writes over whatever lies there, as a padding
    wider than the output once made the unfold do. Rerun the equality tests of the
    convolution, pooling, ReLU, cross-entropy, GEMM and Adam kernels compiled with Numba's
    bounds checks, in a fresh process and cache, so any such access raises."""
    pytest.importorskip("numba")
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         str(KERNEL_TESTS), "-k", SELECTED],
        capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout
