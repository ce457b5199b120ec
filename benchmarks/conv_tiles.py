"""The convolution's column tiles, on and off: conv2d forward+backward and the SimpleCNN
step with `conv_numba.TILE_BYTES` at its default (tiled) and at 2**62 (every share one
tile: the batch-at-once passes of before), alternating round by round in one process.

    python benchmarks/conv_tiles.py [--threads 1] [--rounds 10] [--flush MB]

The two settings take turns going first (ABBA): whichever went first in every round read
about 5% slower. `--flush MB` writes an array of that size before every timed call, which
leaves the last-level cache cold, as a training step with more going on does (and as a CPU
whose L3 cannot hold the columns always is). Prints the median of the rounds' medians (ms)
and tiled / untiled. benchmarks/NOTES.md ("Convolution columns tiled to the L2 cache") has
the figures and what they decided.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

UNTILED = 1 << 62
WARM_SECONDS = 0.3
CALLS = 5


def _round_median(fn, flush) -> float:
    end = time.perf_counter() + WARM_SECONDS
    while time.perf_counter() < end:
        fn()
    times = []
    for _ in range(CALLS):
        if flush is not None:
            flush += 1
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--flush", type=int, default=0, metavar="MB")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    import minidl as lib
    from minidl.kernels import conv_numba
    from minidl.models import define_models
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from workloads import training_step

    lib.set_num_threads(args.threads)
    flush = np.ones(args.flush << 18, np.float32) if args.flush else None
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.random((64, 16, 28, 28), dtype=np.float32), requires_grad=True)
    w = lib.tensor(rng.random((32, 16, 3, 3), dtype=np.float32) - 0.5, requires_grad=True)
    b = lib.tensor(rng.random(32, dtype=np.float32), requires_grad=True)
    step = training_step(lib, define_models(lib.nn).SimpleCNN(3, 28), (64, 3, 28, 28), 10)
    workloads = {"conv2d_fwd_bwd": lambda: lib.nn.functional.conv2d(x, w, b, padding=1)
                 .sum().backward(),
                 "cnn_step": step}
    settings = {"tiled": conv_numba.TILE_BYTES, "untiled": UNTILED}
    for name, fn in workloads.items():
        medians = {setting: [] for setting in settings}
        for k in range(args.rounds):
            order = list(settings.items())          # ABBA: neither setting always first
            for setting, tile_bytes in (order if k % 2 == 0 else order[::-1]):
                conv_numba.TILE_BYTES = tile_bytes
                if hasattr(fn, "restart"):
                    fn.restart()
                medians[setting].append(_round_median(fn, flush))
        tiled, untiled = (statistics.median(medians[s]) for s in settings)
        cold = f", {args.flush} MB flushed" if args.flush else ""
        print(f"{name}, {args.threads} thread(s){cold}: tiled {tiled:.2f} ms, untiled "
              f"{untiled:.2f} ms, tiled / untiled {tiled / untiled:.2f}")


if __name__ == "__main__":
    main()
