"""More losses and distances, composed of Tensor ops (their gradients come from those):
smooth_l1_loss, huber_loss, kl_div, cosine_similarity, pairwise_distance, normalize."""
from __future__ import annotations

from ..autograd.function import torch_node
import numpy as np

from .loss import _check_reduction, _reduce, _warn_broadcast, check_target_dtype
from .select import where


@torch_node("SmoothL1LossBackward0")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """0.5 (x - t)^2 / beta where |x - t| < beta, else |x - t| - 0.5 beta (beta=0: L1)."""
    _check_reduction(reduction, "smooth_l1_loss")
    _warn_broadcast(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    diff = (input - target).abs()
    if beta == 0:
        return _reduce(diff, reduction)
    return _reduce(where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta), reduction)


@torch_node("HuberLossBackward0")
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    """0.5 (x - t)^2 where |x - t| < delta, else delta (|x - t| - 0.5 delta)."""
    _check_reduction(reduction, "huber_loss")
    _warn_broadcast(input, target, "huber_loss")
    if getattr(target, "dtype", input.dtype) != input.dtype:
        target = target.to(input.dtype)          # PyTorch's: the loss in input's dtype
    diff = (input - target).abs()
    return _reduce(where(diff < delta, 0.5 * diff * diff, delta * (diff - 0.5 * delta)),
                   reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """KL divergence with `input` as log-probabilities: target (log target - input)."""
    if reduction not in ("none", "sum", "mean", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if getattr(target, "dtype", None) is not None and np.dtype(target.dtype).kind not in "fc":
        raise RuntimeError(f"kl_div: Integral inputs not supported (a {target.dtype} target); "
                           "convert it with .float()")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = where(target > 0, target * (target.clamp(min=1e-45 if target.dtype.itemsize
                                                        >= 8 else 1e-38).log() - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """input / max(||input||_p along dim, eps)."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """<x1, x2> / max(||x1|| ||x2||, eps) along dim."""
    dot = (x1 * x2).sum(dim)
    n1 = (x1 * x1).sum(dim)
    n2 = (x2 * x2).sum(dim)
    return dot / (n1 * n2).clamp(min=eps * eps).sqrt()


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p along the last dim."""
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)
