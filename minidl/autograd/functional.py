"""Higher-level derivatives built on `grad`: vjp, jvp, jacobian, hessian, hvp, vhp.

Signatures follow torch.autograd.functional. jvp uses the double-vjp trick: the vjp is
linear in v, so differentiating u -> J^T u against u and contracting with v gives J v.
"""
from __future__ import annotations

from .. import tensor as _tensor
from .engine import grad as _grad
from .grad_mode import enable_grad


def _as_tuple(x):
    is_tuple = isinstance(x, (tuple, list))
    return (tuple(x) if is_tuple else (x,)), is_tuple


def _prepare(inputs, create_graph):
    """Fresh leaves for the inputs (kept in the graph when create_graph)."""
    return tuple(t if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _fill(grads, like):
    Tensor = _tensor.Tensor
    return tuple(g if g is not None else Tensor._wrap(t.array * 0, False, None, 0)
                 for g, t in zip(grads, like))


def _result(values, create_graph):
    return tuple(v if create_graph else v.detach() for v in values)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J)."""
    inputs, in_tuple = _as_tuple(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        outs, out_tuple = _as_tuple(func(*xs))
        vs = _as_tuple(v)[0] if v is not None else (None,) * len(outs)
        grads = _grad(list(outs), list(xs), list(vs), create_graph=create_graph,
                      retain_graph=True, allow_unused=True)
    grads = _result(_fill(grads, xs), create_graph)
    outs = _result(outs, create_graph)
    return (outs if out_tuple else outs[0]), (grads if in_tuple else grads[0])


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v)."""
    Tensor = _tensor.Tensor
    inputs, in_tuple = _as_tuple(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        outs, out_tuple = _as_tuple(func(*xs))
        if v is None:
            if any(x.array.size != 1 for x in xs):
                raise RuntimeError("jvp: v can be None only when every input has one element")
            v = tuple(Tensor._wrap(x.array * 0 + 1, False, None, 0) for x in xs)
        vs = _as_tuple(v)[0]
        us = [Tensor._wrap(o.array * 0, True, None, 0) for o in outs]
        g = _fill(_grad(list(outs), list(xs), us, create_graph=True, allow_unused=True), xs)
        g = [gi for gi in g if gi.requires_grad]
        res = _grad(g, us, [vi for vi, gi in zip(vs, g)], create_graph=create_graph,
                    allow_unused=True) if g else (None,) * len(us)
    res = _result(_fill(res, outs), create_graph)
    outs = _result(outs, create_graph)
    return (outs if out_tuple else outs[0]), (res if out_tuple else res[0])


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian: shape out.shape + in.shape for each (output, input) pair."""
    from .. import ops

    inputs, in_tuple = _as_tuple(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        outs, out_tuple = _as_tuple(func(*xs))
        table = []
        for out in outs:
            rows = [[] for _ in xs]
            flat = ops.reshape(out, (-1,))
            for k in range(flat.array.size):
                if out.requires_grad:
                    gs = _grad([flat[k]], list(xs), retain_graph=True,
                               create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(xs)
                for r, g in zip(rows, _fill(gs, xs)):
                    r.append(g)
            jac = []
            for x, r in zip(xs, rows):
                stacked = ops.stack(r, 0) if r else _tensor.Tensor(x.array.reshape(0, *x.shape))
                jac.append(ops.reshape(stacked, tuple(out.shape) + tuple(x.shape)))
            table.append(_result(jac, create_graph))
    if not out_tuple:
        return table[0] if in_tuple else table[0][0]
    return tuple(row if in_tuple else row[0] for row in table)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    inputs, in_tuple = _as_tuple(inputs)

    def gradient(*xs):
        out = func(*xs)
        if out.array.size != 1:
            raise RuntimeError(f"hessian: the function must return a single-element tensor, "
                               f"got shape {tuple(out.shape)}")
        return _fill(_grad([out], list(xs), create_graph=True, allow_unused=True), xs)

    jac = jacobian(gradient, inputs, create_graph=create_graph)
    return jac if in_tuple else jac[0][0]


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H)."""
    inputs, in_tuple = _as_tuple(inputs)
    with enable_grad():
        xs = _prepare(inputs, True)
        out = func(*xs)
        g = _fill(_grad([out], list(xs), create_graph=True, allow_unused=True), xs)
        vs = _as_tuple(v)[0]
        live = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
        res = _grad([gi for gi, _ in live], list(xs), [vi for _, vi in live],
                    create_graph=create_graph, allow_unused=True) if live else (None,) * len(xs)
    res = _result(_fill(res, xs), create_graph)
    out = out if create_graph else out.detach()
    return out, (res if in_tuple else res[0])


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v); equal to vhp because the Hessian is symmetric."""
    return vhp(func, inputs, v, create_graph, strict)
