"""compare: run a minidl model and its PyTorch twin on the same inputs and report, layer
by layer, where their forward outputs and gradients part.

Every sub-module's output and the gradient reaching each sub-module's inputs are recorded
with forward hooks and tensor hooks (both libraries have them), and every parameter's
gradient after backward. A difference is measured relative to the size of PyTorch's
values, `max|a - b| / max|b|`, so values near zero do not blow it up. The first layer
whose forward output passes the tolerance is where the forward parts; walking backward
(modules in reverse order of entry), the first layer whose input gradient or own parameter
gradients pass it is where backward parts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .convert import _torch, copy_weights as _copy_weights, state_dict_to_torch

# Tolerances on the relative difference max|a - b| / max|b|, by the compared dtype.
TOLERANCES = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-10}


@dataclass
class Row:
    """One module call (or one parameter): its differences and whether they pass."""
    name: str
    kind: str                   # "module" or "weight"
    type: str
    out_abs: float | None = None
    out_rel: float | None = None
    grad_in_rel: float | None = None
    param_grad_rel: float | None = None
    worst_param: str | None = None
    note: str = ""


@dataclass
class CompareReport:
    """What `compare` found. `ok` is True when nothing passes the tolerance."""
    rows: list
    tolerance: float
    dtype: str
    loss: tuple                 # (minidl, torch)
    first_forward: str | None = None
    first_backward: str | None = None
    weights_differ: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_forward is None and self.first_backward is None and \
            not self.weights_differ

    def to_dict(self) -> dict:
        return {"ok": self.ok, "dtype": self.dtype, "tolerance": self.tolerance,
                "loss": {"minidl": self.loss[0], "torch": self.loss[1]},
                "first_forward_divergence": self.first_forward,
                "first_backward_divergence": self.first_backward,
                "weights_differ": self.weights_differ,
                "layers": [dict(r.__dict__) for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        def f(v):
            return "-" if v is None else f"{v:.2e}"
        head = f"{'layer':<28} {'type':<18} {'out abs':>9} {'out rel':>9} {'grad in':>9} " \
               f"{'params':>9}"
        lines = [f"minidl vs PyTorch ({self.dtype}, tolerance {self.tolerance:g} relative)",
                 head, "-" * len(head)]
        for r in self.rows:
            if r.kind != "module":
                continue
            flag = "  <-" if r.name in (self.first_forward, self.first_backward) else ""
            lines.append(f"{(r.name or '(model)'):<28.28} {r.type:<18.18} {f(r.out_abs):>9} "
                         f"{f(r.out_rel):>9} {f(r.grad_in_rel):>9} {f(r.param_grad_rel):>9}"
                         f"{flag}{('  ' + r.note) if r.note else ''}")
        lines.append(f"loss: minidl {self.loss[0]:.10g}, torch {self.loss[1]:.10g}")
        for name in self.weights_differ:
            lines.append(f"weights differ before the run: {name}")
        lines.append("forward: " + (f"first divergence at {self.first_forward!r}"
                                    if self.first_forward is not None else "agrees"))
        lines.append("backward: " + (f"first divergence at {self.first_backward!r}"
                                     if self.first_backward is not None else "agrees"))
        lines.append("OK" if self.ok else "DIVERGED")
        return "\n".join(lines)


def _flat_tensors(value, is_tensor) -> list:
    if is_tensor(value):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat_tensors(v, is_tensor)]
    return []


def _numpy(t) -> np.ndarray:
    if hasattr(t, "array"):                         # minidl
        from ..backend import to_numpy
        return to_numpy(t.array).astype(np.float64)
    return t.detach().cpu().double().numpy()


def _rel(a: list, b: list):
    """(max abs difference, max abs difference / max |b|) over lists of tensors."""
    if len(a) != len(b):
        return None, None, f"{len(a)} tensors vs torch's {len(b)}"
    worst_abs, scale = 0.0, 0.0
    for x, y in zip(a, b):
        x, y = _numpy(x), _numpy(y)
        if x.shape != y.shape:
            return None, None, f"shape {list(x.shape)} vs torch's {list(y.shape)}"
        if x.size:
            worst_abs = max(worst_abs, float(np.max(np.abs(x - y))))
            scale = max(scale, float(np.max(np.abs(y))))
    return worst_abs, worst_abs / scale if scale > 0 else worst_abs, ""


class _Recorder:
    """Hooks on every sub-module: outputs in completion order, entries in entry order, and
    the gradients that reach each call's inputs."""

    def __init__(self, model, is_tensor):
        self.is_tensor = is_tensor
        self.entered, self.outputs, self.grad_in, self.types = [], {}, {}, {}
        self.calls, self.handles = {}, []
        for name, module in model.named_modules():
            self.types[name] = type(module).__name__
            self.handles.append(module.register_forward_pre_hook(self._pre(name)))
            self.handles.append(module.register_forward_hook(self._post(name)))

    def _key(self, name: str, new: bool) -> str:
        k = self.calls.get(name, 0) + (1 if new else 0)
        self.calls[name] = k
        return name if k == 1 else f"{name}#{k}"

    def _pre(self, name):
        def hook(module, args):
            key = self._key(name, new=True)
            self.entered.append(key)
            grads = self.grad_in[key] = {}
            for i, t in enumerate(_flat_tensors(list(args), self.is_tensor)):
                if t.requires_grad:
                    t.register_hook(lambda g, i=i: grads.__setitem__(i, g))
            return None
        return hook

    def _post(self, name):
        def hook(module, args, output):
            self.outputs[self._key(name, new=False)] = _flat_tensors(output, self.is_tensor)
            return None
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


