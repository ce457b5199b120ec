"""Shape ops: reshape/view, flatten, squeeze/unsqueeze, transpose/permute, expand,
indexing (get and put), cat/stack, repeat, chunk/split, pad.

They move elements without changing them, so each backward moves the gradient back.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import ArrayFunction, named, torch_node
from ..backend import get_array_module
from .. import tensor as _tensor
from .broadcast import broadcast_to
from .elementwise import clone
from .dims import normalize_dim, normalize_dims, result_type
from .views import owns_memory_of, record_view


class ReshapeFn(ArrayFunction):
    """y = x with a new shape (same elements, row-major order)."""

    torch_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_out):
        return reshape(grad_out, ctx.in_shape), None


def _infer_shape(shape: tuple, numel: int, in_shape: tuple, op: str) -> tuple:
    """Resolve one -1 in `shape` and check that it holds `numel` elements."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {shape}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size "
                               f"{numel} (input shape {tuple(in_shape)})")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel or any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size "
                           f"{numel} (input shape {tuple(in_shape)})")
    return shape


def reshape(x, shape):
    """x with a new shape; one dim may be -1 (torch.reshape)."""
    shape = _infer_shape(shape, x.array.size, x.shape, "reshape")
    if shape == x.shape:
        return x
    return view_of(ReshapeFn.apply(x, shape), x, lambda t: reshape(t, shape))


def view_of(out, x, remake):
    """`out` is a view of `x` made by `remake(x)` (ops/views.py records it, so that an
    in-place op on out reaches x's history). A view made under no_grad of a tensor that
    requires grad still requires grad (as a leaf of its own), as in PyTorch: inside
    torch.no_grad(), w[:, 0] prints with requires_grad=True."""
    if x._requires_grad and not out._requires_grad:
        out._requires_grad = True
    if owns_memory_of(out.array, x.array):
        record_view(out, x, remake)
    return out


def view(x, shape):
    """x with a new shape, sharing its memory (Tensor.view). As in PyTorch it raises where
    the strides do not allow that (a transposed x, say), where reshape would copy."""
    out = reshape(x, _infer_shape(shape, x.array.size, x.shape, "view"))
    if out is not x and x.array.size and not owns_memory_of(out.array, x.array):
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                           f"(at least one dimension spans across two contiguous subspaces): "
                           f"shape {tuple(x.shape)} with strides "
                           f"{tuple(s // x.array.itemsize for s in x.array.strides)} cannot be "
                           f"viewed as {tuple(out.shape)}. Use .reshape(...) instead.")
    return out


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge dims start_dim..end_dim into one (torch.flatten)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    start = normalize_dim(start_dim, x.ndim, "flatten")
    end = normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                           f"({end_dim}) for a tensor of shape {tuple(x.shape)}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x, dim=None):
    """Remove size-1 dims (all, or those in dim) (torch.squeeze)."""
    dims = normalize_dims(dim, x.ndim, "squeeze")
    out = reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1)))
    return named(out, "SqueezeBackward0" if dim is None else "SqueezeBackward1", x)


def unsqueeze(x, dim: int):
    """Insert a size-1 dim at `dim` (torch.unsqueeze)."""
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return named(reshape(x, x.shape[:d] + (1,) + x.shape[d:]), "UnsqueezeBackward0", x)


class PermuteFn(ArrayFunction):
    """y = x with its dims reordered."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return get_array_module(x).transpose(x, dims)

    @staticmethod
    def backward(ctx, grad_out):
        return permute(grad_out, tuple(np.argsort(ctx.dims))), None   # the inverse order


def permute(x, dims):
    """Reorder dims (torch.permute)."""
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: number of dims don't match in permute: tensor of shape "
                           f"{tuple(x.shape)} has {x.ndim} dims, got {len(dims)} ({dims})")
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return x if dims == tuple(range(x.ndim)) else view_of(PermuteFn.apply(x, dims), x,
                                                              lambda t: permute(t, dims))


def transpose(x, dim0: int, dim1: int):
    """Swap two dims (torch.transpose)."""
    dims = list(range(x.ndim))
    a = normalize_dim(dim0, x.ndim, "transpose")
    b = normalize_dim(dim1, x.ndim, "transpose")
    if x.ndim == 0:
        return x
    dims[a], dims[b] = dims[b], dims[a]
    return named(permute(x, tuple(dims)), "TransposeBackward0", x)


def t(x):
    """Transpose a tensor of at most 2 dims (torch.t)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{x.ndim}D (shape {tuple(x.shape)})")
    return named(transpose(x, 0, 1), "TBackward0", x) if x.ndim == 2 else x


def expand(x, shape):
    """x repeated along size-1 dims without copying (Tensor.expand)."""
    return broadcast_to(x, shape)


