"""Per-coordinate adaptive optimizers: RMSprop, Adagrad, Adadelta (PyTorch's formulas,
written as the plain array lines of their docstrings).

Each state tensor is a Tensor under PyTorch's key ('square_avg', 'sum', ...), so
state_dict() moves to and from PyTorch; every update of a parameter's array bumps its
version (autograd.version), as the other optimizers do.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..autograd import version
from ..autograd.grad_mode import no_grad
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer


def _check(**values) -> None:
    names = {"lr": "learning rate", "eps": "epsilon value", "weight_decay": "weight_decay value",
             "momentum": "momentum value", "alpha": "alpha value", "lr_decay": "lr_decay value",
             "initial_accumulator_value": "initial_accumulator_value"}
    for key, v in values.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid {names[key]}: {v}")


def _state_tensor(p, fill: float = 0.0) -> Tensor:
    xp = get_array_module(p.array)
    return Tensor._wrap(xp.full_like(p.array, fill), False, None, 0)


def _grad(p, group):
    g = -p.grad.array if group["maximize"] else p.grad.array
    if group["weight_decay"] != 0:
        g = g + group["weight_decay"] * p.array
    return g


class RMSprop(Optimizer):
    r"""RMSprop (torch.optim.RMSprop). Per parameter, with g its gradient::

        v = alpha * v + (1 - alpha) * g^2
        centered: m = m + (1 - alpha) * (g - m);  d = sqrt(v - m^2) + eps
        else:     d = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / d;  p = p - lr * b
        else:         p = p - lr * g / d
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False):
        _check(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize))

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            momentum = float(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _grad(p, group)
                state = self.state[p]
                if not state:
                    state["step"] = Tensor(0.0)
                    state["square_avg"] = _state_tensor(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _state_tensor(p)
                    if group["centered"]:
                        state["grad_avg"] = _state_tensor(p)
                state["step"] = Tensor(float(state["step"].item()) + 1)
                v = state["square_avg"].array
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    m = state["grad_avg"].array
                    m += (1 - alpha) * (g - m)
                    avg = get_array_module(v).sqrt(v - m * m)
                else:
                    avg = get_array_module(v).sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"].array
                    buf *= momentum
                    buf += g / avg
                    p.array -= lr * buf
                else:
                    p.array -= lr * g / avg          # (lr g) / avg, as addcdiv rounds
                version.bump(p.array)
        return loss


class Adagrad(Optimizer):
    r"""Adagrad (torch.optim.Adagrad). Per parameter, at step t::

        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2;   p = p - lr_t * g / (sqrt(s) + eps)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None):
        _check(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
               initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      initial_accumulator_value=initial_accumulator_value))
        for group in self.param_groups:        # PyTorch creates the state at construction
            for p in group["params"]:
                self.state[p]["step"] = Tensor(0.0)
                self.state[p]["sum"] = _state_tensor(p, group["initial_accumulator_value"])

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _grad(p, group)
                state = self.state[p]
                step = float(state["step"].item()) + 1
                state["step"] = Tensor(step)
                clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
                s = state["sum"].array
                s += g * g
                std = get_array_module(s).sqrt(s)
                std += group["eps"]
                p.array -= clr * (g / std)
                version.bump(p.array)
        return loss


class Adadelta(Optimizer):
    r"""Adadelta (torch.optim.Adadelta). Per parameter::

        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        _check(lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _grad(p, group)
                state = self.state[p]
                if not state:
                    state["step"] = Tensor(0.0)
                    state["square_avg"] = _state_tensor(p)
                    state["acc_delta"] = _state_tensor(p)
                state["step"] = Tensor(float(state["step"].item()) + 1)
                xp = get_array_module(g)
                v, u = state["square_avg"].array, state["acc_delta"].array
                v *= rho
                v += (1 - rho) * g * g
                std = xp.sqrt(v + eps)
                delta = xp.sqrt(u + eps) / std * g
                u *= rho
                u += (1 - rho) * delta * delta
                p.array -= lr * delta
                version.bump(p.array)
        return loss
