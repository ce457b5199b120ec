"""Per-channel ops on (N, C, *) input: group_norm and instance_norm (normalisation over
groups of channels of each sample), prelu (a learned slope per channel) and dropout1d /
dropout2d (whole channels zeroed).

The norms are composed of Tensor ops (mean, subtract, rsqrt, multiply), so their gradients and
second derivatives come for free, as layer_norm's. GroupNorm splits the C channels of
each sample into G groups and normalises each group over its channels and positions;
instance_norm is the case G = C, plus the optional running statistics of PyTorch's
InstanceNorm (updated in place, as batch_norm updates them).
"""
from __future__ import annotations

import math
import warnings

from .. import backend, creation
from ..tensor import constant as _constant
from .arithmetic import mul
from .normalization import _update_running
from .select import where
from .shape import reshape


def _channel_shape(input) -> tuple:
    """(1, C, 1, ...): a per-channel vector broadcast over input (N, C, *)."""
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def _affine(y, weight, bias, input):
    if weight is not None:
        y = y * reshape(weight, _channel_shape(input))
    if bias is not None:
        y = y + reshape(bias, _channel_shape(input))
    return y


def _normalize(x, dims, eps: float):
    """(x - mean) / sqrt(biased var + eps) over dims, and the per-slice mean and var."""
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered * (var + eps).rsqrt(), mean, var


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Group normalisation: per sample, each group of C / num_groups channels is
    normalised by its mean and biased variance, then scaled and shifted per channel.

    Parameters
    ----------
    input : Tensor (N, C, *)
    num_groups : int dividing C
    weight, bias : optional Tensors (C,)
    eps : float, added to the variance

    Returns
    -------
    Tensor of input's shape.

    See Also
    --------
    torch.nn.functional.group_norm
    """
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    N, C = input.shape[:2]
    if not isinstance(num_groups, int) or num_groups < 1 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    # (N, C, *) -> (N, G, C/G * prod(*)): each group's values in one row
    grouped = reshape(input, (N, num_groups, input.array.size // max(N * num_groups, 1)))
    y, _, _ = _normalize(grouped, (2,), eps)
    return _affine(reshape(y, input.shape), weight, bias, input)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Instance normalisation: each channel of each sample normalised over its positions.

    Parameters
    ----------
    input : Tensor (N, C, *), at least one position per channel
    running_mean, running_var : optional Tensors (C,). With use_input_stats they are
        updated in place with the batch average of the per-instance mean and unbiased
        variance (PyTorch's rule); without it they are what input is normalised by.
    weight, bias : optional Tensors (C,)
    use_input_stats : bool, default True
    momentum, eps : float

    Returns
    -------
    Tensor of input's shape.

    See Also
    --------
    torch.nn.functional.instance_norm
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input with at least 3 dims (N, C, *), got "
                         f"shape {tuple(input.shape)}")
    C = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"instance_norm: {name} should have shape ({C},) for input of "
                               f"shape {tuple(input.shape)}, got {tuple(t.shape)}")
    dims = tuple(range(2, input.ndim))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        shape = _channel_shape(input)
        centered = input - reshape(running_mean.detach(), shape)
        y = centered * (reshape(running_var.detach(), shape) + eps).rsqrt()
        return _affine(y, weight, bias, input)
    count = math.prod(input.shape[2:])         # positions per (sample, channel)
    if count <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {list(input.shape)}")
    y, mean, var = _normalize(input, dims, eps)
    if running_mean is not None:
        _update_running(running_mean, mean.array.reshape(-1, C).mean(0), momentum)
    if running_var is not None:
        unbiased = var.array.reshape(-1, C) * (count / (count - 1))
        _update_running(running_var, unbiased.mean(0), momentum)
    return _affine(y, weight, bias, input)


def prelu(input, weight):
    """x where x > 0, else weight * x, with one slope per channel (dim 1) or one for all.

    Parameters
    ----------
    input : Tensor (N, C, *) or any shape when weight has one element
    weight : Tensor (C,) or (1,) (or 0-d)

    See Also
    --------
    torch.nn.functional.prelu
    """
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    n = weight.array.size
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels}.")
    slope = reshape(weight, ()) if n == 1 else reshape(weight, _channel_shape(input))
    return where(input > 0, input, slope * input)


def _check_p(p) -> None:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _feature_dropout(input, p: float, training: bool, inplace: bool):
    """Zero whole (sample, channel) slices with probability p, scale the rest by 1/(1-p):
    one draw per input[n, c], broadcast over the positions (PyTorch's feature_dropout)."""
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = creation.default_generator().random(mask_shape) < 1.0 - p
    scale = keep.astype(input.dtype)
    if p < 1:
        scale /= scale.dtype.type(1.0 - p)
    scale = _constant(backend.to_device(scale, input.device))
    return input._inplace(mul, scale) if inplace else mul(input, scale)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) input with probability p (torch's dropout2d).

    As in PyTorch, a 3-D input is taken as (N, C, L) (with PyTorch's warning: channel-wise
    1-D dropout), and other ranks warn and drop per input[n, c].

    See Also
    --------
    torch.nn.functional.dropout2d
    """
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or unbatched (C, L) input with probability p.

    See Also
    --------
    torch.nn.functional.dropout1d
    """
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 3:
        return _feature_dropout(input, p, training, inplace)
    def compute(x):
        return _feature_dropout(x.unsqueeze(0), p, training, False).squeeze(0)
    return input._inplace(compute) if inplace and training and p > 0 else compute(input)
