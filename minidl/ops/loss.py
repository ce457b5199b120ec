"""Losses: cross_entropy, nll_loss, mse_loss, l1_loss, binary_cross_entropy(_with_logits).

cross_entropy is one fused log-softmax + NLL op: the target (class indices, optionally
smoothed and weighted, or probabilities) becomes a distribution q over the classes and
loss = -sum_c q_c log_softmax(x)_c, with the stable backward softmax * sum(q) - q. Its
common case (2-D logits, class indices, no weight, no smoothing) skips building q: that is
ops.cross_entropy.ClassCrossEntropyFn, one kernel pass over the logits each way.
BCE clamps its logs at -100 as PyTorch does; BCE-with-logits uses a stable softplus.
Reductions follow PyTorch: a weighted 'mean' divides by the total weight of the targets.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.function import ArrayFunction, Function, torch_node
from ..backend import get_array_module
from .. import tensor as _tensor
from .activation import log_softmax, sigmoid, softmax
from .cross_entropy import ClassCrossEntropyFn
from .elementwise import log, log1p

_REDUCTIONS = ("none", "mean", "sum")
_BCE_EPS = float(np.float32(1e-12))


def _data(v):
    return v.array if isinstance(v, _tensor.Tensor) else v


class SoftmaxCrossEntropyFn(ArrayFunction):
    """loss = -sum_c q_c * log_softmax(x)_c along the class dim."""

    torch_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, q, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(x, q)
        ctx.dim = dim
        # classes with q = 0 contribute nothing, even where logp is -inf (a -inf logit)
        return -(q * xp.where(q != 0, logp, 0)).sum(axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        x, q = ctx.saved_tensors
        need_x, need_q = ctx.needs_input_grad[:2]
        g = grad_out.unsqueeze(ctx.dim)
        # dL/dx = softmax(x) * sum_c q_c - q (softmax - onehot for a plain target);
        # dL/dq = -log_softmax(x)
        grad_x = g * (softmax(x, ctx.dim) * q.sum(ctx.dim, keepdim=True) - q) if need_x else None
        grad_q = -g * log_softmax(x, ctx.dim) if need_q else None
        return grad_x, grad_q, None


class BinaryCrossEntropyFn(ArrayFunction):
    """l = -(t log x + (1 - t) log(1 - x)), each log clamped at -100 as PyTorch."""

    @staticmethod
    def forward(ctx, x, t):
        xp = get_array_module(x)
        with np.errstate(divide="ignore"):   # log(0) = -inf is clamped just below
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx, grad_out):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        # dl/dx = (x - t) / (x (1 - x)), the denominator kept >= PyTorch's EPSILON (1e-12
        # rounded to float32, as PyTorch stores it); dl/dt = log(1 - x) - log(x) = -logit(x)
        grad_x = grad_out * (x - t) / (x * (1 - x)).clamp(min=_BCE_EPS) if need_x else None
        grad_t = grad_out * (log1p(-x) - log(x)) if need_t else None
        return grad_x, grad_t


class SoftplusFn(ArrayFunction):
    """y = log(1 + exp(x)), computed as logaddexp(0, x) so it never overflows."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).logaddexp(0, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * sigmoid(x)               # dy/dx = sigmoid(x)


# ---- argument checks and reduction ----
def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction (expected "
                         f"'none', 'mean' or 'sum')")


