"""gradcheck and gradgradcheck: compare backward against central finite differences.

Signatures and defaults are PyTorch's. On a mismatch the report names the output and
input, the worst element, and the numerical and analytical values there.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..backend import get_array_module, to_numpy
from .. import tensor as _tensor
from .engine import grad as _grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs) -> tuple:
    return _as_tuple(func(*inputs))


def _diff_inputs(inputs) -> list:
    Tensor = _tensor.Tensor
    idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in idx:
        if inputs[i].dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} requires grad and is {inputs[i].dtype}, not "
                          "float64; finite differences in low precision are unreliable",
                          stacklevel=3)
    if not idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True")
    return idx


def _flat_outputs(func, inputs) -> list:
    """The outputs of func as flat float64 host arrays (grad mode stays on: gradgradcheck's
    function differentiates inside)."""
    outs = _outputs(func, inputs)
    return [to_numpy(o.array).astype(np.float64).ravel() for o in outs]


def _numerical_directional(func, inputs, i, direction, eps) -> list:
    """(f(x_i + eps*u) - f(x_i - eps*u)) / (2 eps) for each output, flattened."""
    x = inputs[i]
    xp = get_array_module(x.array)
    orig = x.array.copy()
    step = xp.asarray(direction.reshape(x.shape) * eps, dtype=x.dtype)
    try:
        x.array[...] = orig + step
        plus = _flat_outputs(func, inputs)
        x.array[...] = orig - step
        minus = _flat_outputs(func, inputs)
    finally:
        x.array[...] = orig
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _numerical_jacobians(func, inputs, i, n_outputs_sizes, eps) -> list:
    """Per output o, the (out_size, in_size) Jacobian w.r.t. input i by central differences."""
    n = inputs[i].array.size
    jac = [np.zeros((size, n)) for size in n_outputs_sizes]
    for j in range(n):
        unit = np.zeros(n)
        unit[j] = 1.0
        cols = _numerical_directional(func, inputs, i, unit, eps)
        for o, col in enumerate(cols):
            jac[o][:, j] = col
    return jac


def _vjp(func, inputs, diff_idx, out_index, v_flat) -> list:
    """Analytical v^T J for output `out_index`: one flattened gradient per diff input."""
    Tensor = _tensor.Tensor
    outs = _outputs(func, inputs)
    out = outs[out_index]
    result = [np.zeros(inputs[i].array.size) for i in diff_idx]
    if not isinstance(out, Tensor) or not out.requires_grad:
        return result
    xp = get_array_module(out.array)
    v = Tensor._wrap(xp.asarray(v_flat.reshape(out.shape), dtype=out.dtype), False, None, 0)
    grads = _grad([out], [inputs[i] for i in diff_idx], [v], allow_unused=True)
    for k, (i, g) in enumerate(zip(diff_idx, grads)):
        if g is not None:
            if g.shape != inputs[i].shape:
                raise GradcheckError(f"gradcheck: gradient for input {i} has shape "
                                     f"{tuple(g.shape)}, expected {tuple(inputs[i].shape)}")
            result[k] = to_numpy(g.array).astype(np.float64).ravel()
    return result


def _report(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _compare(num, ana, atol, rtol, where: str, in_shape, out_shape, raise_exception) -> bool:
    num, ana = np.asarray(num), np.asarray(ana)
    err = np.abs(num - ana) - (atol + rtol * np.abs(num))
    bad = ~(err <= 0)
    if not bad.any():
        return True
    k = int(np.nanargmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -np.inf)))
    pos = np.unravel_index(k, num.shape) if num.ndim else ()
    detail = ""
    if num.ndim == 2:
        out_el = np.unravel_index(pos[0], out_shape) if out_shape else ()
        in_el = np.unravel_index(pos[1], in_shape) if in_shape else ()
        detail = f" at output element {tuple(int(v) for v in out_el)}, " \
                 f"input element {tuple(int(v) for v in in_el)}"
    msg = (f"Jacobian mismatch for {where}{detail}: numerical {float(num[pos]):.10g} vs "
           f"analytical {float(ana[pos]):.10g} (|difference| {abs(float(num[pos] - ana[pos])):.3g}"
           f" > atol + rtol*|numerical| = {atol + rtol * abs(float(num[pos])):.3g}); "
           f"{int(bad.sum())} of {bad.size} entries differ")
    return _report(msg, raise_exception)


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, nondet_tol: float = 0.0,
              seed: int = 0, **_unused) -> bool:
    """Check the gradients of `func` at `inputs` against central finite differences.

    Parameters
    ----------
    func : callable taking Tensors and returning a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple; those with requires_grad=True (float64) are checked.
    fast_mode : compare random projections v^T J u instead of whole Jacobians (two
        evaluations and one backward per input and output, whatever their sizes).

    Returns
    -------
    True, or False when `raise_exception=False` and a check fails (else GradcheckError).

    See Also
    --------
    torch.autograd.gradcheck
    """
    inputs = _as_tuple(inputs)
    diff_idx = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    sizes = [o.array.size for o in outs]
    shapes = [tuple(o.shape) for o in outs]
    rng = np.random.default_rng(seed)
    for k, i in enumerate(diff_idx):
        in_shape = tuple(inputs[i].shape)
        if fast_mode:
            u = rng.standard_normal(inputs[i].array.size)
            u /= max(np.linalg.norm(u), 1e-12)
            num_dirs = _numerical_directional(func, inputs, i, u, eps)
            for o, size in enumerate(sizes):
                v = rng.standard_normal(size)
                numerical = float(v @ num_dirs[o])
                analytical = float(_vjp(func, inputs, diff_idx, o, v)[k] @ u)
                where = f"output {o} with respect to input {i} (random projection v^T J u)"
                if not _compare(numerical, analytical, atol, rtol, where, in_shape, shapes[o],
                                raise_exception):
                    return False
            continue
        numerical = _numerical_jacobians(func, inputs, i, sizes, eps)
        for o, size in enumerate(sizes):
            analytical = np.zeros((size, inputs[i].array.size))
            for row in range(size):
                unit = np.zeros(size)
                unit[row] = 1.0
                analytical[row] = _vjp(func, inputs, diff_idx, o, unit)[k]
            where = f"output {o} with respect to input {i}"
            if not _compare(numerical[o], analytical, atol, rtol, where, in_shape, shapes[o],
                            raise_exception):
                return False
    if nondet_tol >= 0 and outs:   # backward must be deterministic: run one vjp twice
        v = rng.standard_normal(sizes[0])
        first, second = (_vjp(func, inputs, diff_idx, 0, v) for _ in range(2))
        for a, b in zip(first, second):
            if np.max(np.abs(a - b), initial=0.0) > nondet_tol:
                return _report("Backward is not reentrant: two backward passes with the same "
                               f"gradient differ by more than nondet_tol={nondet_tol}",
                               raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, fast_mode: bool = False,
                  nondet_tol: float = 0.0, seed: int = 0, **_unused) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> v^T J(inputs).

    `grad_outputs` defaults to random float64 tensors (requiring grad) shaped like the
    differentiable outputs (integer outputs such as indices have none), as in
    torch.autograd.gradgradcheck.
    """
    Tensor = _tensor.Tensor
    inputs = _as_tuple(inputs)
    diff_idx = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    diff_outs = [k for k, o in enumerate(outs)
                 if isinstance(o, Tensor) and o.requires_grad and o.dtype.kind in "fc"]
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        grad_outputs = tuple(
            Tensor(rng.standard_normal(outs[k].shape).astype(outs[k].dtype),
                   requires_grad=True) for k in diff_outs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(diff_outs):
        raise ValueError(f"gradgradcheck: expected {len(diff_outs)} grad_outputs (one per "
                         f"differentiable output), got {len(grad_outputs)}")
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = _outputs(func, xs)
        grads = _grad([ys[k] for k in diff_outs], [xs[i] for i in diff_idx], list(vs),
                      create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0 for i, g in zip(diff_idx, grads))

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode,
                     nondet_tol=nondet_tol, seed=seed)
