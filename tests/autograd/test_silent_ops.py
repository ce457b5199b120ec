"""Ops are silent about inf and NaN results, as PyTorch's are, and anomaly mode says where
a NaN came from (issue 17)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import minidl


def test_ops_do_not_leak_numpy_floating_point_warnings():
    x = minidl.tensor([0.0, 1.0, -1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"minidl(\.|$)")
        y = (x.log() + x / 0 + x.sqrt() + (x * np.inf - np.inf)).sum()
        y.backward()
        np.log(np.zeros(1))                     # the user's own NumPy code still warns
    ours = [w for w in caught if "minidl" in w.filename]
    assert ours == [], [str(w.message) for w in ours]
    assert any("divide by zero" in str(w.message) for w in caught)


def test_a_fresh_process_is_silent_where_numpy_warns():
    # pytest restores the warning filters after collecting, so this runs in its own
    # process, as a user's script does; -W error turns any warning that leaks into an error
    code = ("import minidl, numpy\n"
            "minidl.tensor([0.0, -1.0]).log(); minidl.tensor([1.0]) / 0\n"
            "print('minidl silent')\n"
            "numpy.log(numpy.zeros(1))\n")
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                          capture_output=True, text=True, timeout=120)
    assert "minidl silent" in proc.stdout, proc.stderr
    assert proc.returncode != 0 and "divide by zero encountered in log" in proc.stderr


def test_anomaly_mode_says_the_input_already_held_nan():
    w = minidl.tensor([np.nan, 1.0], requires_grad=True)
    with minidl.autograd.set_detect_anomaly(True):
        with pytest.raises(RuntimeError, match=r"'MulBackward0' got NaN values in its input 0 "
                                               r"\(shape \(2,\)\): the input already held NaN"):
            w * 2
        x = minidl.tensor([-1.0])
        with pytest.raises(RuntimeError, match="LogBackward0.*returned nan"):
            x.log()                              # this op made the NaN: it is named
