"""Linear (y = x W^T + b), Identity and Flatten."""
from __future__ import annotations

import math

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import _empty_parameter


class Identity(Module):
    """Returns its input; any constructor arguments are ignored (torch.nn.Identity)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    device, dtype : optional
        Where and in which dtype to create the parameters (default: CPU, default dtype).

    Shapes
    ------
    input (*, in_features) -> output (*, out_features)

    Notes
    -----
    weight (out_features, in_features) and bias are drawn from U(-k, k), k = 1/sqrt(in_features):
    kaiming_uniform_(a=sqrt(5)) for the weight, as PyTorch does.

    See Also
    --------
    torch.nn.Linear
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_parameter(out_features, in_features, device=device, dtype=dtype)
        if bias:
            self.bias = _empty_parameter(out_features, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the class Notes)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(f"{self._get_name()}({self.extra_repr()}): expected input with "
                               f"{self.in_features} features in its last dim, got input of "
                               f"shape {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (default: all but the batch dim).

    Shapes
    ------
    input (N, *dims) -> output (N, prod(dims)) with the defaults

    See Also
    --------
    torch.nn.Flatten
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
