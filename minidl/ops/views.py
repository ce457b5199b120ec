"""Views and in-place ops, as PyTorch has them: a change through a view reaches its base.

`y = x[0]`, `x.t()`, `x.view(...)` share x's memory. Under grad mode an in-place op on
such a view (`x[0].mul_(2)`) must change x's values *and* x's history, or `x.sum()` would
give a number PyTorch does not. minidl does what PyTorch does:

- every view records its base (the tensor that owns the memory, `view._view[0]`) and how
  to make it again from the base (`view._view[1]`, one function per view step);
- the in-place op writes its result into the view's memory, which is the base's;
- the base's history becomes one `CopySlices` node: "the old base, with this region
  replaced by the result". Its backward sends the gradient of the region to the result
  and the rest to the old base (`CopySlicesFn.backward`);
- every view of the base that is still alive gets its history made again from the
  base's new one (`refresh_views`), as PyTorch regenerates a view's grad_fn.

A view's record is kept always (a tuple); the base's list of its live views is kept
under grad mode only (a weak reference each), so a view made under no_grad and used
under grad mode after its base changed in place keeps its old history.
"""
from __future__ import annotations

import weakref

from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import STATE
from ..backend import get_array_module
from .. import tensor as _tensor


def owns_memory_of(out_array, x_array) -> bool:
    """Whether `out_array` looks into `x_array`'s memory (NumPy and CuPy keep the owner
    as `.base`); a reshape that had to copy does not."""
    base = getattr(out_array, "base", None)
    return base is not None and (base is x_array or base is getattr(x_array, "base", None))


def record_view(out, x, remake) -> None:
    """Record that `out` is a view of `x`; `remake(t)` makes the same view of a tensor t."""
    parent = getattr(x, "_view", None)
    if parent is MULTI_VIEW:       # a view of one of unbind's outputs is refused as they are
        out._view = MULTI_VIEW
        return
    root, steps = (x, (remake,)) if parent is None else (parent[0], parent[1] + (remake,))
    out._view = (root, steps)
    if STATE.enabled:
        views = getattr(root, "_views", None)
        if views is None:
            root._views = views = []
        elif len(views) >= 32 and len(views) & (len(views) - 1) == 0:
            views[:] = [r for r in views if r() is not None]   # at 32, 64, ...: drop the dead
        views.append(weakref.ref(out))


# The outputs of a function that returns several views (unbind, as in PyTorch) carry this
# instead of a record: an in-place op on one of them under grad mode raises.
MULTI_VIEW = ("multi-view",)


def remake(root, steps):
    """The view that `steps` make of `root` (a Tensor with a graph when grad mode is on)."""
    t = root
    for step in steps:
        t = step(t)
    return t


class CopySlicesFn(ArrayFunction):
    """new_base = old_base with the region `steps` selects replaced by `value`.

    The base's array already holds the new values (the in-place op wrote them through the
    view), so forward hands it back unchanged; the node only records the history."""

    torch_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, steps):
        ctx.steps = steps
        ctx.layout = base     # the mask in backward is laid out as the base, so that the
        return base           # steps (a reshape among them) make views of it, not copies

    @staticmethod
    def backward(ctx, grad_out):
        need_base, need_value, _ = ctx.needs_input_grad
        Tensor = _tensor.Tensor
        grad_value = remake(grad_out, ctx.steps) if need_value else None
        grad_base = None
        if need_base:         # the region was overwritten: no gradient reaches the old base
            keep = get_array_module(grad_out.array).ones_like(ctx.layout, grad_out.array.dtype)
            remake(Tensor._wrap(keep, False, None, 0), ctx.steps).array[...] = 0
            grad_base = grad_out * Tensor._wrap(keep, False, None, 0)
        return grad_base, grad_value, None


def rebase(root, steps, result) -> None:
    """Give `root` the history "root, with the region `steps` selects now `result`" (its
    array already holds result there), then make its live views' histories again."""
    Tensor = _tensor.Tensor
    old = Tensor._wrap(root.array, root._requires_grad, root.grad_fn, root._output_nr)
    new = CopySlicesFn.apply(old, result, steps)
    set_history(root, new)


def set_history(t, source) -> None:
    """t takes `source`'s place in the graph (t keeps its own array), and t's live views
    are made again from it."""
    t.grad_fn, t._output_nr, t._requires_grad = source.grad_fn, source._output_nr, \
        source._requires_grad
    views = getattr(t, "_views", None)
    if views:
        for ref in list(views):
            v = ref()
            if v is not None:
                fresh = remake(t, v._view[1])
                v.grad_fn, v._output_nr, v._requires_grad = fresh.grad_fn, \
                    fresh._output_nr, fresh._requires_grad
