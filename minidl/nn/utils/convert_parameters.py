"""parameters_to_vector / vector_to_parameters (torch.nn.utils)."""
from __future__ import annotations

from ...autograd.grad_mode import no_grad


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ... import ops
    return ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy slices of the 1-D `vec` into the parameters, in order."""
    from ...tensor import Tensor
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.array = vec.array[start:start + n].reshape(p.shape).astype(p.array.dtype)
            start += n
