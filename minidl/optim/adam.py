"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..autograd import version
from ..autograd.grad_mode import no_grad
from ..backend import get_array_module
from ..ops.optim_step import adam_update_
from ..tensor import Tensor
from .optimizer import Optimizer


def _zeros_like(p: Tensor) -> Tensor:
    return Tensor._wrap(get_array_module(p.array).zeros_like(p.array), False, None, 0)


class Adam(Optimizer):
    r"""Adam (torch.optim.Adam), with the bias corrections of PyTorch's implementation.

    For each parameter `p` with gradient `g`, step `t = 1, 2, ...` computes::

        g = -g                                    if maximize
        p = p * (1 - lr * weight_decay)           if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p                  otherwise, if weight_decay != 0
        m = m + (1 - beta1) * (g - m)             first moment (a lerp towards g)
        v = beta2 * v + (1 - beta2) * g * g       second moment
        v_max = max(v_max, v)                     if amsgrad; v_max replaces v below
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps
        p = p - lr / (1 - beta1**t) * m / denom

    The state of each parameter holds `step`, `exp_avg` (m), `exp_avg_sq` (v) and, with
    amsgrad, `max_exp_avg_sq` (v_max). `step` is a Python int, where PyTorch keeps a float
    tensor; `load_state_dict` accepts either.

    Parameters
    ----------
    params : iterable
        Tensors or parameter groups (see `Optimizer`).
    lr : float
        Learning rate.
    betas : (float, float)
        Decay rates of the first and second moment averages, each in [0, 1).
    eps : float
        Added to the denominator for numerical stability.
    weight_decay : float
        L2 penalty (added to the gradient) or, with `decoupled_weight_decay`, the factor
        of the direct decay of the weights.
    amsgrad : bool
        Use the maximum of past second moments (AMSGrad).
    maximize : bool
        Maximize the objective instead of minimizing it.
    decoupled_weight_decay : bool
        Decay the weights directly instead of through the gradient: this is AdamW.

    See Also
    --------
    torch.optim.Adam, AdamW
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; return the closure's loss, if any."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps = float(group["lr"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                m, v = state["exp_avg"].array, state["exp_avg_sq"].array
                state["step"] += 1
                t = state["step"]

                g = -p.grad.array if group["maximize"] else p.grad.array
                v_max = state["max_exp_avg_sq"].array if group["amsgrad"] else None
                # the algorithm above, as one pass per parameter (ops.optim_step)
                adam_update_(p.array, g, m, v, v_max, lr=lr, beta1=beta1, beta2=beta2,
                             eps=eps, weight_decay=weight_decay,
                             decoupled=group["decoupled_weight_decay"], step=t)
                version.bump(p.array)
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay (torch.optim.AdamW): `p *= 1 - lr * weight_decay`.

    The same as `Adam(..., decoupled_weight_decay=True)`, with PyTorch's default
    `weight_decay=1e-2`. See `Adam` for the algorithm and the parameters.

    See Also
    --------
    torch.optim.AdamW
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:       # an AdamW stays AdamW whatever it loads
            group["decoupled_weight_decay"] = True
