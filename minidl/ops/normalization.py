"""batch_norm, dropout and one_hot: composites of existing ops (gradients come for free).

batch_norm also updates the running statistics in place, on the raw arrays, exactly as
PyTorch does: running = (1 - momentum) * running + momentum * batch statistic, with the
unbiased batch variance for running_var and the biased one for normalising.
"""
from __future__ import annotations

from ..autograd.function import torch_node
import numpy as np

from .. import backend, creation
from .. import tensor as _tensor
from .arithmetic import add, mul, sub
from .elementwise import rsqrt
from .reduction import mean
from .shape import reshape


def _check_channel_tensor(t, name: str, x, channels: int) -> None:
    if t is None:
        return
    if tuple(t.shape) != (channels,):
        raise RuntimeError(f"batch_norm: {name} should have shape ({channels},) for input of "
                           f"shape {tuple(x.shape)} with {channels} channels, got "
                           f"{tuple(t.shape)}")
    if t.dtype != x.dtype:
        raise RuntimeError(f"batch_norm: expected {name} to have the input's dtype {x.dtype}, "
                           f"got {t.dtype}")


def _update_running(running, batch_stat, momentum: float) -> None:
    """running <- (1 - momentum) * running + momentum * batch_stat, in place, untracked."""
    stat = batch_stat.astype(running.dtype, copy=False)
    running._assign((1 - momentum) * running.array + momentum * stat)


@torch_node("NativeBatchNormBackward0")
def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel (dim 1) by batch statistics (training) or running ones.

    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    Parameters
    ----------
    input : Tensor
        Shape (N, C) or (N, C, *).
    running_mean, running_var : Tensor or None
        Shape (C,). Used to normalise when not training; when training they are updated
        in place, running_var with the unbiased batch variance.
    weight, bias : Tensor or None
        Shape (C,), the affine transform applied after normalising.
    training : bool
        Use batch statistics (and update the running ones) instead of the running ones.
    momentum : float
        Weight of the batch statistic in the running update.
    eps : float
        Added to the variance for stability.

    Returns
    -------
    Tensor of input's shape.

    Shapes
    ------
    input (N, C, *) -> output (N, C, *)

    See Also
    --------
    torch.nn.functional.batch_norm
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input with at least 2 dims (N, C, ...), got "
                         f"shape {tuple(input.shape)}")
    channels = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_channel_tensor(t, name, input, channels)
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.array.size // channels if channels else 0
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {tuple(input.shape)}")
        dims = (0,) + tuple(range(2, input.ndim))
        batch_mean = mean(input, dims, keepdim=True)
        centered = sub(input, batch_mean)
        batch_var = mean(mul(centered, centered), dims, keepdim=True)     # biased
        if running_mean is not None:
            _update_running(running_mean, batch_mean.array.reshape(channels), momentum)
        if running_var is not None:
            unbiased = batch_var.array.reshape(channels) * (count / (count - 1))
            _update_running(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when "
                               "training=False")
        centered = sub(input, reshape(running_mean.detach(), stat_shape))
        batch_var = reshape(running_var.detach(), stat_shape)
    y = mul(centered, rsqrt(add(batch_var, eps)))
    if weight is not None:
        y = mul(y, reshape(weight, stat_shape))
    if bias is not None:
        y = add(y, reshape(bias, stat_shape))
    return y


def dropout(input, p: float = 0.5, training: bool = True):
    """Zero each element with probability p and scale the rest by 1 / (1 - p).

    The mask is drawn from `minidl.creation.default_generator()`, so `manual_seed` repeats
    it; when not training (or p == 0) the input is returned unchanged.

    See Also
    --------
    torch.nn.functional.dropout
    """
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    keep = creation.default_generator().random(input.shape) < 1.0 - p
    scale = keep.astype(input.dtype)
    if p < 1:
        scale /= scale.dtype.type(1.0 - p)
    return mul(input, _tensor.constant(backend.to_device(scale, input.device)))


def one_hot(tensor, num_classes: int = -1):
    """Class indices (int64, any shape S) -> int64 tensor of shape S + (num_classes,).

    num_classes=-1 takes the largest index plus one.

    See Also
    --------
    torch.nn.functional.one_hot
    """
    if tensor.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(int64), got {tensor.dtype}")
    data = tensor.array
    xp = backend.get_array_module(data)
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    elif num_classes < 1 and not (num_classes == 0 and data.size == 0):
        raise RuntimeError(f"one_hot: num_classes should be positive or -1, got {num_classes}")
    if data.size and int(data.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if data.size and int(data.max()) >= num_classes:
        raise RuntimeError(f"Class values must be smaller than num_classes ({num_classes}), "
                           f"got a class value of {int(data.max())}.")
    out = data[..., None] == xp.arange(num_classes).reshape((1,) * data.ndim + (-1,))
    return _tensor.constant(out.astype(np.int64))

