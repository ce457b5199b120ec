"""A profiler in the shape of torch.profiler: where a step's time goes, op by op.

    with minidl.profiler.profile() as prof:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    print(prof.table())                        # or prof.key_averages().table(...)

One row per op (Function class): forward calls, total and self time, the same for the
backward of its nodes, and the bytes its nodes saved for backward. "Self" is the time in
the op less the time in the ops it ran inside it (a backward is written with Tensor ops,
whose forwards are rows of their own). `record_function(name)` adds a row for any block;
the autograd engine's own bookkeeping is the row "autograd engine", each module's own
Python "nn.Module: Linear", each optimizer's "Optimizer.step#Adam.step".

It costs nothing when off: while a profile is active Function.apply is swapped for a
timing version (Module.__call__ and the optimizers' step and zero_grad too) and the engine
takes its timed path; outside one, nothing is touched.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .autograd import engine
from .autograd.function import Function

_active = None                       # the running profile, or None
_plain_apply = Function.__dict__["apply"].__func__
_plain_run = engine._run


@dataclass
class OpStats:
    name: str
    calls: int = 0
    total: float = 0.0               # seconds, forward (or the recorded block)
    self_time: float = 0.0
    backward_calls: int = 0
    backward_total: float = 0.0
    backward_self: float = 0.0
    saved_bytes: int = 0

    @property
    def self_all(self) -> float:
        return self.self_time + self.backward_self


class ProfilerActivity:
    """torch.profiler.ProfilerActivity: only the CPU is timed here."""
    CPU = "cpu"
    CUDA = "cuda"


class profile:                       # noqa: N801 (torch.profiler.profile)
    """Time every op run inside the block (see the module docstring). The arguments of
    torch.profiler.profile (activities, record_shapes, ...) are accepted and ignored."""

    def __init__(self, *args, **kwargs):
        self.rows: dict[str, OpStats] = {}
        self.wall = 0.0
        self._stack: list = []       # per open call: time spent in its children so far

    def __enter__(self) -> "profile":
        global _active
        if _active is not None:
            raise RuntimeError("profiler: a profile is already running (they do not nest)")
        _active = self
        Function.apply = classmethod(_timed_apply)
        engine.set_backward_timer(_timed_backward)
        engine._run = _timed_run
        self._patched = _patch_python_layers()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        global _active
        self.wall += time.perf_counter() - self._start
        Function.apply = classmethod(_plain_apply)
        engine.set_backward_timer(None)
        engine._run = _plain_run
        for owner, attr, original in self._patched:
            setattr(owner, attr, original)
        _active = None

    def step(self) -> None:
        """Accepted for torch.profiler's schedule API; nothing to do here."""

    def _row(self, name: str) -> OpStats:
        row = self.rows.get(name)
        if row is None:
            row = self.rows[name] = OpStats(name)
        return row

    def _timed(self, fn, *args):
        """(fn(*args), total seconds, self seconds)."""
        self._stack.append(0.0)
        start = time.perf_counter()
        try:
            out = fn(*args)
        finally:
            elapsed = time.perf_counter() - start
            children = self._stack.pop()
            if self._stack:
                self._stack[-1] += elapsed
        return out, elapsed, elapsed - children

    def key_averages(self) -> "profile":
        """torch.profiler's name for the per-op summary: this profile, whose table() it is."""
        return self

    def table(self, sort_by: str = "self_cpu_time_total", row_limit: int = -1) -> str:
        """The rows as a text table, by self time (forward + backward) unless sort_by is
        'cpu_time_total' / 'calls'."""
        key = {"cpu_time_total": lambda r: r.total + r.backward_total,
               "calls": lambda r: r.calls + r.backward_calls}.get(sort_by, lambda r: r.self_all)
        rows = sorted(self.rows.values(), key=key, reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        accounted = sum(r.self_all for r in self.rows.values())
        head = (f"{'op':<36}{'calls':>7}{'total':>11}{'self':>11}{'bwd calls':>11}"
                f"{'bwd total':>11}{'bwd self':>11}{'self %':>8}{'saved':>10}")
        lines = [head, "-" * len(head)]
        for r in rows:
            share = 100 * r.self_all / self.wall if self.wall else 0.0
            lines.append(f"{r.name[:35]:<36}{r.calls:>7}{_ms(r.total):>11}"
                         f"{_ms(r.self_time):>11}{r.backward_calls:>11}{_ms(r.backward_total):>11}"
                         f"{_ms(r.backward_self):>11}{share:>7.1f}%{_bytes(r.saved_bytes):>10}")
        lines.append("-" * len(head))
        lines.append(f"self time of the rows: {_ms(accounted).strip()} of "
                     f"{_ms(self.wall).strip()} in the block "
                     f"({100 * accounted / max(self.wall, 1e-12):.0f}%)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


class record_function:               # noqa: N801 (torch.profiler.record_function)
    """A labelled row for a block of code (`with record_function("optimizer.step"):`);
    nothing happens outside a profile."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self._prof = _active
        if self._prof is not None:
            self._prof._stack.append(0.0)
            self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        prof = self._prof
        if prof is None:
            return
        elapsed = time.perf_counter() - self._start
        children = prof._stack.pop()
        if prof._stack:
            prof._stack[-1] += elapsed
        row = prof._row(self.name)
        row.calls += 1
        row.total += elapsed
        row.self_time += elapsed - children


def _timed_apply(cls, *args, **kwargs):
    prof = _active
    out, total, own = prof._timed(lambda: _plain_apply(cls, *args, **kwargs))
    row = prof._row(cls.__name__)
    row.calls += 1
    row.total += total
    row.self_time += own
    first = out[0] if type(out) is tuple and out else out
    node = getattr(first, "grad_fn", None)
    if type(node) is cls and not getattr(node, "_profiled", False):
        node._profiled = True        # count a multi-output node's saved arrays once
        row.saved_bytes += sum(a.nbytes for a in node._saved_data if a is not None)
    return out


def _timed(label, fn):
    """fn, recording each call as a row named label(self)."""
    def timed(self, *args, **kwargs):
        with record_function(label(self)):
            return fn(self, *args, **kwargs)
    return timed


def _patch_python_layers() -> list:
    """Time the Python around the ops too, as torch.profiler's rows for modules and
    optimizers do: each Module call ("nn.Module: Linear", its self time is the module's
    own Python) and each optimizer's step and zero_grad. Returns what to put back."""
    from .nn.module import Module
    from .optim.optimizer import Optimizer
    patched = [(Module, "__call__", Module.__dict__["__call__"])]
    Module.__call__ = _timed(lambda m: f"nn.Module: {type(m).__name__}", Module.__call__)
    classes, todo = [], [Optimizer]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    for cls in classes:
        for attr in ("step", "zero_grad"):
            if attr in cls.__dict__:
                patched.append((cls, attr, cls.__dict__[attr]))
                setattr(cls, attr, _timed(lambda o, a=attr: f"Optimizer.{a}#"
                                          f"{type(o).__name__}.{a}", cls.__dict__[attr]))
    return patched


def _timed_run(*args, **kwargs):
    """The engine's whole backward pass: its self time is its own bookkeeping."""
    with record_function("autograd engine"):
        return _plain_run(*args, **kwargs)


def _timed_backward(node, grads, run):
    """engine's hook: run(node, grads) timed as the backward of node's op."""
    prof = _active
    if prof is None:
        return run(node, grads)
    out, total, own = prof._timed(run, node, grads)
    row = prof._row(type(node).__name__)
    row.backward_calls += 1
    row.backward_total += total
    row.backward_self += own
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B" if n else "-"