@torch_node("RepeatBackward0")
def repeat(x, sizes):
    """Tile x `sizes` times along each dim (Tensor.repeat); differentiable."""
    if len(sizes) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                           f"than number of dimensions of tensor ({x.ndim})")
    x = reshape(x, (1,) * (len(sizes) - x.ndim) + x.shape)
    # interleave: (a, b) -> (1, a, 1, b), broadcast to (ra, a, rb, b), then merge pairs
    inter = reshape(x, tuple(v for s in x.shape for v in (1, s)))
    big = expand(inter, tuple(v for r, s in zip(sizes, x.shape) for v in (r, s)))
    out = reshape(big, tuple(r * s for r, s in zip(sizes, x.shape)))
    # repeating once along every dim reshapes to a view of x: a copy, as PyTorch's repeat
    return clone(out) if all(r == 1 for r in sizes) else out


# ---- indexing ----
def _index_arrays(index):
    """Turn Tensors inside an index into arrays, and bool masks into nonzero() tuples."""
    Tensor = _tensor.Tensor
    items = index if isinstance(index, tuple) else (index,)
    out, advanced = [], False
    for item in items:
        if isinstance(item, Tensor):
            item = item.array
        if isinstance(item, list):
            item = np.asarray(item)
        if hasattr(item, "dtype") and getattr(item, "ndim", 0) >= 0 and not np.isscalar(item):
            if item.dtype == np.bool_:
                out.extend(item.nonzero())
                advanced = True
                continue
            if item.dtype.kind not in "iu":
                raise IndexError(f"getitem: tensors used as indices must be long, int or bool "
                                 f"tensors, got {item.dtype}")
            advanced = True
        out.append(item)
    return tuple(out), advanced


class GetItemFn(ArrayFunction):
    """y = x[index]."""

    @staticmethod
    def forward(ctx, x, index, advanced):
        ctx.in_shape, ctx.index, ctx.advanced = x.shape, index, advanced
        if advanced:
            ctx.watch(*index)                   # index arrays, read again by backward
        y = x[index]
        if isinstance(y, get_array_module(x).ndarray):
            return y
        # every dim indexed by an int: NumPy gives a scalar, PyTorch a 0-d view (so that
        # x[0].mul_(2) changes x); `...` after the index makes NumPy's a 0-d view too
        return x[index + (Ellipsis,)] if not advanced and Ellipsis not in index else \
            get_array_module(x).asarray(y)

    @staticmethod
    def backward(ctx, grad_out):
        # scatter back: every selected position gets its gradient, repeats add up
        return IndexAddFn.apply(grad_out, ctx.in_shape, ctx.index, ctx.advanced), None, None

    @staticmethod
    def backward_arrays(ctx, grad_out):
        return index_add_array(grad_out, ctx.in_shape, ctx.index, ctx.advanced), None, None

    def name(self) -> str:
        # worked out when asked (a repr, an error), not on every x[i]
        return self._name or _getitem_name(self.index, self.advanced, self.in_shape)


def index_add_array(g, shape, index, advanced: bool):
    """zeros(shape) with g added at `index` (repeats add up where the index is advanced)."""
    xp = get_array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if advanced:
        if xp is not np:           # CuPy's add.at: float atomics, in no fixed order
            from ..determinism import alert
            alert("index backward on CUDA")
        xp.add.at(out, index, g)
    else:
        out[index] = g
    return out


class IndexAddFn(ArrayFunction):
    """y = zeros(shape) with g added at `index` (the backward of getitem)."""

    torch_name = "IndexBackwardBackward0"

    @staticmethod
    def forward(ctx, g, shape, index, advanced):
        ctx.index, ctx.advanced = index, advanced
        if advanced:
            ctx.watch(*index)
        return index_add_array(g, shape, index, advanced)

    @staticmethod
    def backward(ctx, grad_out):
        return GetItemFn.apply(grad_out, ctx.index, ctx.advanced), None, None, None


def _getitem_name(index, advanced: bool, shape: tuple) -> str:
    """PyTorch's node for x[index]: its last step (select, slice, unsqueeze, index)."""
    if advanced:
        return "IndexBackward0"
    if isinstance(index, slice):
        return "SliceBackward0"           # PyTorch slices even x[:] when it is the index
    name, dim = "AliasBackward0", 0
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if item is None:
            name = "UnsqueezeBackward0"
        elif item is Ellipsis:
            dim += len(shape) - sum(i is not None and i is not Ellipsis for i in items)
        elif isinstance(item, slice):
            if item.indices(shape[dim]) != (0, shape[dim], 1):   # a whole dim is skipped
                name = "SliceBackward0"
            dim += 1
        else:
            name, dim = "SelectBackward0", dim + 1
    return name


