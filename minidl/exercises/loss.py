"""The softmax cross-entropy exercise: the loss and its gradient, stable for large logits.

The expected answers are `minidl.nn.functional.cross_entropy` and the gradient minidl's
autograd gives through it (and PyTorch's, when installed).
"""
from __future__ import annotations

import numpy as np

import minidl
import minidl.nn.functional as F
from .checks import Case, close, describe_args
from .grading import Exercise


class SoftmaxCrossEntropyExercise(Exercise):
    name = "softmax_cross_entropy"
    function = "softmax_cross_entropy"
    arguments = ("logits", "target")
    outputs = ("loss", "grad_logits")
    summary = "the cross-entropy loss of softmax(logits) and its gradient, stably"
    reference_name = "minidl.nn.functional.cross_entropy and its autograd"
    lesson = """
A classifier's last layer gives one score (logit) per class; softmax turns a row of scores
into probabilities and cross-entropy charges -log of the probability of the right class.
Write the loss, averaged over the batch, and its gradient with respect to the logits.

Receives  logits  float64 array (N, C): N samples, C classes
          target  int64 array (N,), each in range(C)
Returns   (loss, grad_logits): loss a float (or a 0-d float64 array), the mean over the
          N samples; grad_logits a float64 array (N, C), d loss / d logits

Maths     p[i] = softmax(logits[i]) = exp(logits[i]) / sum(exp(logits[i]))
          loss = mean over i of -log p[i, target[i]]
               = mean over i of (logsumexp(logits[i]) - logits[i, target[i]])
          grad_logits[i] = (p[i] - onehot(target[i])) / N

Hints     - exp(1000) overflows to inf. softmax(z) = softmax(z - max(z)), and
            logsumexp(z) = m + log(sum(exp(z - m))) with m = max(z): subtract each row's
            max first (keepdims=True).
          - The mean divides the loss by N, and so every gradient too.
"""
    docstring = """
    Mean softmax cross-entropy of logits against class indices, and its gradient.

    Parameters
    ----------
    logits : np.ndarray, float64, shape (N, C)
    target : np.ndarray, int64, shape (N,), values in range(C)

    Returns
    -------
    (loss, grad_logits) : a float (the mean over N) and a float64 array (N, C)"""

    def _case(self, title, logits, target) -> Case:
        args = (np.asarray(logits, dtype=np.float64), np.asarray(target, dtype=np.int64))
        label = describe_args(self.arguments, args)
        if abs(args[0]).max(initial=0) > 100:
            label += f", logits up to {abs(args[0]).max():g} in size"
        return Case(title, args, label)

    def draw(self, pick) -> dict:
        return {"N": pick(1, 5), "C": pick(1, 6), "scale": pick(0, 3), "seed": pick(0, 2 ** 16)}

    def build(self, params: dict) -> Case:
        rng = np.random.default_rng(params["seed"])
        N, C = params["N"], params["C"]
        scale = (1.0, 0.1, 5.0, 1000.0)[params["scale"]]
        return self._case("drawn", rng.standard_normal((N, C)) * scale,
                          rng.integers(0, C, N))

    def edge_cases(self) -> list:
        rng = np.random.default_rng(5)
        return [self._case("a small batch", rng.standard_normal((4, 3)), [0, 2, 1, 2]),
                self._case("one sample", rng.standard_normal((1, 5)), [3]),
                self._case("large logits: exp overflows unless the row max is subtracted",
                           [[1000.0, 0.0, -5.0], [800.0, 801.0, 799.0]], [0, 2]),
                self._case("very negative logits: exp underflows to 0",
                           [[-1000.0, -1001.0, -1002.0], [-750.0, -800.0, -760.0]], [1, 0]),
                self._case("equal logits: the loss is log(C)", np.zeros((3, 4)), [0, 1, 3]),
                self._case("targets at the first and last class", rng.standard_normal((3, 4)),
                           [3, 0, 3]),
                self._case("a larger batch: the mean divides by N = 8",
                           rng.standard_normal((8, 2)) * 3, [0, 1, 1, 0, 1, 1, 0, 0])]

    def reference(self, case: Case):
        logits, target = case.args
        z = minidl.tensor(logits, dtype=minidl.float64, requires_grad=True)
        loss = F.cross_entropy(z, minidl.tensor(target))
        loss.backward()
        return np.asarray(loss.item()), z.grad.numpy()

    def torch_reference(self, case: Case, torch):
        logits, target = case.args
        z = torch.tensor(logits, requires_grad=True)
        loss = torch.nn.functional.cross_entropy(z, torch.from_numpy(target))
        loss.backward()
        return np.asarray(loss.item()), z.grad.numpy()

    def shape_note(self, case: Case, k: int) -> str:
        return "a single number, the mean over the batch" if k == 0 else "the shape of logits"

    def hint(self, case: Case, mismatch, got) -> str | None:
        logits, target = case.args
        N, C = logits.shape
        k = mismatch.output
        if k < 0:
            return None
        loss, grad = self.reference(case)
        g = np.asarray(got[k])
        if mismatch.kind == "shape":
            if k == 0 and g.shape == (N,):
                return "loss is one value per sample: return their mean over the batch"
            return None
        if mismatch.kind != "value":
            return None
        what = ("loss", "grad_logits")[k]
        if not np.all(np.isfinite(g)):
            return (f"{what} is inf/nan for large logits: subtract the row max before exp "
                    "(softmax(z) = softmax(z - max z))")
        want = (loss, grad)[k]
        if N > 1 and close(g, want * N):
            return (f"{what} is N = {N} times too large: sum instead of mean; the loss is the "
                    "mean over the batch" + (", so divide the gradient by N" if k else ""))
        if N > 1 and close(g, want / N):
            return f"{what} is divided by N = {N} twice"
        if close(g, -want):
            return (f"{what} has the wrong sign: the loss is -log p[target], the gradient "
                    "p - onehot")
        if k == 1:
            onehot = np.eye(C)[target]
            if close(g, grad + onehot / N):
                return ("grad_logits equals softmax(logits) / N: subtract 1 at each row's "
                        "target class, (p - onehot(target)) / N")
        return None
