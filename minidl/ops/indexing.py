"""Index-driven ops: gather, scatter, scatter_add, index_select, masked_select, nonzero.

Each is written as advanced indexing (`getitem`, `index_put`, `IndexAddFn` in ops/shape.py),
so its gradient comes from those ops: gather's backward is a scatter-add, scatter's
backward to `src` is a gather, to `input` the gradient with the written places zeroed.
"""
from __future__ import annotations

from ..autograd.function import torch_node
import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, constant
from .dims import normalize_dim
from .shape import IndexAddFn, getitem, index_put


def _index_tensor(index, op: str):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.array.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got "
                           f"{index.array.dtype}")
    return index.array


def _along(index: np.ndarray, dim: int, size: int, op: str) -> tuple:
    """The advanced-index tuple that picks `index` along `dim` and the index's own
    position along every other dim (the meaning of gather/scatter's index)."""
    xp = get_array_module(index)
    if index.size and (int(index.min()) < -size or int(index.max()) >= size):
        bad = int(index.max()) if int(index.max()) >= size else int(index.min())
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {dim} with "
                           f"size {size}")
    grids = list(xp.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _check_ranks(input, index, op: str, src=None) -> None:
    if index.ndim != input.ndim and not (index.ndim == 0 and input.ndim == 0):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"input tensor (input {tuple(input.shape)}, index "
                           f"{tuple(index.shape)})")
    if src is not None and isinstance(src, Tensor) and any(
            i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(f"{op}(): Expected index {list(index.shape)} to be smaller than "
                           f"src {list(src.shape)}")


@torch_node("GatherBackward0")
def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """out[i][j][k] = input[index[i][j][k]][j][k] along `dim` (torch.gather)."""
    idx = _index_tensor(index, "gather")
    dim = normalize_dim(dim, input.ndim, "gather")
    _check_ranks(input, index, "gather")
    for d, (i, s) in enumerate(zip(idx.shape, input.shape)):
        if d != dim and i > s:
            raise RuntimeError(f"gather(): Size does not match at dimension {d} expected "
                               f"index {list(idx.shape)} to be smaller than self "
                               f"{list(input.shape)} apart from dimension {dim}")
    return getitem(input, _along(idx, dim, input.shape[dim], "gather"))


@torch_node("TakeAlongDimBackward0")
def take_along_dim(input, indices, dim: int | None = None):
    """gather with broadcasting, as numpy.take_along_axis (torch.take_along_dim)."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    dim = normalize_dim(dim, input.ndim, "take_along_dim")
    shape = list(np.broadcast_shapes(tuple(input.shape[:dim]) + (1,) + tuple(
        input.shape[dim + 1:]), tuple(indices.shape[:dim]) + (1,) + tuple(
        indices.shape[dim + 1:])))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[dim], i_shape[dim] = input.shape[dim], indices.shape[dim]
    return gather(input.expand(*x_shape), dim, indices.expand(*i_shape))


def _src_at(src, idx: np.ndarray, like):
    """src restricted to the index's shape (or a scalar value broadcast to it)."""
    if isinstance(src, Tensor):
        if tuple(src.shape) != tuple(idx.shape):
            src = src[tuple(slice(0, n) for n in idx.shape)]
        return src
    xp = get_array_module(like.array)
    return constant(xp.full(idx.shape, src, dtype=like.array.dtype))


@torch_node("ScatterBackward0")
def scatter(input, dim: int, index, src=None, *, value=None, reduce: str | None = None):
    """A copy of input with src (or value) written at index along dim (torch.scatter);
    `reduce='add'|'multiply'` combines instead of overwriting."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    idx = _index_tensor(index, "scatter")
    dim = normalize_dim(dim, input.ndim, "scatter")
    _check_ranks(input, index, "scatter")
    where = _along(idx, dim, input.shape[dim], "scatter")
    if reduce == "add":
        return scatter_add(input, dim, index, _src_at(src, idx, input))
    if reduce == "multiply":
        raise NotImplementedError("scatter(reduce='multiply') is not implemented in minidl")
    if reduce is not None:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    return index_put(input, where, _src_at(src, idx, input))


@torch_node("ScatterAddBackward0")
def scatter_add(input, dim: int, index, src):
    """A copy of input with src added at index along dim; repeated indices add up."""
    idx = _index_tensor(index, "scatter_add")
    dim = normalize_dim(dim, input.ndim, "scatter_add")
    _check_ranks(input, index, "scatter_add", src)
    where = _along(idx, dim, input.shape[dim], "scatter_add")
    return input + IndexAddFn.apply(_src_at(src, idx, input), tuple(input.shape), where, True)


def _vector_index(input, dim: int, index, op: str):
    """index_select's and index_add's index: a vector of positions along dim, in range;
    returns (the index array, dim made non-negative)."""
    idx = _index_tensor(index, op.rstrip("_"))
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    dim = normalize_dim(dim, max(input.ndim, 1), op.rstrip("_"))
    size = input.shape[dim] if input.ndim else 1
    if idx.size and (int(idx.min()) < -size or int(idx.max()) >= size):
        raise IndexError(f"{op}(): index {int(idx.max())} is out of range for "
                         f"dimension {dim} (of size {size})")
    return idx, dim


@torch_node("IndexSelectBackward0")
def index_select(input, dim: int, index):
    """The entries of input at `index` (1-D int64) along dim (torch.index_select)."""
    idx, dim = _vector_index(input, dim, index, "index_select")
    return getitem(input, (slice(None),) * dim + (idx.reshape(-1),))


@torch_node("IndexAddBackward0")
def index_add(input, dim: int, index, source, *, alpha=1):
    """A copy of input with alpha * source[..., i, ...] added at input[..., index[i], ...]
    along dim (torch.index_add); repeated indices add up."""
    idx, dim = _vector_index(input, dim, index, "index_add_")
    want = tuple(input.shape[:dim]) + (idx.size,) + tuple(input.shape[dim + 1:])
    if tuple(source.shape) != want:
        raise RuntimeError(f"index_add_(): source of shape {tuple(source.shape)} does not "
                           f"match input {tuple(input.shape)} with {idx.size} indices along "
                           f"dim {dim} (expected {want})")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype}) and source ({source.dtype}) "
                           f"must have the same scalar type")
    where = (slice(None),) * dim + (idx.reshape(-1),)
    if alpha != 1:
        source = source * alpha
    return input + IndexAddFn.apply(source, tuple(input.shape), where, True)


@torch_node("MaskedSelectBackward0")
def masked_select(input, mask):
    """The 1-D tensor of input's elements where the (broadcast) bool mask is True."""
    if mask.array.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got "
                           f"{mask.array.dtype}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    m = get_array_module(mask.array).broadcast_to(mask.array, shape)
    return getitem(input.expand(*shape), m)


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the nonzero elements: (n, ndim) int64, or one 1-D tensor per dim."""
    xp = get_array_module(input.array)
    where = xp.nonzero(input.array)
    if as_tuple:
        return tuple(constant(w.astype(np.int64)) for w in where)
    return constant(xp.stack(where, axis=1).astype(np.int64) if where else
                    xp.zeros((int(bool(input.array)), 0), np.int64))


def count_nonzero(input, dim=None):
    return (input != 0).sum(dim)