def _reduce(loss, reduction: str, denominator=None):
    """'none' keeps per-element losses; 'sum' adds them; 'mean' divides by `denominator`
    (default: their number); a zero denominator gives nan, as in PyTorch."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if denominator is None:
        return loss.mean()
    return loss.sum() * (1.0 / denominator if denominator else float("nan"))


def _same_shape(input, target, op: str, error=ValueError) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise error(f"{op}: Using a target size ({tuple(target.shape)}) that is different to "
                    f"the input size ({tuple(input.shape)}); please ensure they have the same "
                    f"size")


def _class_weight(weight, n_classes: int, op: str):
    """The class weight as a plain array (weights are constants, as in PyTorch)."""
    if weight is None:
        return None
    w = _data(weight)
    if w.ndim != 1 or w.shape[0] != n_classes:
        raise RuntimeError(f"{op}: weight tensor should be defined either for all "
                           f"{n_classes} classes or no classes but got weight tensor of shape: "
                           f"{list(w.shape)}")
    return w


_TORCH_DTYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                      "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
                      "float64": "Double"}


def _dtype_word(dtype) -> str:
    """PyTorch's word for a dtype in its loss errors (Long, Float, ...)."""
    return _TORCH_DTYPE_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def check_target_dtype(input, target, op: str, rule: str) -> None:
    """PyTorch's dtype rules for a loss's target, with its wording; rule is 'same' (the
    input's dtype), 'float' (any floating dtype) or 'not bool'."""
    t = getattr(_data(target), "dtype", None)
    if t is None:
        return
    t = np.dtype(t)
    if rule == "same" and t != input.array.dtype:
        raise RuntimeError(f"{op}: Found dtype {_dtype_word(t)} but expected "
                           f"{_dtype_word(input.array.dtype)} (target {t}, input "
                           f"{input.array.dtype}); convert the target with .to(input.dtype)")
    if rule == "float" and t.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point target like the input "
                           f"({input.array.dtype}), got {t}; convert it with .float()")
    if rule == "not bool" and t.kind == "b":
        raise RuntimeError(f"{op}: Subtraction, the `-` operator, with a bool tensor is not "
                           f"supported (a bool target); convert it with .float()")


def _class_targets(input, target, ignore_index: int, op: str):
    """Check class-index targets; return (class dim, classes, safe targets, kept mask)."""
    if input.ndim == 0:
        raise RuntimeError(f"{op}: input must have at least 1 dim (classes), got a scalar")
    t = _data(target)
    if not hasattr(t, "dtype") or t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected class-index targets of an integer dtype, but got "
                           f"{getattr(t, 'dtype', type(t).__name__)} (target shape "
                           f"{tuple(np.shape(t))}, input shape {tuple(input.shape)})")
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte, but got "
                           f"{_dtype_word(t.dtype)} ({t.dtype}); convert it with .long()")
    dim = 0 if input.ndim == 1 else 1
    expected = tuple(input.shape[:dim]) + tuple(input.shape[dim + 1:])
    if input.ndim >= 2 and t.ndim >= 1 and t.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({t.shape[0]}) (input shape {tuple(input.shape)}, "
                         f"target shape {tuple(t.shape)})")
    if tuple(t.shape) != expected:
        raise RuntimeError(f"{op}: Expected target size {list(expected)}, got {list(t.shape)} "
                           f"(input shape {tuple(input.shape)})")
    n_classes = input.shape[dim]
    xp = get_array_module(t)
    kept = t != ignore_index
    bad = kept & ((t < 0) | (t >= n_classes))
    if bool(bad.any()):
        first = int(t[bad].ravel()[0])
        raise IndexError(f"{op}: Target {first} is out of bounds for {n_classes} classes "
                         f"(input shape {tuple(input.shape)})")
    safe = xp.where(kept, t, 0).astype(np.int64)
    return dim, n_classes, safe, kept


def _weight_sum(w, safe, kept) -> float:
    """The 'mean' denominator for class indices: the total weight of the kept targets."""
    if w is None:
        return float(kept.sum())
    return float((w[safe] * kept).sum())


