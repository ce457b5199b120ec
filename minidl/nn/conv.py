"""Conv2d: a 2-D convolution layer with PyTorch's arguments, checks and initialisation."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import _empty_parameter
from .utils import _pair

_PADDING_STRINGS = ("same", "valid")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) input with learned filters.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int), default 1
    padding : int, (int, int), 'valid' or 'same', default 0
        Zeros added on both sides; 'same' keeps H and W (stride 1 only).
    groups : int, default 1
        Split the channels into groups convolved separately; both channel counts must be
        divisible by it.
    bias : bool, default True
    padding_mode : str, default 'zeros'
        Only 'zeros' is supported.
    device, dtype : optional

    Shapes
    ------
    input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, H_out, W_out), with
    H_out = floor((H + 2 padding - dilation (kernel - 1) - 1) / stride + 1), W_out alike.
    weight (C_out, C_in / groups, kH, kW), bias (C_out,).

    Notes
    -----
    weight and bias are drawn from U(-k, k), k = 1/sqrt(C_in / groups * kH * kW):
    kaiming_uniform_(a=sqrt(5)) for the weight, as PyTorch does.

    See Also
    --------
    torch.nn.Conv2d
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError(f"in_channels must be divisible by groups (got in_channels="
                             f"{in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"out_channels must be divisible by groups (got out_channels="
                             f"{out_channels}, groups={groups})")
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.dilation = _pair(dilation)
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{set(_PADDING_STRINGS)}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _pair(padding)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode='{padding_mode}' is not "
                                      "supported; only 'zeros'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.groups = groups
        self.padding_mode = padding_mode
        self.output_padding = (0, 0)
        self.transposed = False
        self.weight = _empty_parameter(out_channels, in_channels // groups, *self.kernel_size,
                                       device=device, dtype=dtype)
        if bias:
            self.bias = _empty_parameter(out_channels, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the class Notes)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in (3, 4):
            raise RuntimeError(f"{self._get_name()}({self.extra_repr()}): expected 3D "
                               f"(unbatched) or 4D (batched) input, got input of shape "
                               f"{tuple(input.shape)}")
        if input.shape[-3] != self.in_channels:
            raise RuntimeError(f"{self._get_name()}({self.extra_repr()}): given groups="
                               f"{self.groups}, weight of size {tuple(self.weight.shape)}, "
                               f"expected input of shape {tuple(input.shape)} to have "
                               f"{self.in_channels} channels, but got {input.shape[-3]} "
                               "channels instead")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self) -> str:
        return conv_extra_repr(self, 2)


def conv_extra_repr(m, n: int) -> str:
    """A convolution's settings as PyTorch's repr lists them (the non-default ones)."""
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * n:
        s += f", padding={m.padding}"
    if m.dilation != (1,) * n:
        s += f", dilation={m.dilation}"
    if getattr(m, "output_padding", (0,) * n) != (0,) * n:
        s += f", output_padding={m.output_padding}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    if m.padding_mode != "zeros":
        s += f", padding_mode={m.padding_mode}"
    return s
