"""Per-op autograd overhead on small tensors, minidl against PyTorch in one process.

    python benchmarks/overhead.py [--ops 1000] [--repeats 15]     # the scalar-operand chain
    python benchmarks/overhead.py --suite [--threads 1 2]         # the small-tensor workloads

The chain (`y * 1.0001`, `y + 0.5`, one leaf) prints microseconds per op. `--suite` times
what users write on small tensors, forward and backward separately, each a median of
interleaved runs (minidl, PyTorch, minidl, ...) at the same thread count:

- tensor chain: y = tanh(y * w + b) 333 times on shape (10,), w and b leaves with grad;
- matmul chain: h = tanh(h @ W_k) through 20 (1, 64) @ (64, 64) products, W_k with grad;
- RNN cell: h = tanh(x_t @ W + h @ U + b) over 50 steps, batch 8, input 32, hidden 64;
- LSTM step: nn.LSTMCell(32, 64) over 50 steps, batch 8, PyTorch's weights copied in.
"""
from __future__ import annotations

import argparse
import statistics
import time


def chain(lib, x, n_ops: int):
    """Alternate cheap elementwise ops so every op records a graph node."""
    y = x
    for i in range(n_ops // 2):
        y = y * 1.0001
        y = y + 0.5
    return y.sum()


def time_framework(lib, n_ops: int) -> float:
    x = lib.ones(4, 4, requires_grad=True)
    start = time.perf_counter()
    chain(lib, x, n_ops).backward()
    return (time.perf_counter() - start) / n_ops * 1e6


def measure_with(minidl, torch=None, n_ops: int = 1000, repeats: int = 15) -> dict:
    """Median µs per op of each framework, interleaved run by run."""
    frameworks = {"minidl": minidl}
    if torch is not None:
        frameworks["torch"] = torch
    times = {name: [] for name in frameworks}
    for lib in frameworks.values():      # warm-up
        time_framework(lib, n_ops)
    for _ in range(repeats):
        for name, lib in frameworks.items():
            times[name].append(time_framework(lib, n_ops))
    return {name: statistics.median(v) for name, v in times.items()}


def measure(n_ops: int = 1000, repeats: int = 15) -> dict:
    import minidl
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    return measure_with(minidl, torch, n_ops, repeats)


# ---- the small-tensor workloads (--suite) ----
def _leaf(lib, array):
    return lib.tensor(array, requires_grad=True)


def tensor_chain(lib, arrays):
    x, w, b = (lib.tensor(arrays["x"]), _leaf(lib, arrays["w"]), _leaf(lib, arrays["b"]))
    y = x
    for _ in range(333):
        y = lib.tanh(y * w + b)
    return y.sum(), [w, b]


def matmul_chain(lib, arrays):
    weights = [_leaf(lib, w) for w in arrays["W"]]
    h = lib.tensor(arrays["h"])
    for w in weights:
        h = lib.tanh(h @ w)
    return h.sum(), weights


def rnn_cell(lib, arrays):
    W, U, b = (_leaf(lib, arrays["W_rnn"]), _leaf(lib, arrays["U"]),
               _leaf(lib, arrays["bias"]))
    xs = lib.tensor(arrays["xs"])
    h = lib.zeros(8, 64)
    for t in range(xs.shape[0]):
        h = lib.tanh(xs[t] @ W + h @ U + b)
    return h.sum(), [W, U, b]


def lstm_step(lib, arrays):
    cell = arrays["cells"][lib.__name__]
    xs = lib.tensor(arrays["xs"])
    h = c = lib.zeros(8, 64)
    for t in range(xs.shape[0]):
        h, c = cell(xs[t], (h, c))
    return h.sum(), list(cell.parameters())


WORKLOADS = {"tensor chain": (tensor_chain, 333 * 3), "matmul chain": (matmul_chain, 20 * 2),
             "RNN cell": (rnn_cell, 50 * 5), "LSTM step": (lstm_step, 50)}


def _arrays(minidl, torch):
    import numpy as np
    rng = np.random.default_rng(0)
    f32 = lambda *shape: (rng.standard_normal(shape) * 0.3).astype(np.float32)  # noqa: E731
    cells = {"torch": torch.nn.LSTMCell(32, 64)}
    cells["minidl"] = minidl.nn.LSTMCell(32, 64)
    cells["minidl"].load_state_dict({k: minidl.tensor(v.detach().numpy())
                                     for k, v in cells["torch"].state_dict().items()})
    return {"x": f32(10), "w": f32(10), "b": f32(10), "W": [f32(64, 64) for _ in range(20)],
            "h": f32(1, 64), "xs": f32(50, 8, 32), "U": f32(64, 64), "bias": f32(64),
            "cells": cells, "W_rnn": f32(32, 64)}


def _time_once(lib, fn, arrays):
    """Forward and backward seconds of one run. The leaves are made afresh each run
    (LSTMCell's parameters excepted: their .grad accumulates, on both sides alike)."""
    start = time.perf_counter()
    loss, params = fn(lib, arrays)
    mid = time.perf_counter()
    loss.backward()
    end = time.perf_counter()
    return mid - start, end - mid


def measure_suite(threads: int, repeats: int = 15) -> list:
    """Rows (workload, ops, minidl fwd/bwd ms, torch fwd/bwd ms), medians of `repeats`."""
    import minidl
    import torch
    minidl.set_num_threads(threads)
    torch.set_num_threads(threads)
    arrays = _arrays(minidl, torch)
    rows = []
    for name, (fn, ops) in WORKLOADS.items():
        times = {"minidl": ([], []), "torch": ([], [])}
        for lib in (minidl, torch):          # warm-up: compiles, caches, allocator
            _time_once(lib, fn, arrays)
            _time_once(lib, fn, arrays)
        for _ in range(repeats):
            for lib in (minidl, torch):
                f, b = _time_once(lib, fn, arrays)
                times[lib.__name__][0].append(f)
                times[lib.__name__][1].append(b)
        med = {k: (statistics.median(v[0]) * 1e3, statistics.median(v[1]) * 1e3)
               for k, v in times.items()}
        rows.append((name, ops, *med["minidl"], *med["torch"]))
    return rows


def suite_table(results: dict) -> list:
    lines = ["| workload | threads | ops | minidl fwd ms | torch fwd ms | minidl bwd ms | "
             "torch bwd ms | fwd+bwd ratio |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for threads, rows in results.items():
        for name, ops, mf, mb, tf, tb in rows:
            lines.append(f"| {name} | {threads} | {ops} | {mf:.3f} | {tf:.3f} | {mb:.3f} | "
                         f"{tb:.3f} | {(mf + mb) / (tf + tb):.2f}x |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--suite", action="store_true", help="the small-tensor workloads")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if args.suite:
        results = {t: measure_suite(t, args.repeats) for t in args.threads}
        print("\n".join(suite_table(results)))
        return
    res = measure(args.ops, args.repeats)
    for name, us in res.items():
        print(f"{name:8s} {us:7.2f} us/op (forward + backward)")
    if "torch" in res:
        print(f"ratio minidl/torch: {res['minidl'] / res['torch']:.2f}")


if __name__ == "__main__":
    main()
