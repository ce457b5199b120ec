"""Dropout: random zeroing in training mode, the identity in eval mode."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability p while training; scale the kept ones by
    1 / (1 - p), so eval mode (the identity) needs no rescaling.

    The mask comes from `minidl.creation.default_generator()` (repeatable with
    `minidl.manual_seed`).

    Shapes
    ------
    input (*) -> output (*)

    See Also
    --------
    torch.nn.Dropout
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
