"""embedding: rows of a weight matrix picked by integer indices (a lookup table).

Forward is `weight[input]`; backward adds each output row's gradient into the row it came
from (np.add.at, so repeated indices add up), except the `padding_idx` row, which never
gets a gradient, as in PyTorch.
"""
from __future__ import annotations

from ..autograd.function import torch_node
from ..tensor import constant
from .shape import getitem


@torch_node("EmbeddingBackward0")
def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False):
    """Rows `weight[input]` (torch.nn.functional.embedding).

    Shapes
    ------
    input (*) integer indices, weight (num_embeddings, embedding_dim)
    -> output (*, embedding_dim)
    """
    if input.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one "
                           f"of the following scalar types: Long, Int; but got "
                           f"{input.dtype} instead (while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {tuple(weight.shape)}")
    n = weight.shape[0]
    idx = input.array
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for a table of {n} rows")
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm (renormalising rows in place) is not "
                                  "implemented in minidl")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are "
                                  "not implemented in minidl")
    if padding_idx is None:
        return getitem(weight, input)
    if padding_idx < 0:
        padding_idx += n
    # the padding row's gradient is cut: its lookups go through a detached copy of weight
    keep = constant((idx != padding_idx)[..., None].astype(weight.array.dtype))
    picked = getitem(weight, input)
    return picked * keep + getitem(weight.detach(), input) * (1 - keep)
