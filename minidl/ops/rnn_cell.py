"""The ops recurrent layers run once per time step, fused so a step is a few graph nodes,
not fifteen: the LSTM cell update and unbind (a sequence split into its steps).

lstm_cell(gates, c_prev) is exactly the composite

    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()

(`lstm_cell_reference` below, which tests hold it to), as one node whose forward and
backward are one kernel pass each (kernels/rnn_numba.py, twins in kernels/reference.py).
Under create_graph its backward is written with Tensor ops instead, so gradients of
gradients are right.
"""
from __future__ import annotations

from .. import kernels
from .views import MULTI_VIEW
from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import STATE
from .shape import stack


class LSTMCellFn(ArrayFunction):
    """(h, c) = the LSTM cell update of the pre-activation gates (N, 4H) and c_prev (N, H)."""

    torch_name = "LSTMCellBackward0"

    @staticmethod
    def forward(ctx, gates, c_prev):
        h, c, act = kernels.for_array(gates, "rnn_numba").lstm_cell_forward(gates, c_prev)
        ctx.act = act                        # the activations, read by backward
        ctx.save_for_backward(gates, c_prev)
        return h, c

    @staticmethod
    def backward(ctx, dh, dc):
        gates, c_prev = ctx.saved_tensors
        if STATE.enabled:                    # create_graph: a differentiable backward
            return _lstm_cell_backward_tensors(gates, c_prev, dh, dc)
        cell = kernels.for_array(gates.array, "rnn_numba")
        d_gates, dc_prev = cell.lstm_cell_backward(dh.array, dc.array, ctx.act, c_prev.array)
        return d_gates, dc_prev


def _lstm_cell_backward_tensors(gates, c_prev, dh, dc):
    """reference.lstm_cell_backward written with Tensor ops (twice differentiable)."""
    i, f, g, o = gates.chunk(4, -1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tc = (f * c_prev + i * g).tanh()
    total = dc + dh * o * (1 - tc * tc)
    d_gates = stack([total * g * i * (1 - i), total * c_prev * f * (1 - f),
                     total * i * (1 - g * g), dh * tc * o * (1 - o)], -2)
    return d_gates.reshape(gates.shape), total * f


def lstm_cell(gates, c_prev):
    """(h, c) of one LSTM step, from gates = x W_ih^T + b_ih + h W_hh^T + b_hh (N, 4H)."""
    if gates.shape[-1] != 4 * c_prev.shape[-1] or gates.shape[:-1] != c_prev.shape[:-1]:
        raise RuntimeError(f"lstm_cell: gates of shape {tuple(gates.shape)} do not fit a cell "
                           f"state of shape {tuple(c_prev.shape)} (expected (*, 4 * H) and "
                           f"(*, H))")
    if c_prev.dtype != gates.dtype:
        raise RuntimeError(f"lstm_cell: gates are {gates.dtype}, the cell state "
                           f"{c_prev.dtype}")
    return LSTMCellFn.apply(gates, c_prev)


def lstm_cell_reference(gates, c_prev):
    """The readable twin of lstm_cell: the composite of Tensor ops it fuses."""
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


class UnbindFn(ArrayFunction):
    """x split along dim 0 into its x.shape[0] slices: one node (a node per slice would
    scatter each slice's gradient into a zero array of x's full size: quadratic in the
    sequence length)."""

    torch_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.n = x.shape[0]
        return tuple(x[t] for t in range(x.shape[0]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), 0)         # missing gradients arrive as zeros


def unbind0(x):
    """The slices x[0], x[1], ... along dim 0 (Tensor.unbind(0)), as one node."""
    if x.ndim == 0:
        raise RuntimeError("unbind: a 0-d tensor has no dim to unbind")
    out = UnbindFn.apply(x)
    out = out if isinstance(out, tuple) else (out,)
    for o in out:          # views of x that an in-place op may not change under grad mode
        o._view = MULTI_VIEW
    return out

