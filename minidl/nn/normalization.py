"""BatchNorm1d and BatchNorm2d, with PyTorch's parameters, buffers and momentum rules."""
from __future__ import annotations

import numpy as np

from ..creation import ones, tensor, zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import _empty_parameter


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: weight, bias, running_mean, running_var,
    num_batches_tracked; the subclasses say which input ranks they take.

    `affine=False` drops weight and bias; the keyword-only `bias=False` (PyTorch 2.13)
    keeps only the weight.
    """

    _expected_ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = _empty_parameter(num_features, device=device, dtype=dtype)
            if bias:
                self.bias = _empty_parameter(num_features, device=device, dtype=dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device,
                                                       dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=np.int64,
                                                               device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Running stats to (0, 1, 0 batches); weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in self._expected_ndims:
            ranks = " or ".join(f"{n}D" for n in self._expected_ndims)
            raise ValueError(f"{self._get_name()}: expected {ranks} input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{self._get_name()}({self.num_features}): expected input with "
                               f"{self.num_features} channels in dim 1, got input of shape "
                               f"{tuple(input.shape)} ({input.shape[1]} channels)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        # momentum=None means a cumulative average: the factor is 1 / batches seen so far
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        # batch statistics while training, or in eval when there are no running ones
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, missing_keys: list,
                              unexpected_keys: list, error_msgs: list) -> None:
        # state dicts from before num_batches_tracked existed load as PyTorch loads them
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked.detach()
        super()._load_from_state_dict(state_dict, prefix, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input, per channel C.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with batch statistics while
    training (updating the running ones with `momentum`, or their cumulative average when
    momentum is None) and the running statistics in eval mode.

    Shapes
    ------
    input (N, C) or (N, C, L) -> output of the same shape

    See Also
    --------
    torch.nn.BatchNorm1d
    """

    _expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input, per channel C (see BatchNorm1d).

    Shapes
    ------
    input (N, C, H, W) -> output (N, C, H, W)

    See Also
    --------
    torch.nn.BatchNorm2d
    """

    _expected_ndims = (4,)
