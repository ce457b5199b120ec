"""conv1d: a 1-D convolution computed by conv2d on an input of height 1.

A length-L signal is an image of size 1 x L and a width-K filter a 1 x K one, so conv1d
needs no kernel of its own: it reuses conv2d's Numba kernels and its backward ops (which
make it differentiable to any order). The checks here speak in 1-D terms, so an error
names conv1d and the shapes the caller passed, as PyTorch's do.
"""
from __future__ import annotations

import numbers

from ..tensor import Tensor
from .conv import conv2d


def _ints(value, n: int, name: str, op: str) -> tuple:
    """An integer or a sequence of n integers (NumPy's too) -> a tuple of n Python ints;
    anything else is a RuntimeError."""
    def integral(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    values = (value,) * n if integral(value) else tuple(value) if isinstance(
        value, (tuple, list)) else ()
    if len(values) != n or not all(integral(v) for v in values):
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{name}={value}")
    return tuple(int(v) for v in values)


def _single(value, name: str, op: str) -> int:
    """An int or a sequence of one int -> that int; anything else is a RuntimeError."""
    return _ints(value, 1, name, op)[0]


def _check_tensors(op: str, input, weight, bias, dims: int) -> None:
    """Types, ranks and dtypes of a convolution's arguments; `dims` spatial dims."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: expected input and weight to be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input "
                           f"to {op}, but got input of size: {list(input.shape)}")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected weight to be {dims + 2}-dimensional, but got "
                           f"weight of size {list(weight.shape)}")
    if input.dtype != weight.dtype or input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected input and weight to have the same floating dtype, "
                           f"got input {input.dtype} and weight {weight.dtype}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.ndim != 1):
        raise RuntimeError(f"{op}: expected bias to be a 1-dimensional Tensor, got "
                           f"{getattr(bias, 'shape', type(bias).__name__)}")


def _check_groups(op: str, input, weight, groups, transposed: bool) -> int:
    """PyTorch's channel checks: weight dim 0 divisible by groups, input channels matching.
    Returns groups as a Python int."""
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    groups = int(groups)
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    channels = input.shape[-weight.ndim + 1]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        which = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {which}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {expected} channels, but got "
                           f"{channels} channels instead")
    return groups


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D cross-correlation of a batch of signals with a bank of filters.

    Parameters
    ----------
    input : Tensor (N, C, L) or unbatched (C, L).
    weight : Tensor (OC, C // groups, K).
    bias : optional Tensor (OC,).
    stride, dilation : int or (int,), positive.
    padding : int, (int,), 'valid' or 'same' (stride 1 only; an odd total pads one more
        on the right, as PyTorch).
    groups : int dividing C and OC.

    Returns
    -------
    Tensor (N, OC, OL), or (OC, OL) for an unbatched input.

    Shapes
    ------
    OL = floor((L + 2 * padding - dilation * (K - 1) - 1) / stride) + 1.

    See Also
    --------
    torch.nn.functional.conv1d
    """
    _check_tensors("conv1d", input, weight, bias, 1)
    groups = _check_groups("conv1d", input, weight, groups, transposed=False)
    stride = _single(stride, "stride", "conv1d")
    dilation = _single(dilation, "dilation", "conv1d")
    if stride < 1:
        raise RuntimeError(f"conv1d: non-positive stride is not supported, got {stride}")
    if dilation < 1:
        raise RuntimeError(f"conv1d: dilation should be greater than zero, got {dilation}")
    if isinstance(padding, str):
        pad2 = padding                     # conv2d checks the string and the stride
    else:
        pad1 = _single(padding, "padding", "conv1d")
        if pad1 < 0:
            raise RuntimeError(f"conv1d: negative padding is not supported, got {padding}")
        padded, reach = input.shape[-1] + 2 * pad1, dilation * (weight.shape[-1] - 1) + 1
        if reach > padded:
            raise RuntimeError(f"Calculated padded input size per channel: ({padded}). Kernel "
                               f"size: ({reach}). Kernel size can't be greater than actual "
                               f"input size")
        pad2 = (0, pad1)
    # (N, C, L) -> (N, C, 1, L) and (OC, Cg, K) -> (OC, Cg, 1, K): a height-1 conv2d
    y = conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, stride), pad2,
               (1, dilation), groups)
    return y.squeeze(-2)
