"""Function: one differentiable operation, and the graph node it leaves behind.

Calling `SomeFn.apply(*inputs)` runs `forward`, wraps the result in a Tensor and, when an
input requires grad and grad mode is on, makes the Function instance the result's
`grad_fn`. That instance is also the `ctx` that forward and backward share, as in
PyTorch: `ctx.save_for_backward`, `ctx.saved_tensors`, `ctx.needs_input_grad`.

Two flavours share all of this:
- `Function` (public, PyTorch's): `forward(ctx, *args)` receives Tensors and returns
  Tensors; it runs under no-grad.
- `ArrayFunction` (every built-in op): `forward(ctx, *args)` receives the raw NumPy or
  CuPy arrays behind the Tensor arguments and returns arrays; no Tensor is built until
  the result is wrapped, which keeps per-op overhead low.
In both, `backward(ctx, *grad_outputs)` receives Tensors and returns one gradient per
input (or None), written with Tensor operations so `create_graph=True` differentiates it.
"""
from __future__ import annotations

import functools
import traceback

import numpy as np

from . import version
from .grad_mode import STATE
from .version import _counts as _version_counts   # one dict, never rebound
from .. import backend as _backend
from .. import tensor as _tensor  # Tensor is defined above autograd; looked up at call time


def _torch_name(cls) -> str:
    if cls.torch_name is not None:
        return cls.torch_name
    name = cls.__name__
    return name[:-2] + "Backward0" if name.endswith("Fn") else name


def named(out, name: str, source=None):
    """Give the node that made `out` PyTorch's name for the op a composite stands for
    (mean is a sum times 1/n here, one MeanBackward0 node in PyTorch); returns `out`.
    Nothing changes where the op handed back its input `source` itself."""
    node = getattr(out, "grad_fn", None)
    if node is not None and out is not source:
        node._name = name
    return out


def torch_node(name: str):
    """Decorate an op composed of others with PyTorch's name for its one node: the node
    that makes its result (the first, for ops returning values and indices) is `name`."""
    def decorate(fn):
        @functools.wraps(fn)
        def op(*args, **kwargs):
            out = fn(*args, **kwargs)
            first = out[0] if isinstance(out, tuple) else out
            node = getattr(first, "grad_fn", None)
            # not a node of an argument: ops such as dropout in eval mode return the input
            if node is not None and all(getattr(a, "grad_fn", None) is not node for a in args):
                node._name = name
            return out
        return op
    return decorate


