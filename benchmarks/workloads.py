"""Timed workloads in one process, minidl (Numba), minidl (NumPy) and PyTorch interleaved.

Run by run.py with the thread-count variables already set; prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def interleaved(contestants: dict, repeats: int, warmup: int = 2) -> dict:
    """Median ms per call of each contestant, called in turn, warm-up excluded."""
    for fn in contestants.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in contestants}
    for _ in range(repeats):
        for name, fn in contestants.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(v) for name, v in times.items()}


def _numpy_kernels(fn):
    import minidl

    def run():
        with minidl.kernels.use_numba(False):
            fn()
    return run


def training_step(lib, model, batch_shape, n_classes: int, seed: int = 0):
    """A closure doing one Adam step of `model` on a fixed random batch."""
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.random(batch_shape, dtype=np.float32))
    y = lib.tensor(rng.integers(0, n_classes, batch_shape[0]))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    criterion = lib.nn.CrossEntropyLoss()

    def step():
        loss = criterion(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def models_step(kind: str, repeats: int) -> dict:
    import minidl
    import torch
    from minidl.models import define_models

    def build(lib):
        lib.manual_seed(0)
        zoo = define_models(lib.nn)
        if kind == "cnn":
            return training_step(lib, zoo.SimpleCNN(3, 28), (64, 3, 28, 28), 10)
        return training_step(lib, zoo.MLP(784, 128, 10), (128, 784), 10)

    return interleaved({"numba": build(minidl), "numpy": _numpy_kernels(build(minidl)),
                        "torch": build(torch)}, repeats)


def conv_fwd_bwd(repeats: int) -> dict:
    import minidl
    import torch

    rng = np.random.default_rng(0)
    x = rng.random((64, 16, 28, 28), dtype=np.float32)
    w = rng.random((32, 16, 3, 3), dtype=np.float32) - 0.5
    b = rng.random(32, dtype=np.float32)

    def make(lib, F):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        bt = lib.tensor(b, requires_grad=True)

        def run():
            F.conv2d(xt, wt, bt, padding=1).sum().backward()
        return run

    import minidl.nn.functional as mF
    import torch.nn.functional as tF
    return interleaved({"numba": make(minidl, mF), "numpy": _numpy_kernels(make(minidl, mF)),
                        "torch": make(torch, tF)}, repeats)


def matmul_rates(repeats: int) -> dict:
    import minidl
    import torch
    from minidl.kernels import matmul_numba

    out = {}
    for n in (64, 256, 1024):
        rng = np.random.default_rng(n)
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)
        am, bm = minidl.tensor(a), minidl.tensor(b)
        at, bt = torch.tensor(a), torch.tensor(b)
        reps = repeats if n >= 1024 else repeats * 20
        ms = interleaved({"minidl": lambda: am @ bm, "gemm": lambda: matmul_numba.gemm(a, b),
                          "blas": lambda: a @ b, "torch": lambda: at @ bt}, reps)
        out[n] = {k: 2 * n ** 3 / (v * 1e-3) / 1e9 for k, v in ms.items()}
    return out


def overhead(repeats: int) -> dict:
    import overhead as ov
    import minidl
    import torch

    return ov.measure_with(minidl, torch, repeats=repeats)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import numba
    import torch
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    res = {"cnn_step": models_step("cnn", args.repeats),
           "mlp_step": models_step("mlp", args.repeats),
           "conv2d_fwd_bwd": conv_fwd_bwd(args.repeats),
           "matmul": matmul_rates(args.repeats),
           "overhead": overhead(args.repeats)}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
