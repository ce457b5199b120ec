"""Losses follow PyTorch's dtype rules for their targets (issue 17): where PyTorch raises
(an int64 target for binary_cross_entropy, an int32 one for cross_entropy), minidl raises
too, naming the op and the dtypes; where PyTorch computes, minidl gives the same dtype and
value. Every (input dtype, target dtype) pair of a grid is tried on both."""
import warnings

import numpy as np
import pytest

import minidl

torch = pytest.importorskip("torch")

CASES = {
    "mse_loss": ([[0.2, 0.7]], [[1, 0]]),
    "l1_loss": ([[0.2, 0.7]], [[1, 0]]),
    "smooth_l1_loss": ([[0.2, 0.7]], [[1, 0]]),
    "huber_loss": ([[0.2, 0.7]], [[1, 0]]),
    "binary_cross_entropy": ([[0.2, 0.7]], [[1, 0]]),
    "binary_cross_entropy_with_logits": ([[0.2, 0.7]], [[1, 0]]),
    "cross_entropy": ([[0.2, 0.7], [0.1, 0.3]], [1, 0]),
    "nll_loss": ([[-0.2, -0.7], [-0.1, -0.3]], [1, 0]),
    "kl_div": ([[-0.2, -0.7]], [[0.4, 0.6]]),
}
INPUT_DTYPES = (np.float32, np.float64)
TARGET_DTYPES = (np.int64, np.int32, np.float32, np.float64, np.bool_, np.uint8)


def _outcome(lib, name, x, t, x_dtype, t_dtype):
    fn = getattr(lib.nn.functional, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(lib.tensor(np.array(x, x_dtype)), lib.tensor(np.array(t).astype(t_dtype)))
        except (RuntimeError, ValueError, TypeError) as e:
            return "error", str(e)
    return str(out.dtype).replace("torch.", ""), float(out)


@pytest.mark.parametrize("name", list(CASES))
def test_target_dtypes_as_pytorch(name):
    x, t = CASES[name]
    for x_dtype in INPUT_DTYPES:
        for t_dtype in TARGET_DTYPES:
            ours = _outcome(minidl, name, x, t, x_dtype, t_dtype)
            theirs = _outcome(torch, name, x, t, x_dtype, t_dtype)
            where = f"{name}({np.dtype(x_dtype).name} input, {np.dtype(t_dtype).name} target)"
            assert ours[0] == theirs[0], f"{where}: minidl {ours}, PyTorch {theirs}"
            if ours[0] == "error":
                assert name in ours[1], f"{where}: the error does not name the op: {ours[1]}"
            else:
                assert ours[1] == pytest.approx(theirs[1], rel=1e-6), where


def test_the_errors_say_what_was_expected():
    x = minidl.tensor([[0.2, 0.7]])
    with pytest.raises(RuntimeError, match="binary_cross_entropy: Found dtype Long but "
                                           "expected Float"):
        minidl.nn.functional.binary_cross_entropy(x, minidl.tensor([[1, 0]]))
    with pytest.raises(RuntimeError, match="cross_entropy: expected target dtype to be Long "
                                           "or Byte, but got Int"):
        minidl.nn.functional.cross_entropy(x, minidl.tensor(np.array([1], np.int32)))
