"""Tensor: an array (`.data`) plus a place in the autograd graph (`.grad_fn`).

Every operator and method is written out here and forwards to a differentiable op in
`minidl.ops`, so `x + y` leads to `ops.add`, whose `AddFn` holds forward and backward.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import backend
from .autograd import engine, version
from .autograd.grad_mode import STATE


def _infer_array(data, dtype=None):
    """Make an array from data as torch.tensor does: Python floats get the default dtype."""
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.get_array_module(data)
    if dtype is not None:
        return xp.asarray(data, dtype=np.dtype(dtype))
    arr = xp.asarray(data)
    if not isinstance(data, (np.ndarray, np.generic)) and xp is np and arr.dtype == np.float64:
        arr = arr.astype(backend.get_default_dtype())   # Python floats, as in PyTorch
    elif arr.dtype.kind == "U" or arr.dtype == object:
        raise TypeError(f"tensor: could not infer a numeric dtype from {type(data).__name__} "
                        f"data of dtype {arr.dtype}")
    return arr


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : array_like
        Values; a NumPy (or CuPy) array is used as is, other data is converted (Python
        floats to the default dtype, float32 unless changed).
    dtype, device, requires_grad :
        As in `torch.tensor`.

    Notes
    -----
    `.data` is the underlying array itself, not a Tensor as in PyTorch: a tensor is an
    array plus a graph node, and `.data` is the array.
    """

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_output_nr", "_hooks", "_acc",
                 "__weakref__")
    __array_ufunc__ = None     # make NumPy defer to our reflected operators (ndarray + Tensor)

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False):
        arr = _infer_array(data, dtype)
        if device is not None:
            arr = backend.to_device(arr, device)
        self.data = arr
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._hooks = None
        self._acc = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad: bool, grad_fn, output_nr: int) -> "Tensor":
        """Wrap an existing array without copying or checking (the ops' fast path)."""
        t = object.__new__(Tensor)
        t.data = array
        t.grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._hooks = None
        t._acc = None
        return t

    # ---- attributes ----
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        """In-place changes of this tensor's memory so far (autograd.version)."""
        return version.version(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def T(self) -> "Tensor":
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> "Tensor":
        return _ops.transpose(self, -2, -1)

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None):
        if dim is None:
            return self.data.shape
        return self.data.shape[_ops.normalize_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self.data.size} elements cannot be "
                               "converted to a Python scalar")
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        return self.data

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_numpy(self.data)
        return arr if dtype is None else arr.astype(dtype)

    # ---- autograd ----
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the `.grad` of the graph's leaves."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._wrap(self.data, False, None, 0)

    def detach_(self) -> "Tensor":
        self.grad_fn, self._requires_grad, self._output_nr = None, False, 0
        return self

    @property
    def requires_grad(self) -> bool:
        """Whether autograd records operations on this tensor (for a leaf: whether it gets
        a `.grad`). Setting it checks what `requires_grad_` checks, as in PyTorch."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError("requires_grad: you can only change requires_grad flags of leaf "
                               "variables; use detach() on a non-leaf tensor")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of "
                               "leaf variables; use detach() on a non-leaf tensor")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, "
                               f"got {self.data.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self.retains_grad:
            self._add_node_hook(engine.make_weak_grad_setter(self), retain=True)

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return node is not None and bool(node._hooks) and any(
            getattr(hook, "retains", None) is not None and hook.retains() is self
            for _, hook in node._hooks)

    def register_hook(self, hook) -> "_HookHandle":
        """Call `hook(grad)` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _HookHandle(self._hooks, hook)
        return self._add_node_hook(hook)

    def _add_node_hook(self, hook, retain: bool = False) -> "_HookHandle":
        node = self.grad_fn
        if node._hooks is None:
            node._hooks = []
        entry = (self._output_nr, hook)
        if retain:
            node._hooks.append(entry)
        else:    # user hooks run before retain_grad's, as in PyTorch
            retained = [e for e in node._hooks if getattr(e[1], "retains", None)]
            node._hooks[:] = [e for e in node._hooks if e not in retained] + [entry] + retained
        return _HookHandle(node._hooks, entry)

    def _accumulator(self):
        """The AccumulateGrad node of this leaf, shared by every graph that uses it."""
        acc = self._acc() if self._acc is not None else None
        if acc is None:
            acc = engine.AccumulateGrad(self)
            self._acc = weakref.ref(acc)
        return acc

    def _sum_to(self, shape: tuple, node=None) -> "Tensor":
        return _ops.sum_to(self, shape, node)

    # ---- conversion ----
    def to(self, *args, **kwargs) -> "Tensor":
        """to(dtype) / to(device) / to(device, dtype) / to(other): differentiable."""
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, backend.Device)):
                device = a
            else:
                dtype = a
        out = self
        if device is not None and backend.Device(device) != self.device:
            out = _ops.to_device(out, device)
        if dtype is not None and np.dtype(dtype) != out.dtype:
            out = _ops.cast(out, dtype)
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> "Tensor":
        return self.to(f"cuda:{device or 0}")

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    def half(self) -> "Tensor":
        return self.to(np.float16)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    def int(self) -> "Tensor":
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        return self.to(np.bool_)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def clone(self) -> "Tensor":
        return _ops.clone(self)

    def contiguous(self) -> "Tensor":
        """This tensor if its array is C-contiguous, else a C-ordered copy (as in PyTorch,
        where the copy never shares memory with the original)."""
        return self if self.data.flags.c_contiguous else _ops.clone(self)

    # ---- in place (on data; allowed where PyTorch allows it) ----
    def _inplace(self, result: "Tensor") -> "Tensor":
        """Make this tensor hold `result`: new data and, under grad mode, its history."""
        if result.data.dtype != self.data.dtype:     # an in-place op keeps the dtype
            if not np.can_cast(result.data.dtype, self.data.dtype, "same_kind"):
                raise RuntimeError(f"result type {_dtype_name(result.data.dtype)} can't be cast "
                                   f"to the desired output type {_dtype_name(self.data.dtype)}")
            result = result.to(self.data.dtype)
        if STATE.enabled and (self.requires_grad or result.requires_grad):
            if self.grad_fn is None and self.requires_grad:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation; wrap it in minidl.no_grad()")
            self.data, self.grad_fn = result.data, result.grad_fn
            self._output_nr, self._requires_grad = result._output_nr, result._requires_grad
        else:
            self._assign(result.data)
        return self

    def _assign(self, values) -> None:
        """Write `values` into this tensor's array, untracked by autograd but counted
        (autograd.version): a graph that saved the array raises rather than use it. Every
        in-place write minidl makes goes through here, except the optimizers' fused updates
        (which bump the count themselves) and gradcheck's probes (which restore the array)."""
        self.data[...] = values
        version.bump(self.data)

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def fill_(self, value) -> "Tensor":
        with _no_grad():
            return self._inplace(Tensor._wrap(
                backend.get_array_module(self.data).full_like(self.data, value), False, None, 0))

    def copy_(self, src) -> "Tensor":
        src = src if isinstance(src, Tensor) else Tensor(src)
        result = _ops.expand(src.to(self.dtype), self.shape)
        if STATE.enabled and (self.requires_grad or result.requires_grad):
            result = _ops.clone(result)     # self takes result's array: one of its own
        return self._inplace(result)

    def add_(self, other, alpha=1) -> "Tensor":
        return self._inplace(_ops.add(self, other, alpha=alpha))

    def sub_(self, other, alpha=1) -> "Tensor":
        return self._inplace(_ops.sub(self, other, alpha=alpha))

    def mul_(self, other) -> "Tensor":
        return self._inplace(_ops.mul(self, other))

    def div_(self, other) -> "Tensor":
        return self._inplace(_ops.div(self, other))

    def clamp_(self, min=None, max=None) -> "Tensor":
        return self._inplace(_ops.clamp(self, min, max))

    def __iadd__(self, other):
        return self._inplace(_ops.add(self, other))

    def __isub__(self, other):
        return self._inplace(_ops.sub(self, other))

    def __imul__(self, other):
        return self._inplace(_ops.mul(self, other))

    def __itruediv__(self, other):
        return self._inplace(_ops.div(self, other))

    def __setitem__(self, index, value) -> None:
        self._inplace(_ops.index_put(self, index, value))

    # ---- Python protocol ----
    def __repr__(self) -> str:
        body = np.array2string(backend.to_numpy(self.data), separator=", ", precision=4,
                               prefix="tensor(")
        extras = []
        if self.data.dtype not in (backend.get_default_dtype(), np.int64, np.bool_):
            extras.append(f"dtype={_dtype_name(self.data.dtype)}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is "
                               "ambiguous")
        return bool(self.data.reshape(()))

    def __float__(self) -> float:
        self._check_one_element()
        return float(self.item())

    def __int__(self) -> int:
        self._check_one_element()
        return int(self.item())

    def _check_one_element(self) -> None:
        if self.data.size != 1:     # PyTorch's type here is ValueError (item() raises Runtime)
            raise ValueError(f"only one element tensors can be converted to Python scalars, "
                             f"got shape {tuple(self.shape)}")

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __getitem__(self, index) -> "Tensor":
        return _ops.getitem(self, index)

    # ---- operators ----
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __floordiv__(self, other): return _ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops.floor_divide(other, self)
    def __mod__(self, other): return _ops.remainder(self, other)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __eq__(self, other): return _ops.eq(self, other)
    def __ne__(self, other): return _ops.ne(self, other)
    def __lt__(self, other): return _ops.lt(self, other)
    def __le__(self, other): return _ops.le(self, other)
    def __gt__(self, other): return _ops.gt(self, other)
    def __ge__(self, other): return _ops.ge(self, other)
    def __invert__(self): return _ops.logical_not(self)
    def __and__(self, other): return _ops.logical_and(self, other)
    def __or__(self, other): return _ops.logical_or(self, other)

    # ---- math methods (each forwards to its op) ----
    def add(self, other, alpha=1): return _ops.add(self, other, alpha=alpha)
    def sub(self, other, alpha=1): return _ops.sub(self, other, alpha=alpha)
    def mul(self, other): return _ops.mul(self, other)
    def div(self, other): return _ops.div(self, other)
    def pow(self, exponent): return _ops.pow(self, exponent)
    def matmul(self, other): return _ops.matmul(self, other)
    def abs(self): return _ops.abs(self)
    def neg(self): return _ops.neg(self)
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def log1p(self): return _ops.log1p(self)
    def sqrt(self): return _ops.sqrt(self)
    def rsqrt(self): return _ops.rsqrt(self)
    def square(self): return _ops.mul(self, self)
    def sin(self): return _ops.sin(self)
    def cos(self): return _ops.cos(self)
    def sign(self): return _ops.sign(self)
    def clamp(self, min=None, max=None): return _ops.clamp(self, min, max)
    clip = clamp
    def maximum(self, other): return _ops.maximum(self, other)
    def minimum(self, other): return _ops.minimum(self, other)
    def relu(self): return _ops.relu(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def tanh(self): return _ops.tanh(self)
    def softmax(self, dim): return _ops.softmax(self, dim)
    def log_softmax(self, dim): return _ops.log_softmax(self, dim)
    def masked_fill(self, mask, value): return _ops.masked_fill(self, mask, value)

    def sum(self, dim=None, keepdim=False, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False): return _ops.mean(self, dim, keepdim)
    def prod(self, dim=None, keepdim=False): return _ops.prod(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False): return _ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return _ops.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim=False): return _ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return _ops.amin(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return _ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return _ops.argmin(self, dim, keepdim)
    def norm(self, p=2, dim=None, keepdim=False): return _ops.norm(self, p, dim, keepdim)
    def logsumexp(self, dim, keepdim=False): return _ops.logsumexp(self, dim, keepdim)
    def all(self): return Tensor._wrap(self._xp.asarray(self.data.all()), False, None, 0)
    def any(self): return Tensor._wrap(self._xp.asarray(self.data.any()), False, None, 0)

    @property
    def _xp(self):
        return backend.get_array_module(self.data)

    # ---- shape methods ----
    def reshape(self, *shape): return _ops.reshape(self, _ops.shape_args(shape))
    def view(self, *shape): return _ops.view(self, _ops.shape_args(shape))
    def view_as(self, other): return _ops.view(self, other.shape)
    def reshape_as(self, other): return _ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return _ops.flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return _ops.squeeze(self, dim)
    def unsqueeze(self, dim): return _ops.unsqueeze(self, dim)
    def transpose(self, dim0, dim1): return _ops.transpose(self, dim0, dim1)
    def t(self): return _ops.t(self)
    def permute(self, *dims): return _ops.permute(self, _ops.shape_args(dims))
    def expand(self, *sizes): return _ops.expand(self, _ops.shape_args(sizes))
    def expand_as(self, other): return _ops.expand(self, other.shape)
    def repeat(self, *sizes): return _ops.repeat(self, _ops.shape_args(sizes))
    def chunk(self, chunks, dim=0): return _ops.chunk(self, chunks, dim)
    def split(self, split_size, dim=0): return _ops.split(self, split_size, dim)


class _HookHandle:
    """Returned by register_hook; `.remove()` unregisters the hook."""

    def __init__(self, hooks: list, entry):
        self._hooks, self._entry = hooks, entry

    def remove(self) -> None:
        if self._entry in self._hooks:
            self._hooks.remove(self._entry)


def constant(array) -> Tensor:
    """`array` as a Tensor outside any graph, without a copy: the ops' results that have
    no gradient (floor division, argmax indices, masks), and arrays their backward
    formulas use as constants. A NumPy or Python scalar becomes a 0-d array."""
    return Tensor._wrap(np.asarray(array) if np.isscalar(array) else array, False, None, 0)


def _dtype_name(dtype) -> str:
    return f"minidl.{np.dtype(dtype).name}"


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


# The one accepted import cycle: ops build Tensors, and Tensor methods call ops.
from . import ops as _ops  # noqa: E402
