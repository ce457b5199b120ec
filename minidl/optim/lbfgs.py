"""L-BFGS (torch.optim.LBFGS): a quasi-Newton method that keeps the last `history_size`
steps and gradient changes to approximate the inverse Hessian (the two-loop recursion).
It needs a closure that recomputes the loss and its gradients, as in PyTorch:

    def closure():
        optimizer.zero_grad(); loss = criterion(model(x), y); loss.backward(); return loss
    optimizer.step(closure)

This is PyTorch's algorithm line for line, on one flat vector of all parameters
(float arrays); `line_search_fn="strong_wolfe"` searches each step's length
(optim/line_search.py), None takes the fixed step `lr`. The scalars that PyTorch keeps as
0-d tensors (slopes, curvatures) stay NumPy scalars of the parameters' dtype here, so a
float32 model rounds where PyTorch's does.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..autograd import version
from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import get_array_module
from .line_search import strong_wolfe
from .optimizer import Optimizer


class LBFGS(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        xp = get_array_module(self._params[0].array)
        return xp.concatenate([xp.zeros(p.array.size, p.array.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add(self, step: float, direction) -> None:
        """p += step * direction, slice by slice."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += step * direction[offset:offset + n].reshape(p.array.shape)
            version.bump(p.array)
            offset += n

    def _evaluate_at(self, closure, x, t, direction):
        """Loss and flat gradient at x + t d (x: the parameters' arrays, copied once per
        line search), the parameters put back to x afterwards."""
        self._add(t, direction)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._flat_grad()
        for p, start in zip(self._params, x):
            p.array[...] = start
            version.bump(p.array)
        return loss, flat_grad

    @no_grad()
    def step(self, closure: Callable[[], Any]):
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that reevaluates the model and "
                               "returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        xp = get_array_module(flat_grad)
        if float(xp.abs(flat_grad).max()) <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:                    # steepest descent to begin with
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad          # change of gradient
                s = d * t                               # the step taken
                ys = y.dot(s)
                if ys > 1e-10:                          # keep the pair (curvature > 0)
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)       # scale of the initial Hessian
                # two-loop recursion: d = -H g
                q = -flat_grad
                al = [0.0] * len(old_dirs)
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # the first step is scaled to the gradient's size, later ones take lr
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)               # directional derivative
            if gtd > -tol_change:
                break
            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = [p.array.copy() for p in self._params]
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    lambda step: self._evaluate_at(closure, x_init, step, d), t, d, loss,
                    flat_grad,
                    gtd, tolerance_change=tol_change, max_ls=max_eval - current_evals)
                self._add(t, d)
            else:
                self._add(t, d)
                if n_iter != max_iter:       # the last iteration's loss is not needed
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._flat_grad()
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval:
                break
            if float(xp.abs(flat_grad).max()) <= tol_grad:
                break
            if float(xp.abs(d * t).max()) <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
