"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..autograd import version
from ..autograd.grad_mode import no_grad
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (torch.optim.SGD).

    For each parameter `p` with gradient `g`, one step computes::

        g = -g                           if maximize
        g = g + weight_decay * p         if weight_decay != 0
        if momentum != 0:
            b = g                                        on the first step
            b = momentum * b + (1 - dampening) * g       afterwards
            g = g + momentum * b         if nesterov, else g = b
        p = p - lr * g

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups (see `Optimizer`).
    lr : float
        Learning rate (PyTorch 2.x's default, 1e-3).
    momentum : float
        Momentum factor; 0 disables the buffer.
    dampening : float
        Dampening for momentum.
    weight_decay : float
        L2 penalty added to the gradient.
    nesterov : bool
        Nesterov momentum; needs `momentum > 0` and `dampening == 0`.
    maximize : bool
        Maximize the objective instead of minimizing it.

    See Also
    --------
    torch.optim.SGD
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; return the closure's loss, if any."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum = float(group["lr"]), float(group["momentum"])
            dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.array)
                g = -p.grad.array if group["maximize"] else p.grad.array
                if weight_decay != 0:
                    g = g + weight_decay * p.array
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = Tensor._wrap(xp.array(g, copy=True), False, None, 0)
                        state["momentum_buffer"] = buf
                    else:
                        buf.array *= momentum
                        buf.array += (1 - dampening) * g
                    g = g + momentum * buf.array if group["nesterov"] else buf.array
                p.array -= lr * g
                version.bump(p.array)
        return loss