# ---- public losses ----
@torch_node("NllLossBackward0")
def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    """Cross entropy between logits and targets, as one fused, stable op.

    Parameters
    ----------
    input : Tensor of logits (N, C), (N, C, d1, ...) or unbatched (C,).
    target : int Tensor of class indices (N,) / (N, d1, ...) / (), or a float Tensor of
        class probabilities with the shape of input.
    weight : optional (C,) Tensor of class weights (a constant: no gradient flows to it).
    ignore_index : class-index targets equal to it add no loss and no weight.
    reduction : 'none' | 'mean' | 'sum'. With class indices 'mean' divides by the total
        weight of the kept targets; with probabilities, by the number of samples.
    label_smoothing : eps in [0, 1]: the target becomes (1 - eps) * target + eps / C.

    Returns
    -------
    Tensor: a scalar, or per-sample losses of the target's (sample) shape for 'none'.

    Shapes
    ------
    input (N, C, ...) with target (N, ...) or (N, C, ...) -> () or (N, ...).

    See Also
    --------
    torch.nn.functional.cross_entropy
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy: expected floating point logits, got {input.dtype}")
    t = _data(target)
    if input.ndim >= 1 and tuple(np.shape(t)) == tuple(input.shape):
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    if (weight is None and label_smoothing == 0 and input.ndim == 2 and input.shape[1] > 0
            and getattr(t, "ndim", None) == 1 and t.dtype in (np.int64, np.uint8)
            and t.shape[0] == input.shape[0]):
        return ClassCrossEntropyFn.apply(input, t, int(ignore_index), reduction)
    dim, n_classes, safe, kept = _class_targets(input, target, ignore_index, "cross_entropy")
    w = _class_weight(weight, n_classes, "cross_entropy")
    xp = get_array_module(input.array)
    along = [1] * input.ndim
    along[dim] = n_classes
    classes = xp.arange(n_classes).reshape(along)
    onehot = classes == xp.expand_dims(safe, dim)
    # q = kept * w_c * ((1 - eps) * onehot + eps / C): smoothed, weighted, ignore-masked
    q = ((1.0 - label_smoothing) * onehot + label_smoothing / n_classes) \
        * xp.expand_dims(kept, dim)
    if w is not None:
        q = q * w.reshape(along)
    loss = SoftmaxCrossEntropyFn.apply(input, q.astype(input.dtype), dim)
    return _reduce(loss, reduction, _weight_sum(w, safe, kept))


def _cross_entropy_probs(input, target, weight, reduction: str, label_smoothing: float):
    """cross_entropy with class-probability targets (target shaped like input)."""
    if _data(target).dtype.kind != "f":
        raise RuntimeError(f"cross_entropy: Expected floating point type for target with class "
                           f"probabilities, got {_data(target).dtype} (target shape "
                           f"{tuple(target.shape)})")
    dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[dim]
    w = _class_weight(weight, n_classes, "cross_entropy")
    q = target if isinstance(target, _tensor.Tensor) else _tensor.constant(target)
    if label_smoothing > 0:
        q = q * (1.0 - label_smoothing) + label_smoothing / n_classes
    if w is not None:
        along = [1] * input.ndim
        along[dim] = n_classes
        q = q * _tensor.constant(w.reshape(along).astype(input.dtype, copy=False))
    loss = SoftmaxCrossEntropyFn.apply(input, q, dim)
    return _reduce(loss, reduction, input.array.size / n_classes)


@torch_node("NllLossBackward0")
def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood: -weight[t] * input[t] for log-probability inputs.

    Parameters
    ----------
    input : Tensor of log-probabilities (N, C), (N, C, d1, ...) or unbatched (C,).
    target : int Tensor of class indices (N,), (N, d1, ...) or ().
    weight : optional (C,) Tensor of class weights (a constant).
    ignore_index : targets equal to it add no loss and no weight.
    reduction : 'none' | 'mean' (divides by the total weight of kept targets) | 'sum'.

    Returns
    -------
    Tensor: a scalar, or per-sample losses of the target's shape for 'none'.

    Shapes
    ------
    input (N, C, ...) with target (N, ...) -> () or (N, ...).

    See Also
    --------
    torch.nn.functional.nll_loss
    """
    _check_reduction(reduction, "nll_loss")
    dim, n_classes, safe, kept = _class_targets(input, target, ignore_index, "nll_loss")
    w = _class_weight(weight, n_classes, "nll_loss")
    xp = get_array_module(input.array)
    # pick input[n, t[n, ...], ...]: the target's own positions on the other axes
    axes = [xp.arange(s).reshape([-1 if k == i else 1 for k in range(safe.ndim)])
            for i, s in enumerate(safe.shape)]
    picked = input[tuple(axes[:dim]) + (safe,) + tuple(axes[dim:])]
    scale = kept.astype(input.dtype) if w is None else (w[safe] * kept).astype(input.dtype)
    loss = -picked * _tensor.constant(scale)
    return _reduce(loss, reduction, _weight_sum(w, safe, kept))


