"""Conv1d, ConvTranspose1d and ConvTranspose2d: convolution layers with PyTorch's arguments,
parameter names, checks, reprs and initialisation; the math is in ops/conv1d.py and
ops/conv_transpose.py (both computed with conv2d's kernels)."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import functional as F
from . import init
from .conv import conv_extra_repr
from .module import Module
from .parameter import _empty_parameter

_PADDING_STRINGS = ("same", "valid")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n: int, name: str) -> tuple:
    """An int or a sequence of n ints -> a tuple of n ints (torch's _single/_pair)."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"expected {name} to be an int or {n} ints, got {tuple(value)}")
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """What every convolution layer shares: argument checks, weight and bias, init, repr.

    The weight is (out, in / groups, *kernel) for a convolution and (in, out / groups,
    *kernel) for a transposed one, as in PyTorch."""

    _dims = 1
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        n = self._dims
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.dilation = _ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if self._transposed:
                raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple "
                                 f"of ints, got padding='{padding}'")
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{set(_PADDING_STRINGS)}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups, self.padding_mode = groups, padding_mode
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.transposed = self._transposed
        # the padding F.pad applies for a padding_mode other than 'zeros', last dim first
        self._reversed_padding_repeated_twice = self._explicit_padding()
        shape = (in_channels, out_channels // groups) if self._transposed else (
            out_channels, in_channels // groups)
        self.weight = _empty_parameter(*shape, *self.kernel_size, device=device, dtype=dtype)
        if bias:
            self.bias = _empty_parameter(out_channels, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _explicit_padding(self) -> tuple:
        if self.padding == "valid":
            return (0, 0) * self._dims
        if self.padding == "same":     # the odd extra element on the right, as PyTorch
            out = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        return tuple(p for p in reversed(self.padding) for _ in range(2))

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        for the bias, with fan_in = weight.size(1) * prod(kernel_size): PyTorch's init, so
        for a transposed layer the fan counts out_channels / groups, as PyTorch's does."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        return conv_extra_repr(self, self._dims)


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) of (N, C_in, L) input with learned filters.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or (int,)
    padding : int, (int,), 'valid' or 'same' (stride 1 only), default 0
    groups : int, default 1
    bias : bool, default True
    padding_mode : 'zeros' (default), 'reflect', 'replicate' or 'circular' (through F.pad)
    device, dtype : optional

    Shapes
    ------
    input (N, C_in, L) or (C_in, L) -> output (N, C_out, L_out), with
    L_out = floor((L + 2 padding - dilation (kernel - 1) - 1) / stride + 1);
    weight (C_out, C_in / groups, K), bias (C_out,).

    Notes
    -----
    weight and bias are drawn from U(-k, k), k = 1/sqrt(C_in / groups * K), as PyTorch's.

    See Also
    --------
    torch.nn.Conv1d
    """

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv1d(input, self.weight, self.bias, self.stride, 0, self.dilation,
                            self.groups)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that makes the output output_size (PyTorch's rule: output_size
        may carry the batch and channel sizes too, and must lie within one stride)."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        non_spatial = 2 if input.ndim == n + 2 else 1
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must "
                             f"have {n} or {non_spatial + n} elements (got "
                             f"{len(output_size)})")
        spatial = input.shape[input.ndim - n:]
        low = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d] +
               self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        high = [lo + s - 1 for lo, s in zip(low, self.stride)]
        for size, lo, hi in zip(output_size, low, high):
            if not lo <= size <= hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {low} to {high} (for an input of "
                                 f"{list(spatial)})")
        return tuple(int(size) - lo for size, lo in zip(output_size, low))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution of (N, C_in, L) input (the adjoint of Conv1d).

    Parameters as ConvTranspose2d, each spatial argument an int or (int,).

    Shapes
    ------
    input (N, C_in, L) or (C_in, L) -> output (N, C_out, L_out),
    L_out = (L - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1;
    weight (C_in, C_out / groups, K), bias (C_out,).

    See Also
    --------
    torch.nn.ConvTranspose1d
    """

    _dims = 1

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution") of (N, C_in, H, W) input: the adjoint
    of Conv2d, which upsamples by the stride.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int), default 1
    padding : int or (int, int), default 0: rows/columns removed from each border
    output_padding : int or (int, int), default 0: extra rows/columns at the bottom/right
        (each below the stride or the dilation); forward's output_size chooses it instead
    groups : int, default 1
    bias : bool, default True
    padding_mode : only 'zeros', as in PyTorch
    device, dtype : optional

    Shapes
    ------
    input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, H_out, W_out),
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1, W alike;
    weight (C_in, C_out / groups, kH, kW), bias (C_out,).

    Notes
    -----
    PyTorch's init: kaiming_uniform_(a=sqrt(5)) and a bias from U(-k, k) with
    k = 1/sqrt(C_out / groups * kH * kW) (the fan of the weight's dim 1).

    See Also
    --------
    torch.nn.ConvTranspose2d
    """

    _dims = 2

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)
