"""Loss modules: CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss.

Each stores its options (class weights as a buffer, as PyTorch does, so they move with
`to()` and appear in state_dict) and calls its function in `nn.functional`.
"""
from __future__ import annotations

import warnings

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce flags to `reduction`."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    return reduction


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits against class indices or class probabilities.

    Parameters
    ----------
    weight : Tensor (C,), optional
        A rescaling weight per class.
    ignore_index : int, default -100
        Targets with this class contribute nothing (and leave the mean's divisor).
    reduction : 'mean' | 'sum' | 'none'
    label_smoothing : float in [0, 1], default 0

    Shapes
    ------
    input (N, C) or (N, C, d1, ...) logits; target (N) or (N, d1, ...) int64 class indices,
    or probabilities of input's shape; output scalar, or (N, d1, ...) with 'none'.

    See Also
    --------
    torch.nn.CrossEntropyLoss
    """

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities at the target classes.

    Shapes
    ------
    input (N, C) or (N, C, d1, ...) log-probabilities; target (N) or (N, d1, ...) int64;
    output scalar, or (N, d1, ...) with reduction='none'.

    See Also
    --------
    torch.nn.NLLLoss
    """

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error (input - target)^2.

    Shapes
    ------
    input (*), target (*) of the same shape; output scalar, or (*) with reduction='none'.

    See Also
    --------
    torch.nn.MSELoss
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|.

    Shapes
    ------
    input (*), target (*) of the same shape; output scalar, or (*) with reduction='none'.

    See Also
    --------
    torch.nn.L1Loss
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] against targets in [0, 1].

    Shapes
    ------
    input (*), target (*), weight broadcastable to them; output scalar, or (*) with
    reduction='none'.

    See Also
    --------
    torch.nn.BCELoss
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (a sigmoid fused in, stable for any logit).

    Parameters
    ----------
    weight : Tensor, optional
        Rescaling weight broadcastable to the input.
    reduction : 'mean' | 'sum' | 'none'
    pos_weight : Tensor, optional
        Weight of the positive term, broadcast along the last (class) dim.

    Shapes
    ------
    input (*), target (*); output scalar, or (*) with reduction='none'.

    See Also
    --------
    torch.nn.BCEWithLogitsLoss
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)
