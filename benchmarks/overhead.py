"""Per-op autograd overhead: a 1000-op chain on tiny tensors, forward + backward.

Prints microseconds per op for minidl and PyTorch (same process, interleaved, one thread),
the median of several runs, and their ratio.

    python benchmarks/overhead.py [--ops 1000] [--repeats 15]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    res = measure(args.ops, args.repeats)
    for name, us in res.items():
        print(f"{name:8s} {us:7.2f} us/op (forward + backward)")
    if "torch" in res:
        print(f"ratio minidl/torch: {res['minidl'] / res['torch']:.2f}")


if __name__ == "__main__":
    main()
