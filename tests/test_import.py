"""`import minidl` stays light: it compiles nothing and imports neither Numba nor torch."""
import subprocess
import sys


def test_import_loads_no_numba_and_no_torch():
    code = ("import sys, minidl; "
            "print(sorted(m for m in ('numba', 'torch', 'cupy', 'sklearn', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_numba_loads_only_when_a_kernel_first_runs():
    code = ("import sys, minidl; x = minidl.ones(1, 1, 4, 4); before = 'numba' in sys.modules; "
            "minidl.nn.functional.max_pool2d(x, 2); print(before, 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "True"]