def getitem(x, index):
    """x[index]: basic slicing and integer/bool array indexing, differentiable."""
    idx, advanced = _index_arrays(index)
    try:
        out = GetItemFn.apply(x, idx, advanced)
        if out.grad_fn is not None and isinstance(index, slice):
            out.grad_fn._name = "SliceBackward0"    # the one case idx no longer shows
        if not advanced:
            view_of(out, x, lambda t: getitem(t, index))
        return out
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} is invalid for a tensor of shape "
                         f"{tuple(x.shape)}: {e}") from None


class IndexPutFn(ArrayFunction):
    """y = x with y[index] = value: a copy of x, or with inplace x itself, written in place
    (Tensor.__setitem__, which then gives x this node's history)."""

    torch_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, value, index, inplace=False):
        ctx.index = index
        ctx.watch(*(index if isinstance(index, tuple) else (index,)))
        y = x if inplace else x.copy()
        y[index] = value
        return y

    @staticmethod
    def backward(ctx, grad_out):
        need_x, need_value = ctx.needs_input_grad[:2]
        grad_x = index_put(grad_out, ctx.index, 0.0) if need_x else None  # overwritten: 0
        grad_value = GetItemFn.apply(grad_out, ctx.index, True) if need_value else None
        return grad_x, grad_value, None, None


def index_put(x, index, value, inplace: bool = False):
    """A copy of x with value written at index (the differentiable form of x[index] = v);
    with inplace, x's own array is written (Tensor.__setitem__)."""
    idx, _ = _index_arrays(index)
    try:
        return IndexPutFn.apply(x, value, idx, inplace)
    except (IndexError, ValueError) as e:
        # as PyTorch: a bad index is an IndexError, a value of the wrong shape a RuntimeError
        kind = IndexError if isinstance(e, IndexError) else RuntimeError
        raise kind(f"setitem: cannot assign a value of shape "
                   f"{tuple(np.shape(getattr(value, 'data', value)))} to index {index!r} "
                   f"of a tensor of shape {tuple(x.shape)}: {e}") from None


# ---- joining and splitting ----
class CatFn(ArrayFunction):
    """y = the inputs joined along dim."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return get_array_module(*xs).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        grads, start = [], 0
        for size in ctx.sizes:     # each input gets its own slice of the gradient
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(grad_out[index])
            start += size
        return tuple(grads)


def cat(tensors, dim: int = 0):
    """Join tensors along an existing dim (torch.cat)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    ref = tensors[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if j != d):
            raise RuntimeError(f"cat: Sizes of tensors must match except in dimension {d}; "
                               f"tensor 0 has shape {tuple(ref.shape)} and tensor {i} has "
                               f"shape {tuple(t.shape)}")
    dtype = result_type(*tensors)      # PyTorch's promotion, e.g. float32 with int64: float32
    tensors = [t if t.dtype == dtype else t.to(dtype) for t in tensors]
    return CatFn.apply(*tensors, dim=d)


def stack(tensors, dim: int = 0):
    """Join tensors along a new dim (torch.stack)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} at "
                               f"entry {i}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return named(cat([unsqueeze(t, d) for t in tensors], d), "StackBackward0")


def split(x, split_size, dim: int = 0):
    """Split into pieces of split_size (an int or a list of sizes) along dim."""
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size, int) and split_size <= 0:
        raise RuntimeError(f"split: split_size must be positive, got {split_size} (dim {d} of "
                           f"shape {tuple(x.shape)})")
    sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) \
        if isinstance(split_size, int) else list(split_size)
    sizes = sizes or [0]       # an empty dim splits into one empty piece, as in PyTorch
    if sum(sizes) != n:
        raise RuntimeError(f"split: split sizes {sizes} do not add up to the size {n} of "
                           f"dim {d} (shape {tuple(x.shape)})")
    out, start = [], 0
    name = "SplitBackward0" if isinstance(split_size, int) else "SplitWithSizesBackward0"
    for size in sizes:
        out.append(named(x[(slice(None),) * d + (slice(start, start + size),)], name, x))
        start += size
    return tuple(out)


def chunk(x, chunks: int, dim: int = 0):
    """Split into `chunks` nearly equal pieces along dim (torch.chunk)."""
    d = normalize_dim(dim, x.ndim, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    return split(x, max(1, -(-x.shape[d] // chunks)), d)


class PadFn(ArrayFunction):
    """y = x with constant padding around the last dims."""

    torch_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.index = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape))
        return get_array_module(x).pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out[ctx.index], None, None      # the gradient of the kept centre


def pad(x, pad: tuple, mode: str = "constant", value: float = 0.0):
    """Constant padding, PyTorch's order: (left, right, top, bottom, ...) from the last dim."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode '{mode}' is not supported; only 'constant'")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most "
                           f"2 * ndim ({2 * x.ndim}) for a tensor of shape {tuple(x.shape)}")
    if any(p < 0 for p in pad):
        raise RuntimeError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return PadFn.apply(x, tuple(widths), value)
