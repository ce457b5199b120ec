"""The Adam exercise: one update of a parameter and its two moment estimates.

The expected answer is one `minidl.optim.Adam.step()` from the given state (and
`torch.optim.Adam`'s, when installed): PyTorch's formula, without weight decay.
"""
from __future__ import annotations

import numpy as np

import minidl
from .checks import Case, close, describe_args
from .grading import Exercise

_STEPS = (1, 2, 3, 10, 100)
_LRS = (1e-3, 1e-2, 0.1)
_BETAS = ((0.9, 0.999), (0.5, 0.9), (0.0, 0.99))
_EPS = (1e-8, 1e-3)


class AdamStepExercise(Exercise):
    name = "adam_step"
    function = "adam_step"
    arguments = ("param", "grad", "m", "v", "step", "lr", "beta1", "beta2", "eps")
    outputs = ("param", "m", "v")
    check_order = (1, 2, 0)           # the moments first: a wrong m makes param wrong too
    summary = "one step of the Adam optimizer, as torch.optim.Adam takes it"
    reference_name = "minidl.optim.Adam, one step() from this state"
    rtol, atol = 1e-9, 1e-15
    lesson = """
Adam keeps two running averages per parameter: m of the gradient and v of its square. It
moves each weight by m over sqrt(v), so every weight takes steps of about lr whatever its
gradient's scale. Write one step, as torch.optim.Adam takes it (no weight decay).

Receives  param, grad, m, v   float64 arrays of one shape: the weights, their gradient,
                              and the two moments after the previous step (zeros at first)
          step                int >= 1: the number of this step (1 for the first)
          lr, beta1, beta2, eps   floats
Returns   (param, m, v): the new weights and moments, float64 arrays of the same shape

Maths     m     = beta1 * m + (1 - beta1) * grad
          v     = beta2 * v + (1 - beta2) * grad**2
          m_hat = m / (1 - beta1**step)           bias corrections: m and v start at 0,
          v_hat = v / (1 - beta2**step)           so early averages are too small
          param = param - lr * m_hat / (sqrt(v_hat) + eps)

Hints     - Return m and v themselves, not m_hat and v_hat: the next step needs them.
          - eps goes outside the square root; it matters when v is tiny.
"""
    docstring = """
    One Adam step (torch.optim.Adam, no weight decay) from the moments m and v.

    Parameters
    ----------
    param, grad, m, v : np.ndarray, float64, all of one shape
    step : int, >= 1, the number of this step
    lr, beta1, beta2, eps : float

    Returns
    -------
    (param, m, v) : float64 arrays, the updated weights and moments"""

    def _case(self, title, param, grad, m, v, step, lr=1e-3, betas=(0.9, 0.999),
              eps=1e-8) -> Case:
        arrays = tuple(np.asarray(a, dtype=np.float64) for a in (param, grad, m, v))
        args = arrays + (step, lr, betas[0], betas[1], eps)
        return Case(title, args, describe_args(self.arguments, args))

    def draw(self, pick) -> dict:
        return {"shape": tuple(pick(1, 4) for _ in range(pick(1, 2))),
                "step": pick(0, len(_STEPS) - 1), "lr": pick(0, len(_LRS) - 1),
                "betas": pick(0, len(_BETAS) - 1), "eps": pick(0, len(_EPS) - 1),
                "tiny": pick(0, 1), "seed": pick(0, 2 ** 16)}

    def build(self, params: dict) -> Case:
        rng = np.random.default_rng(params["seed"])
        shape, step = params["shape"], _STEPS[params["step"]]
        scale = 1e-6 if params["tiny"] else 1.0
        m = np.zeros(shape) if step == 1 else rng.standard_normal(shape) * 0.1 * scale
        v = np.zeros(shape) if step == 1 else (rng.standard_normal(shape) * 0.1 * scale) ** 2
        return self._case("drawn", rng.standard_normal(shape),
                          rng.standard_normal(shape) * scale, m, v, step, _LRS[params["lr"]],
                          _BETAS[params["betas"]], _EPS[params["eps"]])

    def edge_cases(self) -> list:
        rng = np.random.default_rng(6)

        def normal(*shape, scale=1.0):
            return rng.standard_normal(shape) * scale

        zero = np.zeros(3)
        return [self._case("the first step (step=1, m = v = 0): bias correction matters most",
                           normal(3), normal(3), zero, zero, 1),
                self._case("a later step (step=10) with nonzero moments", normal(3), normal(3),
                           normal(3, scale=0.1), normal(3, scale=0.1) ** 2, 10),
                self._case("step=1000: the bias corrections are nearly 1", normal(3), normal(3),
                           normal(3, scale=0.1), normal(3, scale=0.1) ** 2, 1000),
                self._case("tiny gradients: where eps goes matters (v is about eps**2)",
                           normal(3), normal(3, scale=1e-8), zero, zero, 1),
                self._case("a large eps=0.1, step=2", normal(3), normal(3), normal(3, scale=0.1),
                           normal(3, scale=0.1) ** 2, 2, eps=0.1),
                self._case("other betas (0.5, 0.9) and lr=0.1, step=3", normal(3), normal(3),
                           normal(3, scale=0.1), normal(3, scale=0.1) ** 2, 3, lr=0.1,
                           betas=(0.5, 0.9)),
                self._case("a zero gradient at step 5: the moments decay, param still moves",
                           normal(3), zero, normal(3, scale=0.1), normal(3, scale=0.1) ** 2, 5),
                self._case("a 2-D parameter", normal(2, 3), normal(2, 3), normal(2, 3, scale=0.1),
                           normal(2, 3, scale=0.1) ** 2, 4)]

    def reference(self, case: Case):
        param, grad, m, v, step, lr, beta1, beta2, eps = case.args
        p = minidl.tensor(param, dtype=minidl.float64, requires_grad=True)
        p.grad = minidl.tensor(grad, dtype=minidl.float64)
        optimizer = minidl.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
        state = optimizer.state[p]          # as if `step - 1` steps had been taken
        state.update(step=step - 1, exp_avg=minidl.tensor(m, dtype=minidl.float64),
                     exp_avg_sq=minidl.tensor(v, dtype=minidl.float64))
        optimizer.step()
        return p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()

    def torch_reference(self, case: Case, torch):
        param, grad, m, v, step, lr, beta1, beta2, eps = case.args
        p = torch.tensor(param, requires_grad=True)
        p.grad = torch.tensor(grad)
        optimizer = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)
        optimizer.state[p] = {"step": torch.tensor(float(step - 1)),
                              "exp_avg": torch.tensor(m), "exp_avg_sq": torch.tensor(v)}
        optimizer.step()
        state = optimizer.state[p]
        return (p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy())

    def shape_note(self, case: Case, k: int) -> str:
        return "the shape of param"

    def hint(self, case: Case, mismatch, got) -> str | None:
        if mismatch.kind != "value":
            return None
        param, grad, m0, v0, step, lr, beta1, beta2, eps = case.args
        _, m, v = self.reference(case)
        g = np.asarray(got[mismatch.output])
        if mismatch.output == 1:
            if close(g, m / (1 - beta1 ** step), 1e-9, 1e-15):
                return ("m is bias-corrected: return the raw average m; divide by "
                        "1 - beta1**step only inside the update")
            if close(g, (1 - beta1) * m0 + beta1 * grad, 1e-9, 1e-15):
                return "beta1 and 1 - beta1 are swapped: m = beta1 * m + (1 - beta1) * grad"
            return None
        if mismatch.output == 2:
            if close(g, v / (1 - beta2 ** step), 1e-9, 1e-15):
                return ("v is bias-corrected: return the raw average v; divide by "
                        "1 - beta2**step only inside the update")
            if close(g, beta2 * v0 + (1 - beta2) * grad, 1e-9, 1e-15):
                return "v must average the squared gradient: (1 - beta2) * grad**2"
            if close(g, (1 - beta2) * v0 + beta2 * grad ** 2, 1e-9, 1e-15):
                return "beta2 and 1 - beta2 are swapped: v = beta2 * v + (1 - beta2) * grad**2"
            return None
        return self._param_hint(case, g, m, v)

    @staticmethod
    def _param_hint(case: Case, g, m, v) -> str | None:
        """m and v are right, param is not: which known wrong update gives it?"""
        param, grad, m0, v0, step, lr, beta1, beta2, eps = case.args

        def update(m, v, c1, c2, eps_inside=False):
            # param - lr * (m / c1) / (sqrt(v / c2) + eps), or with eps under the sqrt
            root = np.sqrt(v / c2 + eps) if eps_inside else np.sqrt(v / c2) + eps
            return param - lr * (m / c1) / root

        c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
        wrong = [(update(m, v, 1, 1), "no bias correction: divide m by 1 - beta1**step and v "
                                      "by 1 - beta2**step in the update"),
                 (update(m, v, c1, c2, eps_inside=True),
                  "eps is inside the square root: PyTorch adds it after, sqrt(v_hat) + eps"),
                 (update(m, v, c1, 1), "bias correction of m only: v_hat = v / (1 - beta2**step)"),
                 (update(m, v, 1, c2), "bias correction of v only: m_hat = m / (1 - beta1**step)"),
                 (update(m, v, 1 - beta1 ** (step + 1), 1 - beta2 ** (step + 1)),
                  "the bias corrections use step + 1: step is already this step's number"),
                 (update(m, v, 1 - beta1 ** (step - 1) or 1.0, 1 - beta2 ** (step - 1) or 1.0),
                  "the bias corrections use step - 1: step is already this step's number"),
                 (update(m0, v0, c1, c2), "the update used the moments of the previous step: "
                                          "update m and v first"),
                 (2 * param - update(m, v, c1, c2), "param moved uphill: subtract the update")]
        for candidate, text in wrong:
            if close(g, candidate, 1e-9, 1e-15):
                return text
        return None
