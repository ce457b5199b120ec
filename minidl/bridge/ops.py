"""check_op: forward and gradient parity of one op (yours or minidl's) against PyTorch."""
from __future__ import annotations

import numpy as np

from .convert import _torch


def check_op(minidl_fn, torch_fn, *shapes_or_tensors, hypothesis: bool = False,
             max_examples: int = 20, rtol: float = 1e-7, atol: float = 1e-9,
             seed: int = 0) -> bool:
    """Check `minidl_fn(*xs)` against `torch_fn(*xs)` on float64 inputs: values, and the
    gradient of every input, through a random cotangent. Each argument is a shape (the
    input is drawn uniformly from [-2, 2]) or a tensor/array (used as given).

    With `hypothesis=True` the shapes given are ignored for their sizes: Hypothesis draws
    shapes of the same number of dimensions (sides 1 to 5), `max_examples` of them, and
    shrinks a failure to a small case. Raises AssertionError naming the output or input,
    the worst element and both values; returns True when everything agrees.
    """
    if hypothesis:
        from hypothesis import given, settings, strategies as st
        ndims = [len(s) for s in shapes_or_tensors]

        @settings(max_examples=max_examples, deadline=None)
        @given(st.tuples(*[st.lists(st.integers(1, 5), min_size=n, max_size=n)
                           for n in ndims]), st.integers(0, 2 ** 16))
        def run(shapes, draw_seed):
            _check_once(minidl_fn, torch_fn, [tuple(s) for s in shapes], rtol, atol, draw_seed)
        run()
        return True
    _check_once(minidl_fn, torch_fn, list(shapes_or_tensors), rtol, atol, seed)
    return True


def _check_once(minidl_fn, torch_fn, specs, rtol, atol, seed) -> None:
    import minidl
    torch = _torch()
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        if isinstance(spec, (tuple, list)):
            arrays.append(rng.uniform(-2, 2, tuple(spec)))
        elif hasattr(spec, "array"):
            arrays.append(spec.detach().numpy().copy())
        elif hasattr(spec, "detach"):
            arrays.append(spec.detach().cpu().numpy().copy())
        else:
            arrays.append(np.asarray(spec).copy())
    xs_m = [minidl.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    xs_t = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out_m, out_t = minidl_fn(*xs_m), torch_fn(*xs_t)
    outs_m = out_m if isinstance(out_m, tuple) else (out_m,)
    outs_t = out_t if isinstance(out_t, tuple) else (out_t,)
    if len(outs_m) != len(outs_t):
        raise AssertionError(f"check_op: {len(outs_m)} outputs vs torch's {len(outs_t)}")
    shapes = [tuple(a.shape) for a in arrays]
    total_m, total_t = 0, 0
    for i, (a, b) in enumerate(zip(outs_m, outs_t)):
        _close(a.detach().numpy(), b.detach().numpy(), f"output {i}", shapes, rtol, atol)
        if a.requires_grad and b.requires_grad:
            v = rng.standard_normal(tuple(b.shape))
            total_m = total_m + (a * minidl.tensor(v)).sum()
            total_t = total_t + (b * torch.tensor(v)).sum()
    if not isinstance(total_t, int):
        total_m.backward()
        total_t.backward()
        for i, (xm, xt) in enumerate(zip(xs_m, xs_t)):
            if xt.grad is None and xm.grad is None:
                continue
            if (xt.grad is None) != (xm.grad is None):
                raise AssertionError(f"check_op: input {i} gets a gradient in only one "
                                     f"library (inputs {shapes})")
            _close(xm.grad.numpy(), xt.grad.numpy(), f"gradient of input {i}", shapes,
                   rtol, atol)


def _close(a, b, what, shapes, rtol, atol) -> None:
    if a.shape != b.shape:
        raise AssertionError(f"check_op: {what} has shape {list(a.shape)}, torch's "
                             f"{list(b.shape)} (inputs {shapes})")
    a, b = a.astype(np.float64), b.astype(np.float64)
    ok = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        diff = np.where(ok, -1.0, np.abs(a - b))
        k = np.unravel_index(int(np.argmax(diff)), a.shape)
        raise AssertionError(f"check_op: {what} differs from torch's at index "
                             f"{tuple(int(i) for i in k)}: {float(a[k])!r} vs "
                             f"{float(b[k])!r} ({int((~ok).sum())} of {ok.size} elements; "
                             f"inputs {shapes})")