class Function:
    """Base class of differentiable operations, used exactly like `torch.autograd.Function`.

    Subclass it with static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` and
    call `MyFn.apply(*args)`. Forward receives Tensors (run under no-grad) and returns a
    Tensor or a tuple of Tensors; backward returns one gradient per forward argument.
    """

    _array_forward = False
    # Node state. Defaults live on the class so that creating a node sets only what it uses.
    next_edges = ()           # per input: (node, output_nr, shape, dtype) or None
    _needs = None             # per input: does it need a gradient (edge is not None)
    materialize_grads = True
    _saved = ()               # entries: Tensor, _OutputRef, a plain constant, or None
    _saved_data = ()          # per entry: the array it held when saved, or None
    _saved_versions = None    # per entry: that array's version then; None: all were 0
    _watched = ()             # (array, version) of arrays kept as ctx attributes (watch)
    _to_save = ()
    _freed = False
    _outputs = None           # arrays of the outputs, kept only when one is saved
    _n_outputs = 1
    _out_meta = None          # (shape, dtype) per output, for multi-output zero grads
    _hooks = None             # [(output_nr, hook)] registered on non-leaf outputs
    _site = None              # forward call site, recorded in anomaly mode
    _non_differentiable = ()
    # PyTorch's name for this node where `XxxFn` -> `XxxBackward0` is not it; a node may
    # also carry its own (`_name`), where PyTorch's depends on the arguments (x[0] is a
    # SelectBackward0, x[1:] a SliceBackward0) or on the composite that made it (mean)
    torch_name = None
    _name = None
    # The array twin of backward, for the hot ops: the same formula on raw arrays, which
    # the engine calls when no graph of the backward is recorded (create_graph=False).
    # It skips the Function machinery that each op inside a Tensor-level backward pays
    # (microseconds per op, most of a small tensor's backward); tests hold it to backward,
    # which still serves create_graph=True, anomaly mode and the profiler.
    backward_arrays = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward(ctx, ...)")

    # ---- ctx API used inside forward/backward ----
    @property
    def needs_input_grad(self) -> tuple:
        """Per forward argument: does it need a gradient? (from the recorded edges)"""
        needs = self._needs
        if needs is None:                   # worked out once: forward and backward both ask
            needs = self._needs = tuple([edge is not None for edge in self.next_edges])
        return needs

    def save_for_backward(self, *values) -> None:
        """Keep inputs or outputs (Tensors, or arrays in an ArrayFunction) for backward."""
        self._to_save = values

    def watch(self, *values) -> None:
        """Arrays that backward reads from ctx attributes (a mask, a target, indices): the
        engine checks before backward that none has changed in place since, as it checks
        the values given to save_for_backward (autograd.version). Values that are not arrays
        (ints, slices, None) are skipped, so an index tuple can be passed whole."""
        self._watched = tuple([(v, version.version(v)) for v in values
                               if hasattr(v, "shape") and hasattr(v, "base")])

    def mark_non_differentiable(self, *outputs) -> None:
        """Declare outputs (e.g. indices) that never get a gradient."""
        self._non_differentiable = tuple(id(o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether missing output gradients reach backward as zeros (True) or None."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        """The values given to `save_for_backward`, as Tensors connected to the graph."""
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access "
                f"saved tensors after they have already been freed) in {self.name()}. "
                "Specify retain_graph=True if you need to backward through the graph a "
                "second time or access saved tensors after calling backward.")
        if self._saved_data:
            self._check_versions()
        if self._outputs is None:        # no output of this node among them: as stored
            return self._saved
        out = []
        for entry in self._saved:
            if type(entry) is _OutputRef:   # an output of this very node: rebuilt lazily
                i = entry.index
                out.append(_tensor.Tensor._wrap(self._outputs[i], True, self, i))
            else:
                out.append(entry)
        return tuple(out)

    @property
    def saved_arrays(self) -> tuple:
        """The values given to `save_for_backward` as raw arrays (Python numbers and None as
        they are), checked for in-place changes as `saved_tensors` is: what
        `backward_arrays` reads."""
        if self._freed:
            return self.saved_tensors          # raises the "backward a second time" error
        if self._saved_data:
            self._check_versions()
        Tensor = _tensor.Tensor
        out = []
        for entry in self._saved:
            if type(entry) is _OutputRef:
                out.append(self._outputs[entry.index])
            elif isinstance(entry, Tensor):
                out.append(entry.array)
            else:
                out.append(entry)
        return tuple(out)

    def name(self) -> str:
        """This node's name as PyTorch prints it: grad_fn=<MulBackward0>."""
        return self._name or _torch_name(type(self))

    @property
    def next_functions(self) -> tuple:
        """(node, output_nr) per input, as PyTorch's: (None, 0) where no gradient flows,
        the leaf's AccumulateGrad node at a leaf."""
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self.next_edges)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # ---- graph construction ----
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on `args` and, when needed, record this node for backward."""
        Tensor = _tensor.Tensor
        ctx = cls.__new__(cls)
        # one pass over the arguments: raw values for forward and, when grad mode is on,
        # an edge (node, output_nr, shape, dtype) to each input that requires a gradient
        enabled = STATE.enabled
        fargs, edges, record = [], [], False
        for a in args:
            if isinstance(a, Tensor):
                data = a.array
                fargs.append(data)
                if enabled and a._requires_grad:
                    record = True
                    node = a.grad_fn
                    if node is None:
                        edges.append((a._accumulator(), 0, data.shape, data.dtype))
                    else:
                        edges.append((node, a._output_nr, data.shape, data.dtype))
                    continue
            else:
                fargs.append(a)
            edges.append(None)
        ctx.next_edges = edges
        if _backend._cupy and len(fargs) > 1:      # only where a GPU (or its double) is in use
            _check_one_device(fargs, ctx)
        if STATE.anomaly:
            _check_finite_inputs(fargs if cls._array_forward else
                                 [a.array if isinstance(a, Tensor) else a for a in args],
                                 ctx.name())

        if cls._array_forward:
            raw = cls.forward(ctx, *fargs, **kwargs)
        else:
            prev, STATE.enabled = STATE.enabled, False
            try:
                raw = cls.forward(ctx, *args, **kwargs)
            finally:
                STATE.enabled = prev
        single = type(raw) is not tuple
        if single:
            a = raw.array if isinstance(raw, Tensor) else raw
            arrays = (np.asarray(a) if isinstance(a, np.generic) else a,)
        else:
            arrays = [_as_array(o.array if isinstance(o, Tensor) else o) for o in raw]
        if STATE.anomaly:
            _check_finite(arrays, ctx.name(), "forward")

        if not record:
            if single:
                return Tensor._wrap(arrays[0], False, None, 0)
            return tuple(Tensor._wrap(a, False, None, 0) for a in arrays)

        if STATE.anomaly:
            ctx._site = "".join(traceback.format_stack()[:-2][-6:])
        if ctx._to_save:
            ctx._resolve_saved(args, (raw,) if single else raw, arrays)
        if single:
            a = arrays[0]
            if a.dtype.kind in "fc" and not ctx._non_differentiable:
                out = object.__new__(Tensor)      # Tensor._wrap, inlined on the hot path
                out.array, out._grad, out._requires_grad, out.grad_fn = a, None, True, ctx
                out._output_nr, out._hooks, out._acc = 0, None, None
                return out
            return Tensor._wrap(a, False, None, 0)

        ctx._n_outputs = len(arrays)
        ctx._out_meta = tuple((a.shape, a.dtype) for a in arrays)
        nondiff = ctx._non_differentiable
        results = []
        for i, (o, a) in enumerate(zip(raw, arrays)):
            if a.dtype.kind in "fc" and id(o) not in nondiff:
                results.append(Tensor._wrap(a, True, ctx, i))
            else:
                results.append(Tensor._wrap(a, False, None, 0))
        return tuple(results)

    def _resolve_saved(self, args, outs, arrays) -> None:
        """Turn what forward saved into graph-connected Tensors (or output references)."""
        Tensor = _tensor.Tensor
        saved, data, arrays_saved = [], [], False
        for i, v in enumerate(self._to_save):
            if v is None or type(v) in _PLAIN:      # nothing, or a Python number: as is
                saved.append(v)
                data.append(None)
                continue
            entry = None
            # the Tensor argument that holds v, the one in v's own place first: in
            # x * x.detach() both hold one array, and the second factor saved is the detached
            a = args[i] if i < len(args) else None
            if not (isinstance(a, Tensor) and (v is a.array or v is a)):
                a = next((b for b in args if isinstance(b, Tensor) and (v is b.array or v is b)),
                         None)
            if a is not None:
                # a leaf is kept itself; a non-leaf as a snapshot of (data, grad_fn), so an
                # in-place op that later rebinds the input cannot change it
                if a.grad_fn is None:
                    entry = a
                else:
                    entry = object.__new__(Tensor)      # Tensor._wrap, inlined
                    entry.array, entry._grad, entry._requires_grad = a.array, None, True
                    entry.grad_fn, entry._output_nr = a.grad_fn, a._output_nr
                    entry._hooks = entry._acc = None
            if entry is None:
                for k, o in enumerate(outs):
                    if v is o:
                        entry = _OutputRef(k)
                        self._outputs = arrays
                        break
            if entry is None:   # a constant: Tensors and plain values kept as they are
                entry = v if isinstance(v, Tensor) or not hasattr(v, "dtype") else \
                    Tensor._wrap(_as_array(v), False, None, 0)
            saved.append(entry)
            # the array it holds now, to tell at backward whether it changed in place
            held = arrays[entry.index] if type(entry) is _OutputRef else \
                entry.array if isinstance(entry, Tensor) else None
            data.append(held)
            arrays_saved = arrays_saved or held is not None
        self._saved = tuple(saved)
        self._to_save = ()
        if arrays_saved:                    # else nothing to check at backward
            self._saved_data = tuple(data)
            if _version_counts:             # else every version is 0
                self._saved_versions = tuple([0 if d is None else version.version(d)
                                              for d in data])

    def _check_versions(self) -> None:
        """Raise, as PyTorch does, if a saved value has changed in place since it was saved:
        its array's memory was written (a version count moved), or a leaf kept as itself
        now holds another array. (A non-leaf is kept as a snapshot of its array, which an
        in-place op that rebinds the tensor leaves as it was: that backward is right, and
        runs, where PyTorch's raises.)"""
        then = self._saved_versions
        for i, (entry, data) in enumerate(zip(self._saved, self._saved_data)):
            if data is None:
                continue
            was = 0 if then is None else then[i]
            now = version.version(data)
            rebound = type(entry) is not _OutputRef and entry.array is not data
            if now != was or rebound:
                if type(entry) is _OutputRef:
                    what = f", which is output {entry.index} of {self.name()},"
                elif entry.grad_fn is not None:
                    what = f", which is output {entry._output_nr} of {entry.grad_fn.name()},"
                else:
                    what = ""
                raise self._modified_error(data, what, "now holds another array" if rebound
                                           else f"is at version {now}; expected version "
                                                f"{was} instead")

    def _check_watched(self) -> None:
        """Raise if an array given to `watch` has changed in place since forward."""
        for data, was in self._watched:
            now = version.version(data)
            if now != was:
                raise self._modified_error(data, f" (kept by {self.name()})",
                                           f"is at version {now}; expected version {was} "
                                           f"instead")

    def _modified_error(self, data, what: str, state: str) -> RuntimeError:
        return RuntimeError(
            f"{self.name()}: one of the variables needed for gradient computation has been "
            f"modified by an inplace operation: [{data.dtype} tensor of shape "
            f"{list(data.shape)}]{what} {state}. Hint: the value was changed in place (an "
            f"optimizer step, zero_grad(set_to_none=False), add_, x[i] = ...) after the "
            f"forward that saved it and before this backward; clone() it before changing "
            f"it, or run backward first.")


_PLAIN = (float, int, bool, complex)


class _OutputRef:
    """A saved output of the node itself, kept as an index to avoid a reference cycle."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _as_array(value):
    """NumPy turns 0-d results into scalars (np.float32); a Tensor always holds an array."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


class ArrayFunction(Function):
    """Base class of the built-in ops: forward works on raw arrays, backward on Tensors."""

    _array_forward = True


def _check_one_device(values, ctx) -> None:
    """Raise, as PyTorch does, when one op gets arrays on two devices (a 0-d CPU array, a
    scalar, may join a GPU op, as in PyTorch)."""
    devices = set()
    for v in values:
        if isinstance(v, np.ndarray):
            if v.ndim:
                devices.add("cpu")
        elif hasattr(v, "device") and hasattr(v, "shape"):
            devices.add(str(_backend.device_of(v)))
    if len(devices) > 1:
        raise RuntimeError(f"{ctx.name()}: Expected all tensors to be on the same device, but "
                           f"found at least two devices, {' and '.join(sorted(devices, reverse=True))}!")


def _check_finite_inputs(arrays, op: str) -> None:
    """Anomaly mode, before an op runs: a NaN or inf already in an input came from outside
    the checked ops (data, a parameter, an op run with anomaly mode off), so it is
    reported as such rather than blamed on this op."""
    from ..backend import get_array_module

    for i, a in enumerate(arrays):
        if a is None or not hasattr(a, "dtype") or a.dtype.kind not in "fc":
            continue
        xp = get_array_module(a)
        if not bool(xp.isfinite(a).all()):
            kind = "NaN" if bool(xp.isnan(a).any()) else "inf"
            raise RuntimeError(f"Function '{op}' got {kind} values in its input {i} (shape "
                               f"{tuple(a.shape)}): the input already held {kind} before this "
                               f"op, so it came from outside the ops anomaly mode checked "
                               f"(the data, a parameter, or an op run with anomaly mode off)")


def _check_finite(arrays, op: str, phase: str, site: str | None = None) -> None:
    """Anomaly mode: raise naming `op` if any floating array holds NaN or Inf."""
    from ..backend import get_array_module

    for a in arrays:
        if a is None or not hasattr(a, "dtype") or a.dtype.kind not in "fc":
            continue
        xp = get_array_module(a)
        if not bool(xp.isfinite(a).all()):
            kind = "nan" if bool(xp.isnan(a).any()) else "inf"
            where = f"\nThe forward call that created it:\n{site}" if site else ""
            raise RuntimeError(f"Function '{op}' returned {kind} values in its {phase} "
                               f"output (shape {tuple(a.shape)}).{where}")