def _loss_fn(loss, target, lib):
    """The loss as a function of (output, target) in library `lib`."""
    if isinstance(loss, (tuple, list)):                   # (minidl_fn, torch_fn)
        return loss[0] if lib.__name__ == "minidl" else loss[1]
    if callable(loss):
        return loss
    if loss is None:
        if target is None:
            return lambda out, _: sum(t.sum() for t in out) if isinstance(out, tuple) \
                else out.sum()
        integer = np.dtype(str(getattr(target, "dtype", "float32")).replace("torch.", "")
                           ).kind in "iu"
        loss = "cross_entropy" if integer else "mse_loss"
    fn = getattr(lib.nn.functional, loss, None)
    if fn is None:
        raise ValueError(f"compare: no loss function {loss!r} in nn.functional")
    return fn


def _as_pair(value, dtype):
    """A value as (minidl tensor, torch tensor); floating values cast to dtype."""
    import minidl
    torch = _torch()
    if hasattr(value, "array"):
        array = value.detach().numpy()
    elif hasattr(value, "detach"):
        array = value.detach().cpu().numpy()
    else:
        array = np.asarray(value)
    if array.dtype.kind == "f" and dtype is not None:
        array = array.astype(dtype)
    return minidl.tensor(array.copy()), torch.from_numpy(array.copy())


def compare(minidl_model, torch_model, inputs, target=None, loss=None, dtype=None,
            copy_weights: bool = True, tolerance: float | None = None) -> CompareReport:
    """Run both models on the same inputs and report where they part, layer by layer.

    Parameters
    ----------
    minidl_model, torch_model : the two twins (same parameter names and shapes). Both are
        changed in place: cast to `dtype` when given, and the torch model is given the
        minidl model's weights when `copy_weights` (else the weights are compared first).
    inputs : a tensor (minidl, torch or NumPy) or a tuple of them, the forward's arguments.
    target : optional, passed to the loss.
    loss : None (cross-entropy for an integer target, MSE for a float one, the output's
        sum without a target), a name in nn.functional, a function of (output, target)
        written with Tensor methods (it runs on both), or a (minidl_fn, torch_fn) pair.
    tolerance : the relative difference that counts as divergence; by default 1e-4 in
        float32, 1e-10 in float64.
    """
    import minidl
    torch = _torch()
    if dtype is not None:
        dtype = np.dtype(str(dtype).replace("torch.", "").replace("minidl.", ""))
        minidl_model.to(dtype)
        torch_model.to(getattr(torch, dtype.name))
    weights_differ = []
    if copy_weights:
        _copy_weights(minidl_model, torch_model)
    else:
        theirs = torch_model.state_dict()
        for k, v in state_dict_to_torch(minidl_model.state_dict()).items():
            if k not in theirs or not torch.equal(v, theirs[k].detach().cpu()):
                weights_differ.append(k)
    first = next(iter(minidl_model.parameters()), None)
    dtype = dtype or (np.dtype(first.array.dtype) if first is not None else np.dtype("float32"))
    tol = TOLERANCES.get(dtype.name, 1e-4) if tolerance is None else tolerance

    args = inputs if isinstance(inputs, tuple) else (inputs,)
    pairs = [_as_pair(a, dtype) for a in args]
    for m_arg, t_arg in pairs:
        if m_arg.dtype.kind == "f":
            m_arg.requires_grad_(True)
            t_arg.requires_grad_(True)
    targets = _as_pair(target, None) if target is not None else (None, None)

    results = []
    for lib, model, k, is_tensor in ((minidl, minidl_model, 0, lambda t: isinstance(
            t, minidl.Tensor)), (torch, torch_model, 1, torch.is_tensor)):
        model.zero_grad(set_to_none=True)      # gradients of this run only
        rec = _Recorder(model, is_tensor)
        try:
            out = model(*[p[k] for p in pairs])
            value = _loss_fn(loss, target, lib)(out, targets[k])
            value.backward()
        finally:
            rec.remove()
        grads = {n: p.grad for n, p in model.named_parameters()}
        results.append((rec, float(value.item()), grads))
    (m_rec, m_loss, m_grads), (t_rec, t_loss, t_grads) = results

    rows, by_name = [], {}
    for key in t_rec.entered:
        name = key.split("#")[0]
        row = Row(key, "module", t_rec.types.get(name, "?"))
        if key not in m_rec.outputs:
            row.note = "not called in the minidl model"
        else:
            row.out_abs, row.out_rel, row.note = _rel(m_rec.outputs[key], t_rec.outputs[key])
            gm, gt = m_rec.grad_in.get(key, {}), t_rec.grad_in.get(key, {})
            common = sorted(set(gm) & set(gt))
            if common:
                _, rel, note = _rel([gm[i] for i in common], [gt[i] for i in common])
                row.grad_in_rel = float("inf") if note else rel
        own = [n for n in t_grads if n.rpartition(".")[0] == name and "#" not in key]
        for n in own:
            a, b = m_grads.get(n), t_grads[n]
            if a is None or b is None:
                if (a is None) != (b is None):     # a gradient in one library only
                    row.param_grad_rel, row.worst_param = float("inf"), n
                continue
            _, rel, _ = _rel([a], [b])
            if rel is not None and (row.param_grad_rel is None or rel > row.param_grad_rel):
                row.param_grad_rel, row.worst_param = rel, n
        rows.append(row)
        by_name[key] = row

    def fails(v):
        return v is not None and not v <= tol          # NaN fails too
    first_forward = next((k for k in t_rec.outputs if k in by_name and
                          (by_name[k].note or fails(by_name[k].out_rel))), None)
    first_backward = next((k for k in reversed(t_rec.entered) if
                           fails(by_name[k].grad_in_rel) or fails(by_name[k].param_grad_rel)),
                          None)
    return CompareReport(rows, tol, dtype.name, (m_loss, t_loss), first_forward,
                         first_backward, weights_differ)
