"""What minidl.profiler costs, and whether its rows account for a step's time.

    python benchmarks/profiler_overhead.py [--threads 1] [--repeats 30]

Times the SimpleCNN training step (batch 32, 3x28x28, Adam) three ways in one process:
(a) "off", before any profile ran; (c) "on", inside a profile, whose rows' self times are
summed and compared with the profiled wall time; (b) "off after", once profiles were
entered and left (Function.apply and the engine are restored, so this must match (a)).
With the profiler off, the only code it adds to a step is one test per backward pass.
Prints medians and the ratios.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import minidl
from minidl.models import SimpleCNN
from minidl.profiler import profile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    minidl.set_num_threads(args.threads)
    minidl.manual_seed(0)
    model = SimpleCNN()
    opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = minidl.tensor(rng.standard_normal((32, 3, 28, 28)).astype(np.float32))
    y = minidl.tensor(rng.integers(0, 10, 32))
    loss_fn = minidl.nn.CrossEntropyLoss()

    def step():
        start = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    for _ in range(5):                       # compile the kernels, warm the caches
        step()
    off = [step() for _ in range(args.repeats)]   # before any profile in this process
    on, accounted = [], []
    for _ in range(args.repeats):
        with profile() as prof:
            on.append(step())
        accounted.append(sum(r.self_all for r in prof.rows.values()) / prof.wall)
    after = [step() for _ in range(args.repeats)]
    m = {k: statistics.median(v) * 1e3 for k, v in dict(off=off, after=after, on=on).items()}
    print(f"SimpleCNN step, batch 32, {args.threads} thread(s), medians of {args.repeats}:")
    print(f"  off (never profiled)        {m['off']:.2f} ms")
    print(f"  off, after a profile        {m['after']:.2f} ms  ({m['after'] / m['off']:.3f}x)")
    print(f"  on                          {m['on']:.2f} ms  ({m['on'] / m['off']:.2f}x)")
    print(f"  rows' self time / wall time {100 * statistics.median(accounted):.1f}% (median)")


if __name__ == "__main__":
    main()
