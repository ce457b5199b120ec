"""The common case of cross_entropy as one op: logits (N, C), class indices (N,), no class
weight, no label smoothing (ops.loss.cross_entropy sends it here).

The forward and the backward are each one pass over the logits (kernels.loss_numba, or the
NumPy twins in kernels.reference), with the reduction folded in; the general path in
ops.loss builds a target distribution and about fifteen temporaries instead.
"""
from __future__ import annotations

from ..autograd.function import ArrayFunction
from .. import kernels
from .. import tensor as _tensor
from ..backend import get_array_module
from .activation import softmax


class ClassCrossEntropyFn(ArrayFunction):
    """cross_entropy's common case as one op: logits (N, C), class indices (N,), no class
    weight, no smoothing; the per-row losses reduced as `reduction` asks.

    loss_i = logsumexp(x_i) - x[i, t_i], and dloss_i/dx_i = softmax(x_i) - onehot(t_i), each
    one pass over the logits (kernels.loss_numba)."""

    torch_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, ignore_index, reduction):
        loss = kernels.for_array(x, "loss_numba")
        losses, stats, kept, bad = loss.cross_entropy_forward(x, target, ignore_index)
        if bad >= 0:
            raise IndexError(f"cross_entropy: Target {int(target[bad])} is out of bounds for "
                             f"{x.shape[1]} classes (input shape {tuple(x.shape)})")
        ctx.save_for_backward(x)
        ctx.target, ctx.ignore_index, ctx.stats = target, ignore_index, stats
        ctx.watch(target)
        if reduction == "none":
            ctx.scale = None
            return losses
        # 'mean' divides by the kept rows; none kept gives nan, as in PyTorch
        ctx.scale = 1.0 if reduction == "sum" else (1.0 / kept if kept else float("nan"))
        total = losses.sum()
        return total if reduction == "sum" else total * x.dtype.type(ctx.scale)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return CrossEntropyBackwardFn.apply(x, grad_out, ctx), None, None, None


class CrossEntropyBackwardFn(ArrayFunction):
    """dL/dx of ClassCrossEntropyFn: grad_i * (softmax(x_i) - onehot(t_i)) per kept row.

    An op of its own so that the first backward is one kernel call, while create_graph=True
    still differentiates it (its backward is written with Tensor ops)."""

    torch_name = "NllLossBackwardBackward0"

    @staticmethod
    def forward(ctx, x, grad_out, loss_ctx):
        ctx.save_for_backward(x, grad_out)
        ctx.loss = loss_ctx
        grad = grad_out if loss_ctx.scale is None else \
            get_array_module(x).full(x.shape[0], grad_out * loss_ctx.scale, x.dtype)
        loss = kernels.for_array(x, "loss_numba")
        return loss.cross_entropy_backward(x, loss_ctx.target, loss_ctx.ignore_index,
                                           loss_ctx.stats, grad)

    @staticmethod
    def backward(ctx, gg):
        # G_i = g_i (s_i - e_t) on kept rows, s = softmax(x): dG/dx_i applied to gg_i is
        # g_i s_i * (gg_i - <s_i, gg_i>), and dG_i/dg_i = <s_i - e_t, gg_i>
        x, g = ctx.saved_tensors
        loss = ctx.loss
        xp = get_array_module(x.array)
        kept = loss.target != loss.ignore_index
        onehot = xp.zeros(x.shape, x.dtype)
        rows = xp.flatnonzero(kept)
        onehot[rows, loss.target[rows]] = 1
        mask = _tensor.constant(kept.astype(x.dtype)[:, None])
        need_x, need_g = ctx.needs_input_grad[:2]
        s = softmax(x, 1)
        per_row = g.unsqueeze(1) if loss.scale is None else g * loss.scale
        grad_x = per_row * mask * s * (gg - (s * gg).sum(1, keepdim=True)) if need_x else None
        grad_g = None
        if need_g:
            grad_g = ((s - _tensor.constant(onehot)) * gg * mask).sum(1)
            if loss.scale is not None:
                grad_g = grad_g.sum() * loss.scale
        return grad_x, grad_g, None