@torch_node("MseLossBackward0")
def mse_loss(input, target, reduction: str = "mean"):
    """Mean squared error (x - t)^2, reduced.

    Shapes: input and target of the same shape (broadcast with a warning, as PyTorch).

    See Also
    --------
    torch.nn.functional.mse_loss
    """
    _check_reduction(reduction, "mse_loss")
    _warn_broadcast(input, target, "mse_loss")
    if not isinstance(target, _tensor.Tensor):
        target = _tensor.constant(get_array_module(input.array).asarray(target))
    return MseLossFn.apply(input, target, reduction)


class MseLossFn(Function):
    """(x - t)^2, reduced: one node, as PyTorch's MseLossBackward0 (its backward,
    2 (x - t) times the gradient, is written in tensor ops, so it differentiates again)."""

    @staticmethod
    def forward(ctx, input, target, reduction):
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.shape = reduction, np.broadcast_shapes(tuple(input.shape),
                                                                  tuple(target.shape))
        diff = input - target
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad_out):
        input, target = ctx.saved_tensors
        if ctx.reduction == "mean":
            count = math.prod(ctx.shape)
            grad_out = grad_out / (count if count else float("nan"))
        g = grad_out.expand(ctx.shape) if ctx.reduction != "none" else grad_out
        half = g * (input - target)            # d/dx (x - t)^2 = 2 (x - t): half, doubled
        grad = half + half
        need_input, need_target = ctx.needs_input_grad[:2]
        return grad if need_input else None, -grad if need_target else None, None


def l1_loss(input, target, reduction: str = "mean"):
    """Mean absolute error |x - t|, reduced (the gradient at x = t is 0, as PyTorch).

    Shapes: input and target of the same shape (broadcast with a warning, as PyTorch).

    See Also
    --------
    torch.nn.functional.l1_loss
    """
    _check_reduction(reduction, "l1_loss")
    _warn_broadcast(input, target, "l1_loss")
    check_target_dtype(input, target, "l1_loss", "not bool")
    return _reduce((input - target).abs(), reduction)


def _warn_broadcast(input, target, op: str) -> None:
    if tuple(np.shape(_data(target))) != tuple(input.shape):
        warnings.warn(f"{op}: Using a target size ({tuple(np.shape(_data(target)))}) that is "
                      f"different to the input size ({tuple(input.shape)}). This will likely "
                      f"lead to incorrect results due to broadcasting. Please ensure they have "
                      f"the same size.", UserWarning, stacklevel=3)


@torch_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """Binary cross entropy of probabilities: -w (t log x + (1 - t) log(1 - x)).

    Parameters
    ----------
    input : Tensor of probabilities in [0, 1].
    target : Tensor of the same shape (values in [0, 1]).
    weight : optional Tensor broadcast to input's shape, multiplying each element.
    reduction : 'none' | 'mean' | 'sum'.

    Shapes: input, target (*) -> () or (*) for 'none'.

    See Also
    --------
    torch.nn.functional.binary_cross_entropy
    """
    _check_reduction(reduction, "binary_cross_entropy")
    _same_shape(input, target, "binary_cross_entropy")
    check_target_dtype(input, target, "binary_cross_entropy", "same")
    x = input.array
    if x.size and not bool(((x >= 0) & (x <= 1)).all()):
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 "
                           f"and 1 (input shape {tuple(input.shape)})")
    loss = BinaryCrossEntropyFn.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@torch_node("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    """BCE of sigmoid(x), stable for any logit: (1 - t) x + (1 + (p - 1) t) softplus(-x).

    Parameters
    ----------
    input : Tensor of logits.
    target : Tensor of the same shape (values in [0, 1]).
    weight : optional Tensor broadcast to input's shape, multiplying each element.
    reduction : 'none' | 'mean' | 'sum'.
    pos_weight : optional Tensor broadcast along the last dim (classes), weighting the
        positive term t log sigmoid(x).

    Shapes: input, target (*) -> () or (*) for 'none'.

    See Also
    --------
    torch.nn.functional.binary_cross_entropy_with_logits
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    check_target_dtype(input, target, "binary_cross_entropy_with_logits", "float")
    softplus_neg = SoftplusFn.apply(-input)          # -log(sigmoid(x)), never overflows
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = loss * weight
    t = getattr(_data(target), "dtype", input.array.dtype)
    if np.dtype(t).itemsize < input.array.dtype.itemsize:
        loss = loss.to(t)           # PyTorch's: a float64 input with a float32 target
    return _reduce(loss, reduction)
