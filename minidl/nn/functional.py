"""minidl.nn.functional (`import minidl.nn.functional as F`): the ops under PyTorch's names.

Everything here is the op from `minidl.ops`; the few wrappers below only adapt PyTorch's
extra arguments (`inplace`, softmax's `dtype` and implicit `dim`) and do no math.
"""
from __future__ import annotations

import warnings

from ..ops import (linear, conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, batch_norm,
                   sigmoid, tanh, cross_entropy, nll_loss, mse_loss, l1_loss,
                   binary_cross_entropy, binary_cross_entropy_with_logits, one_hot, pad, flatten)
from ..ops import relu as _relu, leaky_relu as _leaky_relu, dropout as _dropout
from ..ops import softmax as _softmax, log_softmax as _log_softmax


def _maybe_inplace(input, result, inplace: bool):
    """With inplace=True, make `input` hold the result (Tensor._inplace's PyTorch rules)."""
    return input._inplace(result) if inplace else result


def relu(input, inplace: bool = False):
    """max(input, 0) (torch.nn.functional.relu)."""
    return _maybe_inplace(input, _relu(input), inplace)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where positive, negative_slope * input elsewhere."""
    return _maybe_inplace(input, _leaky_relu(input, negative_slope), inplace)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero elements with probability p, scale the rest by 1 / (1 - p), when training."""
    return _maybe_inplace(input, _dropout(input, p, training), inplace and training and p > 0)


def _implicit_dim(ndim: int, op: str) -> int:
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """exp(x) / sum(exp(x)) along dim; dtype casts the input first."""
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmax")
    return _softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """log(softmax(x)) along dim; dtype casts the input first."""
    if dim is None:
        dim = _implicit_dim(input.ndim, "log_softmax")
    return _log_softmax(input if dtype is None else input.to(dtype), dim)


__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm",
           "dropout", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax",
           "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot", "pad", "flatten"]
