"""Data-parallel training speed: samples per second of the SimpleCNN step on MNIST-sized
images, with 1 and more MPI ranks, and the gradient all-reduce's share of the step.

    mpiexec -n 1 python benchmarks/ddp_bench.py --threads 1
    mpiexec -n 2 python benchmarks/ddp_bench.py --threads 1

Each rank trains on its own batch of --batch images (the global batch is ranks x batch);
after --warmup steps, --steps steps are timed (median of --repeats runs of them, step
times as seen by rank 0). "all-reduce" is the time DDP spends starting its all-reduces and
waiting for them at the end of backward (minidl.distributed.ddp: _start and _finish).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import minidl
    import minidl.distributed as dist
    from minidl.distributed import ddp
    from minidl.models import define_models

    minidl.set_num_threads(args.threads)
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    spent = [0.0]

    def timed(fn):
        def run(*a, **k):
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[0] += time.perf_counter() - start
        return run

    ddp.DistributedDataParallel._start = timed(ddp.DistributedDataParallel._start)
    ddp.DistributedDataParallel._finish = timed(ddp.DistributedDataParallel._finish)
    minidl.manual_seed(0)
    net = define_models(minidl.nn).SimpleCNN(1, 28)
    model = dist.DistributedDataParallel(net)
    optimizer = minidl.optim.Adam(net.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    x = minidl.tensor(rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32))
    y = minidl.tensor(rng.integers(0, 10, args.batch))

    def step():
        loss = minidl.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    step_ms, share = [], []
    for _ in range(args.repeats):
        dist.barrier()
        spent[0] = 0.0
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        elapsed = time.perf_counter() - start
        step_ms.append(1e3 * elapsed / args.steps)
        share.append(spent[0] / elapsed)
    nbytes = sum(p.array.nbytes for p in net.parameters())
    if rank == 0:
        ms = statistics.median(step_ms)
        print(f"| {world} | {args.threads} | {args.batch * world} | {ms:.2f} | "
              f"{1e3 * args.batch * world / ms:.0f} | {100 * statistics.median(share):.1f}% | "
              f"{nbytes / 1e6:.2f} MB |")


if __name__ == "__main__":
    main()
