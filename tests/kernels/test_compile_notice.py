"""A visible line while the kernels compile for the first time, and `minidl doctor --warm`
to compile them ahead (issue 17)."""
import subprocess
import sys

import pytest

pytest.importorskip("numba")

from minidl.cli import main
from minidl.kernels.compile_notice import MESSAGE

CODE = ("import minidl\n"
        "x = minidl.randn(64, 300, requires_grad=True)\n"
        "minidl.relu(x).sum().backward()\n"
        "from minidl.kernels import compile_notice\n"
        "print('compiled', compile_notice.stats['compiled'])\n")


def _run(cache, **env):
    import os
    environ = dict(os.environ, NUMBA_CACHE_DIR=str(cache), **env)
    return subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          timeout=300, env=environ)


def test_the_first_compile_says_so_once_and_a_cached_run_says_nothing(tmp_path):
    cold = _run(tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count(MESSAGE) == 1
    assert int(cold.stdout.split()[-1]) >= 1
    warm = _run(tmp_path)
    assert warm.returncode == 0, warm.stderr
    assert MESSAGE not in warm.stderr and warm.stdout.split()[-1] == "0"
    quiet = _run(tmp_path / "other", MINIDL_QUIET_COMPILE="1")
    assert MESSAGE not in quiet.stderr


def test_doctor_warm_compiles_or_finds_everything_cached(capsys):
    assert main(["doctor", "--quick", "--warm"]) == 0
    out = capsys.readouterr().out
    assert "warm" in out and ("compiled and cached" in out or "already in the cache" in out)
