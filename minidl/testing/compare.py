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
                 equal_nan: bool = False, check_dtype: bool = False, msg: str = "") -> None:
    """Raise AssertionError unless |actual - expected| <= atol + rtol * |expected| everywhere.

    Accepts minidl tensors, torch tensors, arrays and numbers. Default tolerances are
    PyTorch's for the less precise of the two dtypes.
    """
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{msg}shape mismatch: actual {a.shape} vs expected {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(f"{msg}dtype mismatch: actual {a.dtype} vs expected {e.dtype}")
    if rtol is None or atol is None:
        dtypes = [d for d in (a.dtype, e.dtype) if d in _TOLERANCES]
        loosest = max((_TOLERANCES[d] for d in dtypes), default=(0.0, 0.0))
        rtol = loosest[0] if rtol is None else rtol
        atol = loosest[1] if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if ok.all():
        return
    diff = np.abs(a64 - e64)
    diff[ok] = -1
    k = np.unravel_index(int(np.nanargmax(np.nan_to_num(diff, nan=np.inf))), a.shape)
    raise AssertionError(
        f"{msg}tensors are not close: {int((~ok).sum())} of {ok.size} elements differ; the "
        f"largest at index {tuple(int(i) for i in k)}: actual {a64[k]!r} vs expected "
        f"{e64[k]!r} (atol={atol}, rtol={rtol})")
