"""Run under mpiexec by tests/distributed/test_ddp.py (not collected by pytest).

    mpiexec -n W python ddp_worker.py train OUT.npz   # 20 SGD steps of the SimpleCNN
    mpiexec -n W python ddp_worker.py raise           # rank 1 raises at step 3
    mpiexec -n W python ddp_worker.py mismatch        # rank 1 builds a wider model

`train`: every step takes the same global batch of 16 samples; rank r trains on its
16 / W of them; rank 0 saves the final weights. The test compares them with one process
training on the whole global batch (`reference_weights`).
"""
import sys

import numpy as np

import minidl
import minidl.distributed as dist
from minidl.models import define_models

STEPS, GLOBAL_BATCH, SIZE = 20, 16, 12


def batches():
    rng = np.random.default_rng(0)
    for _ in range(STEPS):
        yield (rng.standard_normal((GLOBAL_BATCH, 1, SIZE, SIZE)).astype(np.float32),
               rng.integers(0, 10, GLOBAL_BATCH))


def make_model():
    minidl.manual_seed(0)
    return define_models(minidl.nn).SimpleCNN(1, SIZE)


def run(model, shard=lambda a: a):
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for step, (x, y) in enumerate(batches()):
        loss = minidl.nn.functional.cross_entropy(model(minidl.tensor(shard(x))),
                                                  minidl.tensor(shard(y)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield step


def reference_weights() -> dict:
    """One process, the whole global batch each step."""
    model = make_model()
    for _ in run(model):
        pass
    return {k: v.numpy() for k, v in model.state_dict().items()}


def main(mode: str, out: str | None = None) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    if mode == "mismatch" and rank == 1:
        minidl.manual_seed(0)
        net = define_models(minidl.nn).SimpleCNN(1, SIZE + 4)     # a wider first Linear
    else:
        net = make_model()
    if rank:                          # a different start: DDP's broadcast must undo it
        with minidl.no_grad():
            for p in net.parameters():
                p.mul_(0.5)
    model = dist.DistributedDataParallel(net)
    per_rank = GLOBAL_BATCH // world
    for step in run(model, lambda a: a[rank * per_rank:(rank + 1) * per_rank]):
        if mode == "raise" and rank == 1 and step == 3:
            raise RuntimeError("planted failure on rank 1")
    if rank == 0 and out:
        np.savez(out, **{k: v.numpy() for k, v in net.state_dict().items()})
    dist.barrier()


if __name__ == "__main__":
    main(*sys.argv[1:])
