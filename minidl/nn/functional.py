"""minidl.nn.functional (`import minidl.nn.functional as F`): the ops under PyTorch's names.

Everything here is the op from `minidl.ops`; the few wrappers below only adapt PyTorch's
extra arguments (`inplace`, softmax's `dtype` and implicit `dim`) and do no math.
"""
from __future__ import annotations

import warnings

from ..ops import (linear, conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, batch_norm,
                   sigmoid, tanh, cross_entropy, nll_loss, mse_loss, l1_loss,
                   binary_cross_entropy, binary_cross_entropy_with_logits, one_hot, flatten)
from ..ops import relu as _relu, leaky_relu as _leaky_relu, dropout as _dropout
from ..ops import softmax as _softmax, log_softmax as _log_softmax
from ..ops.embedding import embedding
from ..ops.loss2 import (smooth_l1_loss, huber_loss, kl_div, normalize, cosine_similarity,
                         pairwise_distance)
from ..ops.activation2 import (gelu, silu, softplus, elu, celu, selu, mish, hardtanh, relu6,
                               hardsigmoid, hardswish, logsigmoid, softsign, glu)
from ..ops.layer_norm import layer_norm
from ..ops.conv1d import conv1d
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from ..ops.padding import pad  # all four modes (replaces ops.shape's constant-only pad)
from ..ops.group_norm import group_norm, instance_norm, prelu, dropout1d, dropout2d
from ..ops.activation2 import threshold


from ..ops.activation2 import _maybe_inplace


def relu(input, inplace: bool = False):
    """max(input, 0) (torch.nn.functional.relu)."""
    return _maybe_inplace(input, _relu, inplace)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where positive, negative_slope * input elsewhere."""
    return _maybe_inplace(input, lambda x: _leaky_relu(x, negative_slope), inplace)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero elements with probability p, scale the rest by 1 / (1 - p), when training."""
    return _maybe_inplace(input, lambda x: _dropout(x, p, training),
                          inplace and training and p > 0)


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


def softmin(input, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """softmax(-x) along dim; dtype casts the input first."""
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmin")
    return _softmax(-(input if dtype is None else input.to(dtype)), dim)


__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm",
           "dropout", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax",
           "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot", "pad", "flatten", "embedding",
           "smooth_l1_loss", "huber_loss", "kl_div", "normalize", "cosine_similarity",
           "pairwise_distance", "gelu", "silu", "softplus", "elu", "celu", "selu", "mish",
           "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "softsign", "glu",
           "layer_norm"]
__all__ += ["conv1d", "conv_transpose1d", "conv_transpose2d", "group_norm", "instance_norm",
            "prelu", "dropout1d", "dropout2d", "threshold", "softmin"]

from ..ops.attention import scaled_dot_product_attention  # noqa: E402
__all__ += ["scaled_dot_product_attention"]
from ..ops.interpolate import interpolate, upsample  # noqa: E402
__all__ += ["interpolate", "upsample"]


# PyTorch's keyword names (input=, other=, axis=...) on every function here
from .._keywords import wrap_namespace as _wrap_namespace   # noqa: E402
_wrap_namespace(globals(), __all__)
