"""assert_close: compare tensors, arrays or numbers with dtype-aware tolerances."""
from __future__ import annotations

import numpy as np

from ..backend import to_numpy

# PyTorch's defaults for torch.testing.assert_close, by dtype
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def _array(x) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "numpy"):   # a minidl or torch tensor
        x = x.detach()
        x = x.cpu().numpy() if hasattr(x, "cpu") else x.numpy()
    return np.asarray(to_numpy(x))


def assert_close(actual, expected, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_dtype: bool = False, msg="") -> None:
    """Raise AssertionError unless |actual - expected| <= atol + rtol * |expected| everywhere.

    Accepts minidl tensors, torch tensors, arrays and numbers. Default tolerances are
    PyTorch's for the less precise of the two dtypes. The message is PyTorch's: how many
    elements differ, the greatest absolute and relative differences, where, and what was
    allowed. `msg`, as in torch.testing.assert_close: a string replaces that message, a
    function receives it and returns the one to raise.
    """
    scalars = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                  for v in (actual, expected))
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        _fail(msg, f"The values for attribute 'shape' do not match: {_size(a.shape)} != "
                   f"{_size(e.shape)}.")
    if check_dtype and a.dtype != e.dtype:
        _fail(msg, f"The values for attribute 'dtype' do not match: torch.{a.dtype} != "
                   f"torch.{e.dtype}.")
    if rtol is None or atol is None:
        dtypes = [d for d in (a.dtype, e.dtype) if d in _TOLERANCES]
        loosest = max((_TOLERANCES[d] for d in dtypes), default=(0.0, 0.0))
        rtol = loosest[0] if rtol is None else rtol
        atol = loosest[1] if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if ok.all():
        return
    # the differences in the two operands' common dtype, as PyTorch computes them
    common = np.result_type(a.dtype, e.dtype) if a.dtype.kind == e.dtype.kind == "f" \
        else np.dtype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_diff = np.abs(a.astype(common) - e.astype(common))
        rel_diff = abs_diff / np.abs(e.astype(common))
        if equal_nan:                            # NaN in both places: no difference
            both = np.isnan(a64) & np.isnan(e64)
            abs_diff[both] = rel_diff[both] = 0
    if scalars:
        _fail(msg, f"Scalars are not close!\n\nExpected {float(e64)} but got {float(a64)}.\n"
                   f"Absolute difference: {float(abs_diff)} (up to {atol} allowed)\n"
                   f"Relative difference: {float(rel_diff)} (up to {rtol} allowed)")
    bad = int((~ok).sum())
    _fail(msg, "Tensor-likes are not close!\n\n"
               f"Mismatched elements: {bad} / {ok.size} ({100 * bad / ok.size:.1f}%)\n"
               f"Greatest absolute difference: {_greatest(abs_diff)} (up to {atol} allowed)\n"
               f"Greatest relative difference: {_greatest(rel_diff)} (up to {rtol} allowed)")


def _greatest(diff: np.ndarray) -> str:
    """'0.5 at index (1,)': the largest entry (NaN counts as largest, as torch.max does)."""
    flat = diff.reshape(-1)
    nans = np.flatnonzero(np.isnan(flat))
    k = int(nans[0]) if nans.size else int(np.argmax(flat))
    index = tuple(int(i) for i in np.unravel_index(k, diff.shape))
    return f"{float(flat[k])} at index {index}"


def _size(shape: tuple) -> str:
    return f"torch.Size({list(shape)})"


def _fail(msg, text: str):
    raise AssertionError(msg(text) if callable(msg) else (msg or text))
