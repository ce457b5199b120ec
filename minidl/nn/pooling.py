"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (settings + a functional call)."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _check_input(layer: Module, input: Tensor) -> None:
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{layer._get_name()}({layer.extra_repr()}): expected 3D "
                           f"(unbatched) or 4D (batched) input, got input of shape "
                           f"{tuple(input.shape)}")


class MaxPool2d(Module):
    """The maximum of each kernel_size window (torch.nn.MaxPool2d).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), default 0
        Implicit -inf added on both sides (at most half the kernel).
    dilation : int or (int, int), default 1
    return_indices : bool, default False
        Also return the flat index (within each H*W plane) of every maximum.
    ceil_mode : bool, default False
        Round the output size up instead of down.

    Shapes
    ------
    input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out), with
    H_out = floor((H + 2 padding - dilation (kernel - 1) - 1) / stride + 1) (ceil in
    ceil_mode), W_out alike.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        _check_input(self, input)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each kernel_size window (torch.nn.AvgPool2d).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), default 0
        Zeros added on both sides.
    ceil_mode : bool, default False
    count_include_pad : bool, default True
        Count the padding zeros in the divisor.
    divisor_override : int, optional
        Divide every window sum by this instead.

    Shapes
    ------
    input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out), with
    H_out = floor((H + 2 padding - kernel) / stride + 1), W_out alike.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        _check_input(self, input)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d).

    Parameters
    ----------
    output_size : int, (int, int), or a pair with None (keep that input size)

    Shapes
    ------
    input (N, C, H, W) or (C, H, W) -> output (N, C, *output_size)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        _check_input(self, input)
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
