"""compare_training: N optimizer steps on a minidl model and its PyTorch twin, from the same
weights and batches; the two loss curves side by side and the step where they part."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import TOLERANCES, _as_pair, _loss_fn
from .convert import _torch, copy_weights as _copy_weights


@dataclass
class TrainingReport:
    losses_minidl: list
    losses_torch: list
    tolerance: float
    first_divergence: int | None        # the first step whose losses differ past tolerance

    @property
    def ok(self) -> bool:
        return self.first_divergence is None

    @property
    def max_rel(self) -> float:
        return max((abs(a - b) / max(abs(b), 1e-30)
                    for a, b in zip(self.losses_minidl, self.losses_torch)), default=0.0)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "tolerance": self.tolerance, "max_rel": self.max_rel,
                "first_divergence": self.first_divergence,
                "losses": {"minidl": self.losses_minidl, "torch": self.losses_torch}}

    def __str__(self) -> str:
        lines = [f"{'step':>5} {'minidl':>16} {'torch':>16} {'rel diff':>10}"]
        for i, (a, b) in enumerate(zip(self.losses_minidl, self.losses_torch)):
            mark = "  <- parts here" if i == self.first_divergence else ""
            lines.append(f"{i:>5} {a:>16.10g} {b:>16.10g} "
                         f"{abs(a - b) / max(abs(b), 1e-30):>10.2e}{mark}")
        lines.append("OK" if self.ok else f"DIVERGED at step {self.first_divergence}")
        return "\n".join(lines)

    def plot(self, path) -> None:
        """Both loss curves and their relative difference, as a PNG (needs matplotlib)."""
        # a Figure of its own, no pyplot: the caller's backend (Jupyter's inline one) and
        # figures stay as they are
        from matplotlib.figure import Figure
        fig = Figure(figsize=(6, 5))
        top, bottom = fig.subplots(2, 1, sharex=True)
        top.plot(self.losses_torch, label="PyTorch", lw=2)
        top.plot(self.losses_minidl, "--", label="minidl", lw=1.5)
        top.set_ylabel("loss")
        top.legend()
        rel = [abs(a - b) / max(abs(b), 1e-30)
               for a, b in zip(self.losses_minidl, self.losses_torch)]
        bottom.semilogy(np.maximum(rel, 1e-17))
        bottom.axhline(self.tolerance, color="r", lw=0.8, label="tolerance")
        bottom.set_xlabel("step")
        bottom.set_ylabel("relative difference")
        bottom.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)


def compare_training(minidl_model, torch_model, batches, steps: int | None = None,
                     optimizer: str = "adam", lr: float = 1e-3, loss=None, dtype=None,
                     tolerance: float | None = None, **optimizer_options) -> TrainingReport:
    """Train both models for `steps` steps on the same batches and compare the losses.

    `batches` is a list of (inputs, target) pairs (NumPy arrays or tensors of either
    library), cycled if shorter than `steps`; `optimizer` names a class in both libraries'
    `optim` ("adam", "sgd", "adamw", ...), built with `lr` and `optimizer_options`.
    The torch model starts from the minidl model's weights.
    """
    import minidl
    torch = _torch()
    if dtype is not None:
        dtype = np.dtype(str(dtype).replace("torch.", "").replace("minidl.", ""))
        minidl_model.to(dtype)
        torch_model.to(getattr(torch, dtype.name))
    _copy_weights(minidl_model, torch_model)
    first = next(iter(minidl_model.parameters()))
    dtype = dtype or np.dtype(first.array.dtype)
    tol = (TOLERANCES.get(dtype.name, 1e-4) if tolerance is None else tolerance)
    steps = len(batches) if steps is None else steps
    names = {n.lower(): n for n in dir(torch.optim)}
    if optimizer.lower() not in names:
        raise ValueError(f"compare_training: unknown optimizer {optimizer!r}")
    cls = names[optimizer.lower()]
    opts = [getattr(minidl.optim, cls)(minidl_model.parameters(), lr=lr, **optimizer_options),
            getattr(torch.optim, cls)(torch_model.parameters(), lr=lr, **optimizer_options)]
    curves = ([], [])
    for step in range(steps):
        x, y = batches[step % len(batches)]
        xs, ys = _as_pair(x, dtype), _as_pair(y, None)
        for k, (lib, model) in enumerate(((minidl, minidl_model), (torch, torch_model))):
            opts[k].zero_grad()
            value = _loss_fn(loss, y, lib)(model(xs[k]), ys[k])
            value.backward()
            opts[k].step()
            curves[k].append(float(value.item()))
    first_bad = next((i for i, (a, b) in enumerate(zip(*curves))
                      if not abs(a - b) <= tol * max(abs(b), 1e-30)), None)
    return TrainingReport(curves[0], curves[1], tol, first_bad)
