"""Parameter: a Tensor that a Module registers as one of its learnable weights."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and that Modules register on assignment.

    Parameters
    ----------
    data : Tensor or array_like, optional
        The initial values. A Tensor's array is shared, not copied (as in PyTorch); None
        gives an empty float tensor.
    requires_grad : bool, default True

    See Also
    --------
    torch.nn.Parameter
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        super().__init__(data, requires_grad=requires_grad)   # a Tensor's array is shared

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.array.copy(), self.requires_grad)
        memo[id(self)] = result
        return result


def _empty_parameter(*shape: int, device=None, dtype=None) -> Parameter:
    """An uninitialised (zero) Parameter of the default dtype, for a layer to initialise."""
    from ..creation import zeros
    return Parameter(zeros(*shape, dtype=dtype, device=device))
