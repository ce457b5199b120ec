"""GroupNorm, InstanceNorm1d/2d, PReLU, Dropout1d/2d, Threshold, Softmin and the padding
layers (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad in 1-3 d), as
Modules with torch.nn's names, defaults, parameters, reprs and errors. Each holds its
settings and parameters and calls functional."""
from __future__ import annotations

import warnings

from . import functional as F
from . import init
from .dropout import Dropout
from .module import Module
from .normalization import _BatchNorm
from .parameter import _empty_parameter


class GroupNorm(Module):
    """Normalise each group of num_channels / num_groups channels of each sample over its
    channels and positions, then scale and shift per channel (torch.nn.GroupNorm).

    weight starts at ones and bias at zeros; affine=False has neither, bias=False
    (keyword-only, as in PyTorch) only the weight.

    Shapes
    ------
    input (N, C, *) -> output (N, C, *)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = _empty_parameter(num_channels, device=device, dtype=dtype)
            if bias:
                self.bias = _empty_parameter(num_channels, device=device, dtype=dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """BatchNorm's parameters and buffers with instance statistics: each channel of each
    sample normalised over its positions. Defaults affine=False, track_running_stats=False;
    with running stats, eval mode normalises by them (PyTorch's rule)."""

    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        n = self._spatial
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.ndim}D input)")
        feature_dim = input.ndim - n - 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. "
                          "You can silence this warning by not passing in num_features, "
                          "which is not used because affine=False", stacklevel=2)
        x = input if input.ndim == n + 2 else input.unsqueeze(0)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y if input.ndim == n + 2 else y.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input (torch.nn.InstanceNorm1d)."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input (torch.nn.InstanceNorm2d)."""

    _spatial = 2


class PReLU(Module):
    """y = x if x > 0 else a * x, with a learned slope a: one for all channels, or one per
    channel (dim 1) with num_parameters = C (torch.nn.PReLU). Every slope starts at init."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = _empty_parameter(num_parameters, device=device, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p while training,
    scaling the rest by 1 / (1 - p) (torch.nn.Dropout1d)."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) input with probability p while training
    (torch.nn.Dropout2d; a 3-D input is taken as (N, C, L), with PyTorch's warning)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Threshold(Module):
    """y = x if x > threshold else value (torch.nn.Threshold)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class Softmin(Module):
    """softmax(-x) along dim (torch.nn.Softmin)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _PadNd(Module):
    """Pad the last `_dims` dims by `padding` (an int for every side, or PyTorch's flat
    (left, right, top, bottom, front, back) tuple) in `_mode`."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = (padding,) * (2 * self._dims) if isinstance(padding, int) else tuple(
            padding)
        self.value = value

    def forward(self, input):
        if self._mode == "circular" and input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"expected {self._dims + 1}D or {self._dims + 2}D input (got "
                             f"{input.ndim}D input)")
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _pad_class(name: str, base, dims: int, mode: str):
    doc = f"torch.nn.{name}: F.pad of the last {dims} dim(s) in '{mode}' mode."
    return type(name, (base,), {"_dims": dims, "_mode": mode, "__doc__": doc,
                                "__module__": __name__})


ConstantPad1d = _pad_class("ConstantPad1d", _ConstantPadNd, 1, "constant")
ConstantPad2d = _pad_class("ConstantPad2d", _ConstantPadNd, 2, "constant")
ConstantPad3d = _pad_class("ConstantPad3d", _ConstantPadNd, 3, "constant")
ZeroPad1d = _pad_class("ZeroPad1d", _ZeroPadNd, 1, "constant")
ZeroPad2d = _pad_class("ZeroPad2d", _ZeroPadNd, 2, "constant")
ZeroPad3d = _pad_class("ZeroPad3d", _ZeroPadNd, 3, "constant")
ReflectionPad1d = _pad_class("ReflectionPad1d", _PadNd, 1, "reflect")
ReflectionPad2d = _pad_class("ReflectionPad2d", _PadNd, 2, "reflect")
ReflectionPad3d = _pad_class("ReflectionPad3d", _PadNd, 3, "reflect")
ReplicationPad1d = _pad_class("ReplicationPad1d", _PadNd, 1, "replicate")
ReplicationPad2d = _pad_class("ReplicationPad2d", _PadNd, 2, "replicate")
ReplicationPad3d = _pad_class("ReplicationPad3d", _PadNd, 3, "replicate")
CircularPad1d = _pad_class("CircularPad1d", _PadNd, 1, "circular")
CircularPad2d = _pad_class("CircularPad2d", _PadNd, 2, "circular")
CircularPad3d = _pad_class("CircularPad3d", _PadNd, 3, "circular")
