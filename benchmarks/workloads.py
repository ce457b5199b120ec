"""The timed workloads, served one call at a time to run.py by a worker process.

    python benchmarks/workloads.py minidl|torch      (thread-count variables already set)

Each framework runs in its own long-lived process, so that no two thread pools (BLAS,
Numba's, PyTorch's) share a process and spin against each other; run.py interleaves the
processes call by call. The worker reads a workload name per line on stdin and answers
one JSON line: milliseconds per call (or the workload's own unit); "name k" restarts a
training workload from its initial weights, makes untimed calls for WARM_SECONDS (at least
one; less for the microsecond workloads) and answers the median of the k timed calls that
follow them.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np

MATMUL_SIZES = (64, 256, 1024)

# Untimed calls before each timed block, in seconds: after the idle gap between rounds the
# first few two-thread SimpleCNN steps ran 20-60% slow in both frameworks (threads asleep,
# caches cold: benchmarks/NOTES.md), where a training loop runs its steps back to back.
# With 0.1 s minidl's two-thread step still read 13.4-20.8 ms in the harness (12.0 back to
# back); with 0.3 s, 12.4 in two runs. The microsecond workloads need less.
WARM_SECONDS = 0.3
WARM_SECONDS_SHORT = 0.05
SHORT = ("blas_", "dispatch_", "gemm_", "matmul_", "overhead")


N_BATCHES = 16          # a training loop sees a new batch each step: cycle through these
STEADY_STEPS = 2000     # steps before the "steady" MLP workload is timed


def same_init(lib, model, seed: int = 0) -> None:
    """Give the model the same initial weights in every framework: PyTorch's default
    uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from one NumPy generator. Which hidden
    units die, and so which Adam moments go subnormal later, then matches across them."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            fan_in = int(np.prod(p.shape[1:])) if len(p.shape) > 1 else p.shape[0]
            bound = 1 / np.sqrt(fan_in)
            p.copy_(lib.tensor(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def training_step(lib, model, batch_shape, n_classes: int, seed: int = 0):
    """A closure doing one Adam step of `model`, on the next of N_BATCHES random batches.

    `step.restart()` puts the model and the optimizer back to their initial state: run.py
    restarts before each round, so every round times the first steps of a training run
    whatever the contestant's speed (a faster contestant makes more warm-up steps per round,
    and the MLP's cost changes with training: see mlp_step_steady)."""
    rng = np.random.default_rng(seed)
    xs = [lib.tensor(rng.random(batch_shape, dtype=np.float32)) for _ in range(N_BATCHES)]
    ys = [lib.tensor(rng.integers(0, n_classes, batch_shape[0])) for _ in range(N_BATCHES)]
    criterion = lib.nn.CrossEntropyLoss()
    state = {}

    def restart():
        same_init(lib, model, seed)
        state.update(opt=lib.optim.Adam(model.parameters(), lr=1e-3), count=0)

    def step():
        k = state["count"] % N_BATCHES
        state["count"] += 1
        loss = criterion(model(xs[k]), ys[k])
        state["opt"].zero_grad()
        loss.backward()
        state["opt"].step()

    restart()
    step.restart = restart
    return step


def steady(step, steps: int = STEADY_STEPS):
    """step after `steps` untimed calls (the regime most of a training run is in), never
    restarted."""
    for _ in range(steps):
        step()

    def steady_step():
        step()
    return steady_step


def _timed(fn, inner: int = 1):
    """Milliseconds per call of fn, averaged over `inner` back-to-back calls."""
    def run():
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - start) * 1e3 / inner
    run.restart = getattr(fn, "restart", None)
    return run


def _ratio(time_a, time_b, pairs: int = 7):
    """time_a / time_b from medians of `pairs` interleaved pairs of measurements: for two
    kernels whose difference is smaller than the drift between separate rounds."""
    def run():
        a, b = [], []
        for _ in range(pairs):
            a.append(time_a())
            b.append(time_b())
        return statistics.median(a) / statistics.median(b)
    return run


def workloads(lib, framework: str) -> dict:
    """name -> callable returning one measurement, for this framework."""
    from minidl.models import define_models

    lib.manual_seed(0)
    zoo = define_models(lib.nn)
    out = {"cnn_step": _timed(training_step(lib, zoo.SimpleCNN(3, 28), (64, 3, 28, 28), 10)),
           "mlp_step": _timed(training_step(lib, zoo.MLP(784, 128, 10), (128, 784), 10), 5),
           "mlp_step_steady": _timed(steady(training_step(lib, zoo.MLP(784, 128, 10),
                                                          (128, 784), 10)), 5)}

    rng = np.random.default_rng(0)
    x = lib.tensor(rng.random((64, 16, 28, 28), dtype=np.float32), requires_grad=True)
    w = lib.tensor(rng.random((32, 16, 3, 3), dtype=np.float32) - 0.5, requires_grad=True)
    b = lib.tensor(rng.random(32, dtype=np.float32), requires_grad=True)
    conv2d = lib.nn.functional.conv2d
    out["conv2d_fwd_bwd"] = _timed(lambda: conv2d(x, w, b, padding=1).sum().backward())

    for n in MATMUL_SIZES:
        a_np = np.random.default_rng(n).random((n, n), dtype=np.float32)
        b_np = np.random.default_rng(n + 1).random((n, n), dtype=np.float32)
        am, bm = lib.tensor(a_np), lib.tensor(b_np)
        inner = max(1, 2 ** 24 // n ** 3)
        out[f"matmul_{n}"] = _timed(lambda am=am, bm=bm: am @ bm, inner)
        if framework == "minidl":
            from minidl.kernels import matmul_numba
            from minidl.ops.linalg import dispatch_matmul
            out[f"gemm_{n}"] = _timed(lambda a=a_np, b=b_np: matmul_numba.gemm(a, b), inner)
            out[f"blas_{n}"] = _timed(lambda a=a_np, b=b_np: a @ b, inner)
            out[f"dispatch_{n}"] = _timed(lambda a=a_np, b=b_np: dispatch_matmul(a, b), inner)
            out[f"dispatch_vs_blas_{n}"] = _ratio(out[f"dispatch_{n}"], out[f"blas_{n}"])

    import overhead
    out["overhead"] = lambda: overhead.time_framework(lib, 1000)     # µs per op
    return out


def main() -> None:
    framework = sys.argv[1]
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    if framework == "torch":
        import torch as lib
        lib.set_num_threads(threads)
    else:
        import minidl as lib
        lib.set_num_threads(threads)
    table = workloads(lib, "torch" if framework == "torch" else "minidl")
    print(json.dumps({"ready": sorted(table)}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        name, *count = line.split()
        value = None
        if name in table and count:
            # "name k": a restart where the workload has one, untimed calls for
            # WARM_SECONDS, then the median of k timed calls
            if getattr(table[name], "restart", None):
                table[name].restart()
            warm = WARM_SECONDS_SHORT if name.startswith(SHORT) else WARM_SECONDS
            start = time.perf_counter()
            table[name]()
            while time.perf_counter() - start < warm:
                table[name]()
            value = statistics.median(table[name]() for _ in range(int(count[0])))
        elif name in table:
            value = table[name]()
        print(json.dumps({"name": name, "value": value}), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
