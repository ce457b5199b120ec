"""Tensor: an array (`.array`) plus a place in the autograd graph (`.grad_fn`).

Every operator and method is written out here and forwards to a differentiable op in
`minidl.ops`, so `x + y` leads to `ops.add`, whose `AddFn` holds forward and backward.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import backend
from .autograd import engine, version
from .autograd.grad_mode import STATE
from .dtypes import Size, dtype_of


def _infer_array(data, dtype=None):
    """Make an array from data as torch.tensor does: Python floats get the default dtype."""
    if isinstance(data, Tensor):
        data = data.array
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
    A tensor is an array plus a graph node. `.array` is the NumPy (or CuPy) array itself,
    minidl's own attribute for code that wants it; `.data` is, as in PyTorch, a Tensor that
    shares that memory with no graph and whose in-place changes autograd does not count.
    """

    __slots__ = ("array", "_grad", "_untracked", "_requires_grad", "grad_fn", "_output_nr",
                 "_hooks", "_acc", "_view", "_views", "_post_hooks", "__weakref__")
    __array_ufunc__ = None     # make NumPy defer to our reflected operators (ndarray + Tensor)

    def __init__(self, data=(), *sizes, dtype=None, device=None, requires_grad: bool = False):
        if sizes or (type(data) is int) or isinstance(data, Size):
            # torch.Tensor(2, 3) / torch.Tensor(torch.Size([2, 3])): the legacy constructor
            # from sizes, float32 (PyTorch leaves the values uninitialised; minidl gives zeros)
            shape = tuple(data) if isinstance(data, Size) else (data, *sizes)
            if not all(type(n) is int and n >= 0 for n in shape):
                raise TypeError(f"Tensor(): sizes must be non-negative ints, got {shape}")
            data = np.zeros(shape, dtype or backend.get_default_dtype())
        elif dtype is None and (isinstance(data, (list, tuple)) or type(data) in (float, bool)):
            dtype = backend.get_default_dtype()   # torch.Tensor([1, 2]) is float32, as there
        arr = _infer_array(data, dtype)
        if device is not None:
            arr = backend.to_device(arr, device)
        self.array = arr
        self._grad = None
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
        t.array = array
        t._grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._hooks = None
        t._acc = None
        return t

    # ---- attributes ----
    @property
    def data(self) -> "Tensor":
        """This tensor's values as a Tensor that shares its memory, cut from the graph
        (as `torch.Tensor.data`): `p.data.add_(...)`, `w.grad.data.zero_()` and
        `out.data.cpu().numpy()` work. Unlike `detach()`, an in-place change through it
        is not counted by autograd (as in PyTorch), so a graph that saved this tensor
        does not notice it. The raw array is `.array`."""
        t = Tensor._wrap(self.array, False, None, 0)
        t._untracked = True
        return t

    @data.setter
    def data(self, value) -> None:
        """`t.data = other` makes t hold other's values (shape and dtype too), as in
        PyTorch; the graph and `.grad` stay as they are."""
        self.array = value.array if isinstance(value, Tensor) else _infer_array(value)

    @property
    def grad(self) -> "Tensor | None":
        """The gradient accumulated by backward (a Tensor), or None."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.array.shape != self.array.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(value.array.shape)} for a tensor of size "
                                   f"{list(self.array.shape)}")
            if value.array.dtype != self.array.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{_dtype_name(value.array.dtype)} for a tensor of type "
                                   f"{_dtype_name(self.array.dtype)}")
            if value.device != self.device:
                raise RuntimeError(f"assigned grad has data located on {value.device}, "
                                   f"different from the tensor's {self.device}")
        self._grad = value

    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    @property
    def dtype(self) -> "dtype":
        """The element type, as a minidl dtype (prints torch.float32, equals np.float32)."""
        return dtype_of(self.array.dtype)

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self.array)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        """In-place changes of this tensor's memory so far (autograd.version)."""
        return version.version(self.array)

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
        return self.array.ndim

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[_ops.normalize_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        return int(self.array.size)

    def element_size(self) -> int:
        return self.array.itemsize

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"item: a Tensor with {self.array.size} elements cannot be "
                               "converted to a Python scalar")
        return self.array.reshape(()).item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        return self.array

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_numpy(self.array)
        return arr if dtype is None else arr.astype(dtype)

    # ---- autograd ----
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the `.grad` of the graph's leaves."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._wrap(self.array, False, None, 0)

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
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, "
                               f"got {self.array.dtype}")
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

    def register_post_accumulate_grad_hook(self, hook) -> "_HookHandle":
        """Call `hook(self)` after backward has accumulated into this leaf's `.grad`
        (PyTorch's; DistributedDataParallel starts its all-reduces from such hooks)."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

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
        return self if self.array.flags.c_contiguous else _ops.clone(self)

    # ---- in place (on data; allowed where PyTorch allows it) ----
    def _inplace(self, op, *args, **kwargs) -> "Tensor":
        """self = op(self, *args, **kwargs), written into self's own memory, as PyTorch's
        in-place ops: a view's base sees the change, and so do the base's other views.

        Under grad mode, when anything involved requires grad, self also takes the
        result's history; a view gives its base a new history too (ops/views.py). The op
        then runs on a copy of self's old values, so a graph that needs them (mul_'s) keeps
        them; a graph made earlier that saved self's memory raises at backward, as in
        PyTorch (autograd.version)."""
        view = getattr(self, "_view", None)
        if not self._records_inplace(view, args, kwargs):
            self._assign(self._inplace_result(op(self, *args, **kwargs), op))
            return self
        self._check_inplace(view)
        old = Tensor._wrap(self.array.copy(), self._requires_grad, self.grad_fn,
                           self._output_nr)
        args = tuple(old if a is self else a for a in args)
        kwargs = {k: old if v is self else v for k, v in kwargs.items()}
        result = op(old, *args, **kwargs)
        values = self._inplace_result(result, op)
        self._assign(values)
        if values is not result.array:
            result = result.to(self.array.dtype)
        self._take_history(result, view)
        return self

    def _records_inplace(self, view, args, kwargs) -> bool:
        """Whether an in-place op on self must record history (grad mode, and self, its
        base or an operand requires grad)."""
        if not STATE.enabled:
            return False
        if self._requires_grad or (view is not None and view is not _views.MULTI_VIEW
                                   and view[0]._requires_grad):
            return True
        return any(type(a) is Tensor and a._requires_grad
                   for a in (*args, *kwargs.values()))

    def _check_inplace(self, view) -> None:
        """PyTorch's refusals of an in-place op that autograd would record."""
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation; wrap it in minidl.no_grad()")
        if view is _views.MULTI_VIEW:
            made = self.grad_fn.name() if self.grad_fn is not None else "UnbindBackward0"
            raise RuntimeError(f"Output of {made} is a view and is being "
                               "modified inplace. This view is the output of a function that "
                               "returns multiple views. Such functions do not allow the "
                               "output views to be modified inplace. You should replace the "
                               "inplace operation by an out-of-place one.")
        if view is not None and view[0].grad_fn is None and view[0]._requires_grad:
            raise RuntimeError(f"a view of a leaf Variable that requires grad is being used "
                               f"in an in-place operation (a view of shape "
                               f"{tuple(self.shape)} of a leaf of shape "
                               f"{tuple(view[0].shape)}); wrap it in minidl.no_grad()")

    def _inplace_result(self, result: "Tensor", op):
        """The array an in-place op writes: result's, in self's dtype and shape."""
        values = result.array
        name = getattr(op, "__name__", "in-place op").strip("_") + "_"
        if values.shape != self.array.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.array.shape)} doesn't "
                               f"match the broadcast shape {list(values.shape)}")
        if values.dtype != self.array.dtype:     # an in-place op keeps the dtype
            if not np.can_cast(values.dtype, self.array.dtype, "same_kind"):
                raise RuntimeError(f"{name}: result type {_dtype_name(values.dtype)} can't be "
                                   f"cast to the desired output type "
                                   f"{_dtype_name(self.array.dtype)}")
            values = values.astype(self.array.dtype)
        if not getattr(self.array.flags, "writeable", True):
            raise _read_only_error(name)
        return values

    def _take_history(self, result: "Tensor", view) -> None:
        """After an in-place write: self's history is result's; a view's base gets one
        that says "this region is now result" (a CopySlices node)."""
        if view is None:
            _views.set_history(self, result)
        else:
            _views.rebase(view[0], view[1], result)

    def _assign(self, values) -> None:
        """Write `values` into this tensor's array, untracked by autograd but counted
        (autograd.version): a graph that saved the array raises rather than use it (a
        tensor from `.data` is not counted, as in PyTorch). Every
        in-place write minidl makes goes through here, except the optimizers' fused updates
        (which bump the count themselves) and gradcheck's probes (which restore the array)."""
        self.array[...] = values
        if not getattr(self, "_untracked", False):    # unset slot: tracked (see .data)
            version.bump(self.array)

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def fill_(self, value) -> "Tensor":
        if isinstance(value, Tensor) and value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions")
        return self._inplace(_fill, value)

    def copy_(self, src, non_blocking: bool = False) -> "Tensor":
        src = src if isinstance(src, Tensor) else Tensor(src)
        return self._inplace(_copy, src)

    def add_(self, other, alpha=1) -> "Tensor":
        return self._inplace(_ops.add, other, alpha=alpha)

    def sub_(self, other, alpha=1) -> "Tensor":
        return self._inplace(_ops.sub, other, alpha=alpha)

    def mul_(self, other) -> "Tensor":
        return self._inplace(_ops.mul, other)

    def div_(self, other) -> "Tensor":
        return self._inplace(_ops.div, other)

    def clamp_(self, min=None, max=None) -> "Tensor":
        return self._inplace(_ops.clamp, min, max)

    def __iadd__(self, other):
        return self._inplace(_ops.add, other)

    def __isub__(self, other):
        return self._inplace(_ops.sub, other)

    def __imul__(self, other):
        return self._inplace(_ops.mul, other)

    def __itruediv__(self, other):
        return self._inplace(_ops.div, other)

    def __setitem__(self, index, value) -> None:
        """self[index] = value, written in place (a CopySlices node under grad mode)."""
        view = getattr(self, "_view", None)
        records = self._records_inplace(view, (value,), {})
        if records:
            self._check_inplace(view)
        if not getattr(self.array.flags, "writeable", True):
            raise _read_only_error("setitem")
        old = Tensor._wrap(self.array, self._requires_grad, self.grad_fn, self._output_nr)
        result = _ops.index_put(old, index, value, inplace=True)   # writes into self.array
        if not getattr(self, "_untracked", False):
            version.bump(self.array)
        if records:
            self._take_history(result, view)

    # ---- Python protocol ----
    def __repr__(self) -> str:
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __reduce_ex__(self, protocol):
        # pickled from the host without its graph, as torch.save does: a leaf on load
        return (_rebuild_tensor, (type(self), backend.to_numpy(self.array), self.requires_grad))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment (this one was "
                               f"made by {self.grad_fn.name()})")
        if id(self) in memo:
            return memo[id(self)]
        out = type(self).__new__(type(self))
        Tensor.__init__(out, self.array.copy(), requires_grad=self.requires_grad)
        memo[id(self)] = out
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        return out

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.array.size} values is "
                               "ambiguous")
        return bool(self.array.reshape(()))

    def __float__(self) -> float:
        self._check_one_element()
        return float(self.item())

    def __int__(self) -> int:
        self._check_one_element()
        return int(self.item())

    def _check_one_element(self) -> None:
        if self.array.size != 1:     # PyTorch's type here is ValueError (item() raises Runtime)
            raise ValueError(f"only one element tensors can be converted to Python scalars, "
                             f"got shape {tuple(self.shape)}")

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
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
    def div(self, other, *, rounding_mode=None):
        return _ops.div(self, other, rounding_mode=rounding_mode)
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
    def all(self, dim=None, keepdim=False):
        return self._all_or_any(self._xp.all, dim, keepdim, "all")

    def any(self, dim=None, keepdim=False):
        return self._all_or_any(self._xp.any, dim, keepdim, "any")

    def _all_or_any(self, fn, dim, keepdim, op):
        """all/any over dim (every dim when None): a bool tensor, no gradient."""
        axis = None if dim is None else _ops.normalize_dims(dim, self.ndim, op)
        out = fn(self.array, axis=axis, keepdims=keepdim)
        return Tensor._wrap(self._xp.asarray(out), False, None, 0)

    @property
    def _xp(self):
        return backend.get_array_module(self.array)

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

    # ---- more methods, each forwarding to its op (PyTorch's Tensor methods) ----
    def eq(self, other): return _ops.eq(self, other)
    def ne(self, other): return _ops.ne(self, other)
    def lt(self, other): return _ops.lt(self, other)
    def le(self, other): return _ops.le(self, other)
    def gt(self, other): return _ops.gt(self, other)
    def ge(self, other): return _ops.ge(self, other)
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
    def logical_not(self): return _ops.logical_not(self)
    def logical_and(self, other): return _ops.logical_and(self, other)
    def logical_or(self, other): return _ops.logical_or(self, other)
    def logical_xor(self, other): return _ops.ne(self.bool(), _as_tensor(other).bool())
    def where(self, condition, other): return _ops.where(condition, self, other)
    def floor_divide(self, other): return _ops.floor_divide(self, other)
    def remainder(self, other): return _ops.remainder(self, other)
    def true_divide(self, other): return _ops.div(self, other)
    def fmod(self, other): return self - (self / other).trunc() * other
    def mm(self, mat2): return _ops.mm(self, mat2)
    def bmm(self, mat2): return _ops.bmm(self, mat2)
    def mv(self, vec): return _ops.mv(self, vec)
    def dot(self, other): return _ops.dot(self, other)
    def outer(self, other): return _ops.outer(self, other)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def tril(self, diagonal=0): return _ops.tril(self, diagonal)
    def triu(self, diagonal=0): return _ops.triu(self, diagonal)
    def diag(self, diagonal=0): return _ops.diag(self, diagonal)
    def trace(self): return _ops.trace(self)
    def gather(self, dim, index): return _ops.gather(self, dim, index)
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.scatter(self, dim, index, src, value=value, reduce=reduce)
    def scatter_add(self, dim, index, src): return _ops.scatter_add(self, dim, index, src)
    def index_select(self, dim, index): return _ops.index_select(self, dim, index)
    def index_add(self, dim, index, source, *, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element (each slice along dim) repeated `repeats` times, in place order."""
        if dim is None:
            return self.reshape(-1).repeat_interleave(repeats, 0)
        dim = _ops.normalize_dim(dim, self.ndim, "repeat_interleave")
        counts = repeats.array if isinstance(repeats, Tensor) else repeats
        index = np.repeat(np.arange(self.shape[dim]), counts)
        return _ops.index_select(self, dim, Tensor(index))
    def masked_select(self, mask): return _ops.masked_select(self, mask)
    def take_along_dim(self, indices, dim=None): return _ops.take_along_dim(self, indices, dim)
    def nonzero(self, *, as_tuple=False): return _ops.nonzero(self, as_tuple=as_tuple)
    def count_nonzero(self, dim=None): return _ops.count_nonzero(self, dim)
    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sort(self, dim, descending, stable)
    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.argsort(self, dim, descending, stable)
    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.topk(self, k, dim, largest, sorted)
    def kthvalue(self, k, dim=-1, keepdim=False): return _ops.kthvalue(self, k, dim, keepdim)
    def cumsum(self, dim, *, dtype=None): return _ops.cumsum(self, dim, dtype=dtype)
    def cumprod(self, dim, *, dtype=None): return _ops.cumprod(self, dim, dtype=dtype)
    def tan(self): return _ops.tan(self)
    def sinh(self): return _ops.sinh(self)
    def cosh(self): return _ops.cosh(self)
    def asin(self): return _ops.asin(self)
    def acos(self): return _ops.acos(self)
    def atan(self): return _ops.atan(self)
    arcsin, arccos, arctan = asin, acos, atan
    def atan2(self, other): return _ops.atan2(self, other)
    def expm1(self): return _ops.expm1(self)
    def erf(self): return _ops.erf(self)
    def log2(self): return _ops.log2(self)
    def log10(self): return _ops.log10(self)
    def exp2(self): return _ops.exp2(self)
    def reciprocal(self): return _ops.reciprocal(self)
    def floor(self): return _ops.floor(self)
    def ceil(self): return _ops.ceil(self)
    def trunc(self): return _ops.trunc(self)
    def round(self, *, decimals=0): return _ops.round(self, decimals=decimals)
    def frac(self): return _ops.frac(self)
    def isnan(self): return _ops.isnan(self)
    def isinf(self): return _ops.isinf(self)
    def isfinite(self): return _ops.isfinite(self)
    def clamp_min(self, min): return _ops.clamp(self, min, None)
    def clamp_max(self, max): return _ops.clamp(self, None, max)
    def lerp(self, end, weight): return self + weight * (end - self)
    def addcmul(self, tensor1, tensor2, *, value=1): return self + value * tensor1 * tensor2
    def addcdiv(self, tensor1, tensor2, *, value=1): return self + value * tensor1 / tensor2
    def dist(self, other, p=2): return _ops.norm(self - other, p)
    def unbind(self, dim=0):
        dim = _ops.normalize_dim(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * dim + (i,)] for i in range(self.shape[dim]))
    def flip(self, *dims):
        dims = _ops.normalize_dims(_ops.shape_args(dims), self.ndim, "flip")
        # a copy, as PyTorch's flip (a reversed slice alone would share self's memory)
        return _named(_ops.clone(self[tuple(slice(None, None, -1) if d in dims else slice(None)
                                            for d in range(self.ndim))]), "FlipBackward0", self)
    def roll(self, shifts, dims=None):
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = dims if isinstance(dims, (tuple, list)) else (dims,)
        out = self
        for s, d in zip(shifts, dims):
            d = _ops.normalize_dim(d, self.ndim, "roll")
            n = self.shape[d]
            idx = np.arange(-s, n - s) % n if n else np.arange(0)
            out = out[(slice(None),) * d + (idx,)]
        return out
    def narrow(self, dim, start, length):
        dim = _ops.normalize_dim(dim, self.ndim, "narrow")
        return self[(slice(None),) * dim + (slice(start, start + length),)]
    def movedim(self, source, destination):
        order = list(range(self.ndim))
        src = _ops.normalize_dim(source, self.ndim, "movedim")
        dst = _ops.normalize_dim(destination, self.ndim, "movedim")
        order.remove(src)
        order.insert(dst, src)
        return self.permute(*order)
    moveaxis = movedim
    def swapaxes(self, axis0, axis1): return _ops.transpose(self, axis0, axis1)
    swapdims = swapaxes
    def unflatten(self, dim, sizes):
        dim = _ops.normalize_dim(dim, self.ndim, "unflatten")
        shape = tuple(self.shape[:dim]) + tuple(sizes) + tuple(self.shape[dim + 1:])
        return self.reshape(shape)
    def tile(self, *dims):
        dims = _ops.shape_args(dims)
        dims = (1,) * (self.ndim - len(dims)) + tuple(dims)
        x = self.reshape((1,) * (len(dims) - self.ndim) + tuple(self.shape))
        return x.repeat(*dims)
    def multinomial(self, num_samples, replacement=False, *, generator=None):
        from .random import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)
    def equal(self, other) -> bool:
        return tuple(self.shape) == tuple(other.shape) and bool((self.array == other.array).all())
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return bool(self._xp.allclose(self.array, other.array, rtol=rtol, atol=atol,
                                      equal_nan=equal_nan))
    def is_contiguous(self, memory_format=None) -> bool: return bool(self.array.flags.c_contiguous)
    def get_device(self) -> int: return -1 if self.device.type == "cpu" else self.device.index
    def data_ptr(self) -> int: return int(self.array.__array_interface__["data"][0])
    def pin_memory(self): return self
    def share_memory_(self): return self
    def short(self): return self.to(np.int16)
    def byte(self): return self.to(np.uint8)
    def char(self): return self.to(np.int8)

    # ---- more in-place methods (PyTorch's rules: see _inplace) ----
    def masked_fill_(self, mask, value): return self._inplace(_ops.masked_fill, mask, value)
    def exp_(self): return self._inplace(_ops.exp)
    def log_(self): return self._inplace(_ops.log)
    def sqrt_(self): return self._inplace(_ops.sqrt)
    def neg_(self): return self._inplace(_ops.neg)
    def abs_(self): return self._inplace(_ops.abs)
    def relu_(self): return self._inplace(_ops.relu)
    def sigmoid_(self): return self._inplace(_ops.sigmoid)
    def tanh_(self): return self._inplace(_ops.tanh)
    def pow_(self, exponent): return self._inplace(_ops.pow, exponent)
    def clamp_min_(self, min): return self._inplace(_ops.clamp, min, None)
    def clamp_max_(self, max): return self._inplace(_ops.clamp, None, max)
    def floor_(self): return self._inplace(_ops.floor)
    def round_(self): return self._inplace(_ops.round)
    def reciprocal_(self): return self._inplace(_ops.reciprocal)
    def lerp_(self, end, weight): return self._inplace(Tensor.lerp, end, weight)
    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._inplace(Tensor.addcmul, tensor1, tensor2, value=value)
    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._inplace(Tensor.addcdiv, tensor1, tensor2, value=value)
    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return self._inplace(Tensor.scatter, dim, index, src, value=value, reduce=reduce)
    def scatter_add_(self, dim, index, src):
        return self._inplace(_ops.scatter_add, dim, index, src)
    def index_add_(self, dim, index, source, *, alpha=1):
        return self._inplace(_ops.index_add, dim, index, source, alpha=alpha)
    def index_fill_(self, dim, index, value):
        dim = _ops.normalize_dim(dim, self.ndim, "index_fill_")
        return self._inplace(_ops.index_put, (slice(None),) * dim + (index,), value)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        from .random import draw
        return self._random_fill(draw(generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from .random import draw
        return self._random_fill(draw(generator).normal(mean, std, self.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        from .random import draw
        p = p.array if isinstance(p, Tensor) else p
        return self._random_fill(draw(generator).random(self.shape) < p)

    def exponential_(self, lambd=1.0, *, generator=None):
        from .random import draw
        return self._random_fill(draw(generator).exponential(1.0 / lambd, self.shape))

    def random_(self, from_=0, to=None, *, generator=None):
        from .random import draw
        if to is None:
            from_, to = 0, from_ if from_ else 2 ** 24
        return self._random_fill(draw(generator).integers(from_, to, self.shape))

    def _random_fill(self, host_values) -> "Tensor":
        """Write host-drawn values (float64 or ints) in this tensor's dtype and device."""
        values = backend.to_device(np.asarray(host_values).astype(self.array.dtype),
                                   self.device)
        return self._inplace(lambda _: Tensor._wrap(values, False, None, 0))

    # ---- new tensors like this one, and the legacy type() ----
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_full(size, 0, dtype, device, requires_grad)
    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_full(size, 1, dtype, device, requires_grad)
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_full(size, 0, dtype, device, requires_grad)
    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return self._new_full((size,), fill_value, dtype, device, requires_grad)

    def _new_full(self, size, value, dtype, device, requires_grad) -> "Tensor":
        from .creation import full
        return full(_ops.shape_args(size), value, dtype=dtype or self.dtype,
                    device=device or self.device, requires_grad=requires_grad)

    def type(self, dtype=None, non_blocking=False):
        """No argument: the legacy type name ('torch.FloatTensor'); with a dtype or such a
        name: this tensor cast to it."""
        if dtype is None:
            return _legacy_type_name(self.array.dtype, self.device)
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            dtype = _LEGACY_DTYPES[dtype.rsplit(".", 1)[-1]]
        return self.to(dtype)

    def __format__(self, spec: str) -> str:
        """A one-element tensor formats as its number ('{:.2f}'.format(loss)), as in
        PyTorch; any other tensor as its repr."""
        if self.array.size == 1 and self.ndim <= 1 or (self.ndim == 0):
            return format(self.item(), spec)
        return format(repr(self), spec)


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


_LEGACY_DTYPES = {"FloatTensor": np.float32, "DoubleTensor": np.float64,
                  "HalfTensor": np.float16, "LongTensor": np.int64, "IntTensor": np.int32,
                  "ShortTensor": np.int16, "CharTensor": np.int8, "ByteTensor": np.uint8,
                  "BoolTensor": np.bool_}


def _legacy_type_name(dtype, device) -> str:
    name = next(k for k, v in _LEGACY_DTYPES.items() if np.dtype(v) == dtype)
    return f"torch.{'cuda.' if device.type == 'cuda' else ''}{name}"


def _as_tensor(value) -> "Tensor":
    return value if isinstance(value, Tensor) else Tensor(value)


def _rebuild_tensor(cls, array, requires_grad: bool, device=None):
    """A pickled tensor, back (on `device` when given: load's map_location)."""
    if device is not None:
        array = backend.to_device(array, device)
    if cls is not Tensor:                        # Parameter(data, requires_grad)
        return cls(Tensor(array), requires_grad)
    return Tensor(array, requires_grad=requires_grad)


def _dtype_name(dtype) -> str:
    return str(dtype_of(dtype))


def _read_only_error(op: str) -> RuntimeError:
    return RuntimeError(f"{op}: unsupported operation: more than one element of the "
                        "written-to tensor refers to a single memory location (an expand()ed "
                        "tensor). Please clone() the tensor before performing the operation.")


def _keep_graph(t: "Tensor") -> bool:
    return STATE.enabled and t._requires_grad


def _fill(t: "Tensor", value) -> "Tensor":
    """The values of t.fill_(value). Where t is in a graph, t's place in it is kept (its
    gradient is zero from here on) and a tensor value gets the gradient, as in PyTorch."""
    if _keep_graph(t) or (isinstance(value, Tensor) and _keep_graph(value)):
        return _ops.where(_true_like(t), value, t)
    raw = value.array if isinstance(value, Tensor) else value
    return Tensor._wrap(backend.get_array_module(t.array).full_like(t.array, raw), False,
                        None, 0)


def _copy(t: "Tensor", src: "Tensor") -> "Tensor":
    """The values of t.copy_(src): src broadcast to t's shape, in t's dtype and device."""
    if src.device != t.device:
        src = src.to(t.device)
    if _keep_graph(t):
        return _ops.where(_true_like(t), src.to(t.array.dtype), t)
    return _ops.expand(src.to(t.array.dtype), t.shape)


def _true_like(t: "Tensor") -> "Tensor":
    return Tensor._wrap(backend.get_array_module(t.array).ones((), dtype=bool), False, None, 0)


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


# The one accepted import cycle: ops build Tensors, and Tensor methods call ops.
from . import ops as _ops  # noqa: E402
from .ops import views as _views  # noqa: E402
from .autograd.function import named as _named  # noqa: E402


def _accept_torch_keywords() -> None:
    """Methods taking dims or sizes also take NumPy's names for them, as PyTorch's do:
    x.sum(axis=0, keepdims=True), x.reshape(shape=(3, 2)) (minidl/_keywords.py)."""
    from ._keywords import torch_keywords
    for name, fn in list(vars(Tensor).items()):
        if callable(fn) and not name.startswith("__") and not isinstance(fn, type):
            wrapped = torch_keywords(fn, name)
            if wrapped is not fn:
                setattr(Tensor, name, wrapped)


_accept_torch_keywords()
