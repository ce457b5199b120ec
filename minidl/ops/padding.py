"""pad: PyTorch's F.pad in its four modes, constant, reflect, replicate and circular.

Constant padding is ops.shape's PadFn (after cropping for negative pads, as PyTorch does).
The other modes need no Function of their own: each padded dim is an integer-array index
into the input (reflect: 2 1 | 0 1 2 3 | 2 1, replicate: 0 0 | 0 1 2 3 | 3 3, circular:
2 3 | 0 1 2 3 | 0 1), and indexing is differentiable (its backward adds the gradients of
the copies back into the source element), to any order.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from .shape import getitem, pad as _constant_pad

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(n: int, left: int, right: int, mode: str) -> np.ndarray:
    """Index into a dim of size n for each position of its padded version."""
    i = np.arange(-left, n + right)
    if mode == "reflect":               # mirror at the edge elements, which are not repeated
        i = np.abs(i)
        i = (n - 1) - np.abs((n - 1) - i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    else:                               # circular
        i = np.mod(i, n)
    return i


def _widths(pad, ndim: int) -> list:
    """PyTorch's flat (last_left, last_right, prev_left, ...) -> [(dim, left, right)]."""
    return [(ndim - 1 - k, pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]


def _crop(input, widths):
    """Negative pads remove elements: slice them off first (PyTorch's narrow)."""
    index = [slice(None)] * input.ndim
    for dim, left, right in widths:
        lo, hi = max(-left, 0), input.shape[dim] - max(-right, 0)
        if hi < lo:
            raise RuntimeError(f"pad: negative padding ({left}, {right}) removes more than the "
                               f"{input.shape[dim]} elements of dim {dim} of input "
                               f"{list(input.shape)}")
        index[dim] = slice(lo, hi)
    return getitem(input, tuple(index)) if any(s != slice(None) for s in index) else input


def _check_non_constant(input, pad, mode: str, value) -> None:
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k, ndim = len(pad) // 2, input.ndim
    if not (1 <= k <= 3 and ndim in (k + 1, k + 2)):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for dim, left, right in _widths(pad, ndim):
        n = input.shape[dim]
        if mode == "reflect" and (left >= n or right >= n):
            raise RuntimeError(f"pad: padding size should be less than the corresponding "
                               f"input dimension in reflect mode, but got: padding "
                               f"({left}, {right}) at dimension {dim} of input "
                               f"{list(input.shape)}")
        if mode == "circular" and (left > n or right > n):
            raise RuntimeError(f"Padding value causes wrapping around more than once "
                               f"(padding ({left}, {right}) at dimension {dim} of input "
                               f"{list(input.shape)})")
        if n + left + right < 0:
            raise RuntimeError(f"pad: input of size {n} at dimension {dim} is too small for "
                               f"{mode} padding ({left}, {right}): calculated output size "
                               f"{n + left + right}")
        # (PyTorch returns uninitialised memory here; an error is clearer)
        if mode == "circular" and n + min(left, 0) + min(right, 0) < max(left, right, 0):
            raise RuntimeError(f"pad: circular padding ({left}, {right}) at dimension {dim} "
                               f"wraps around more than the {n + min(left, 0) + min(right, 0)}"
                               f" elements that its negative padding leaves")
        if n == 0 and (left > 0 or right > 0):
            raise RuntimeError(f"pad: {mode} padding of an empty dimension {dim} of input "
                               f"{list(input.shape)}: every padded dim must be non-empty")


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """Pad the last len(pad) // 2 dims of input.

    Parameters
    ----------
    input : Tensor
    pad : sequence of ints, even length: (left, right) for the last dim, then (top,
        bottom) for the one before, and so on. Negative values remove elements.
    mode : 'constant' (fill with value), 'reflect' (mirror, without repeating the edge),
        'replicate' (repeat the edge) or 'circular' (wrap around).
        The last three pad the last 1, 2 or 3 dims of a batched or unbatched input, as
        in PyTorch.
    value : float, default 0; constant mode only.

    Returns
    -------
    Tensor, each padded dim grown by left + right.

    See Also
    --------
    torch.nn.functional.pad
    """
    pad = tuple(pad)
    if not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be a sequence of ints, got {pad}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)} "
                           f"({pad}) for an input of shape {tuple(input.shape)}")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(pad)} and input "
                           f"of dimension {input.ndim} (shape {tuple(input.shape)})")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant":
        _check_non_constant(input, pad, mode, value)
    widths = _widths(pad, input.ndim)
    if mode == "constant":
        return _constant_pad(_crop(input, widths), tuple(max(p, 0) for p in pad), "constant",
                             0.0 if value is None else value)
    x, xp = input, get_array_module(input.array)
    if mode == "circular":     # PyTorch crops first and wraps around what is left
        x, widths = _crop(input, widths), [(d, max(lo, 0), max(hi, 0)) for d, lo, hi in widths]
    for dim, left, right in widths:
        if left or right:      # reflect/replicate: a negative side starts the index inside
            index = xp.asarray(_source_index(x.shape[dim], left, right, mode))
            x = getitem(x, (slice(None),) * dim + (index,))
    return x
