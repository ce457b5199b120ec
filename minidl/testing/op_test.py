"""check_op: the whole test of one op in a few lines (Chainer's OpTest, as a function).

Give it a minidl function, the input shapes (or arrays), and what to compare against; it
builds float64 inputs from a seeded generator and runs, in order:

1. forward against a NumPy reference formula (`reference=`),
2. forward values, dtypes and input gradients against PyTorch (`torch_fn=`),
3. `gradcheck` (first derivatives against central differences),
4. `gradgradcheck` (second derivatives, through a `create_graph=True` backward).

Example::

    import numpy as np
    import torch
    from minidl.testing.op_test import check_op

    def test_logsumexp():
        check_op(lambda x: x.logsumexp(-1), [(3, 4)],
                 reference=lambda x: np.log(np.exp(x).sum(-1)),
                 torch_fn=lambda x: x.logsumexp(-1))

Since minidl mirrors PyTorch's API, a function that only calls Tensor methods and
operators (`lambda a, b: (a * b).sum(1)`) can serve as its own `torch_fn`.
PyTorch is imported only when `torch_fn` is given.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .. import backend
from ..autograd.engine import grad as _grad
from ..autograd.gradcheck import gradcheck as _gradcheck, gradgradcheck as _gradgradcheck
from ..tensor import Tensor
from .compare import assert_close

_FAST_MODE_NUMEL = 100    # above this many input elements, gradchecks project (fast_mode)



def _prefixed(prefix: str):
    """assert_close's msg that puts `prefix` before PyTorch's message."""
    return lambda text: prefix + text

def _per_input(value, n: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"check_op: expected {n} per-input values, got {len(value)}")
        return list(value)
    return [value] * n


def _is_shape(spec) -> bool:
    return isinstance(spec, (tuple, list)) and all(
        isinstance(s, (int, np.integer)) for s in spec)


def make_inputs(specs: Sequence, low=-2.0, high=2.0, min_abs=0.0, seed: int = 0) -> list:
    """Tensors for `specs`: a shape gives float64 values uniform in [low, high] whose
    magnitude is at least `min_abs` (to stay away from kinks), requiring grad; an array
    becomes a Tensor (requiring grad when floating); a Tensor is used as it is."""
    rng = np.random.default_rng(seed)
    lows, highs = _per_input(low, len(specs)), _per_input(high, len(specs))
    mins = _per_input(min_abs, len(specs))
    out = []
    for spec, lo, hi, m in zip(specs, lows, highs, mins):
        if isinstance(spec, Tensor):
            out.append(spec)
            continue
        if _is_shape(spec):
            arr = rng.uniform(lo, hi, size=tuple(spec))
            if m:
                # map |x| from [0, M] onto [m, M], keeping the sign
                top = max(abs(lo), abs(hi))
                arr = np.where(arr < 0, -1.0, 1.0) * (m + np.abs(arr) * (1 - m / top))
                arr = np.clip(arr, lo, hi)
        else:
            arr = np.asarray(spec)
        out.append(Tensor(arr, requires_grad=arr.dtype.kind == "f"))
    return out


def _tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable(fn: Callable) -> Callable:
    """fn restricted to its floating outputs (gradchecks differentiate those only)."""
    def wrapped(*xs):
        outs = tuple(o for o in _tuple(fn(*xs)) if o.dtype.kind == "f")
        return outs[0] if len(outs) == 1 else outs
    return wrapped


def _check_outputs(outs: tuple) -> None:
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise AssertionError(f"check_op: output {i} is a {type(o).__name__}, not a Tensor")
        if not isinstance(o.array, np.ndarray):
            raise AssertionError(f"check_op: output {i} holds a {type(o.array).__name__}, not "
                                 "an ndarray (a 0-d result must stay a 0-d array)")


def _torch_parity(fn, torch_fn, xs, outs, rtol, atol, seed) -> None:
    import torch

    txs = [torch.from_numpy(x.array.copy()).requires_grad_(x.requires_grad) for x in xs]
    touts = _tuple(torch_fn(*txs))
    if len(touts) != len(outs):
        raise AssertionError(f"check_op: minidl gave {len(outs)} outputs, torch {len(touts)}")
    for i, (o, t) in enumerate(zip(outs, touts)):
        torch_dtype = str(t.dtype).replace("torch.", "")
        if o.dtype.name != torch_dtype:
            raise AssertionError(f"check_op: output {i} has dtype {o.dtype.name}, torch gives "
                                 f"{torch_dtype}")
        assert_close(o, t, rtol=rtol, atol=atol, msg=_prefixed(f"check_op: output {i} vs torch: "))

    # input gradients for one random gradient per floating output, same in both libraries
    rng = np.random.default_rng(seed + 7)
    pairs = [(o, t) for o, t in zip(outs, touts) if o.requires_grad]
    wrt = [i for i, x in enumerate(xs) if x.requires_grad]
    if not pairs or not wrt:
        return
    gs = [rng.standard_normal(o.shape) for o, _ in pairs]
    ours = _grad([o for o, _ in pairs], [xs[i] for i in wrt],
                 [Tensor(g.astype(o.dtype)) for g, (o, _) in zip(gs, pairs)], allow_unused=True)
    theirs = torch.autograd.grad([t for _, t in pairs], [txs[i] for i in wrt],
                                 [torch.from_numpy(g).to(t.dtype) for g, (_, t) in zip(gs, pairs)],
                                 allow_unused=True)
    for i, a, b in zip(wrt, ours, theirs):
        a = np.zeros(xs[i].shape) if a is None else a
        b = np.zeros(xs[i].shape) if b is None else b
        assert_close(a, b, rtol=rtol, atol=atol,
                     msg=_prefixed(f"check_op: gradient of input {i} vs torch: "))


def check_op(fn: Callable, inputs: Sequence, *, reference: Callable | None = None,
             torch_fn: Callable | None = None, low=-2.0, high=2.0, min_abs=0.0, seed: int = 0,
             gradcheck: bool = True, gradgradcheck: bool = True, fast_mode: bool | None = None,
             rtol: float = 1e-7, atol: float = 1e-9, grad_atol: float = 1e-5,
             grad_rtol: float = 1e-3) -> tuple:
    """Check one op: forward vs NumPy and PyTorch, gradients vs PyTorch and vs finite
    differences, first and second order.

    Parameters
    ----------
    fn : callable
        Takes Tensors and returns a Tensor or a tuple of Tensors (integer outputs such as
        indices are compared, never differentiated).
    inputs : sequence
        One entry per argument of `fn`: a shape (float64 values drawn uniformly from
        [low, high], requiring grad), a NumPy array (floats require grad; ints and bools,
        e.g. indices and masks, do not) or a ready Tensor.
    reference : callable, optional
        NumPy formula taking the input arrays; its result(s) must match the forward.
    torch_fn : callable, optional
        The same computation in PyTorch, called with torch tensors holding identical
        values; outputs, dtypes and input gradients must match.
    low, high, min_abs : float or per-input sequence
        Value range of generated inputs; `min_abs` keeps values away from 0 (kinks, poles).
    gradcheck, gradgradcheck : bool
        Whether to run the finite-difference checks.
    fast_mode : bool, optional
        Random-projection gradchecks; by default used above 100 input elements.
    rtol, atol : float
        Tolerances of the forward and parity comparisons (float64).
    grad_atol, grad_rtol : float
        Tolerances of the finite-difference checks.

    Returns
    -------
    tuple
        The minidl inputs and outputs, `(inputs, outputs)`, for further assertions.

    See Also
    --------
    torch.autograd.gradcheck, chainer.testing.op_utils.OpTest
    """
    xs = make_inputs(inputs, low, high, min_abs, seed)
    outs = _tuple(fn(*xs))
    _check_outputs(outs)
    if reference is not None:
        # the reference is NumPy code: it gets host copies, whatever device the inputs are on
        expected = _tuple(reference(*[backend.to_numpy(x.array).copy() for x in xs]))
        if len(expected) != len(outs):
            raise AssertionError(f"check_op: minidl gave {len(outs)} outputs, the reference "
                                 f"{len(expected)}")
        for i, (o, e) in enumerate(zip(outs, expected)):
            assert_close(o, e, rtol=rtol, atol=atol,
                         msg=_prefixed(f"check_op: output {i} vs reference: "))
    if torch_fn is not None:
        _torch_parity(fn, torch_fn, xs, outs, rtol, atol, seed)
    diff = [x for x in xs if x.requires_grad]
    if diff and any(o.requires_grad for o in outs):
        if fast_mode is None:
            fast_mode = sum(x.array.size for x in diff) > _FAST_MODE_NUMEL
        f = _differentiable(fn)
        kw = dict(atol=grad_atol, rtol=grad_rtol, fast_mode=fast_mode, seed=seed)
        if gradcheck:
            _gradcheck(f, tuple(xs), **kw)
        if gradgradcheck:
            _gradgradcheck(f, tuple(xs), **kw)
    return xs, outs
