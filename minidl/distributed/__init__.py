"""`minidl.distributed`: data-parallel training over MPI (torch.distributed's names).

    mpiexec -n 2 python train.py         # or: mpiexec -n 2 minidl train --distributed

Each process (a rank) runs the same program on its share of the data; after each backward
DistributedDataParallel averages the gradients over the ranks, so every rank takes the
same optimizer step, as one process would on the global batch. The messages go through
MPI (mpi4py, imported here only and only when first needed), the proven engine that
Chainer's ChainerMN also used, not a network layer of minidl's own. `pip install
'minidl[mpi]'` brings mpi4py and an MPICH from the package registry.

A rank that raises ends the whole job: `init_process_group` installs an excepthook that
prints the error and calls MPI_Abort, as `python -m mpi4py` does, instead of leaving the
other ranks waiting in an all-reduce for ever.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from .sampler import DistributedSampler

__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized",
           "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast", "all_gather_object",
           "ReduceOp", "DistributedDataParallel", "DistributedSampler"]

_state = {"comm": None, "hook": None}
_ABORT_GRACE_S = 0.5     # seconds a raising rank waits, output flushed, before MPI_Abort


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError("minidl.distributed needs mpi4py and an MPI library: pip install "
                          "'minidl[mpi]' (mpi4py with MPICH from PyPI)") from err
    return MPI


def is_available() -> bool:
    """Whether mpi4py imports (torch.distributed.is_available)."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def init_process_group(backend: str | None = None, init_method=None, timeout=None,
                       world_size: int = -1, rank: int = -1, **kwargs) -> None:
    """Join the job that mpiexec started: rank and world size come from MPI_COMM_WORLD.

    backend: None, 'mpi', or 'gloo' (a CPU backend in PyTorch; here the same MPI), so that
    a PyTorch script's call runs unchanged. world_size and rank, when given, must agree
    with MPI's."""
    if backend not in (None, "mpi", "gloo"):
        raise ValueError(f"init_process_group: backend {backend!r} is not available in "
                         f"minidl; it runs on CPUs over MPI (backend 'mpi' or 'gloo')")
    if _state["comm"] is not None:
        raise RuntimeError("init_process_group: trying to initialize the default process "
                           "group twice!")
    comm = _mpi().COMM_WORLD
    for name, given, actual in (("world_size", world_size, comm.Get_size()),
                                ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group: {name}={given}, but MPI started this "
                             f"process with {name} {actual} (mpiexec -n sets them)")
    _state["comm"] = comm
    _install_abort_hook(comm)


def _install_abort_hook(comm) -> None:
    """An uncaught exception on one rank prints and aborts every rank (MPI_Abort)."""
    previous = sys.excepthook

    def abort(kind, value, tb):
        # The one-line summary goes first, message included: MPI_Abort kills every rank at
        # once, and mpiexec can drop whatever a rank wrote that it had not yet forwarded.
        sys.stderr.write(f"minidl.distributed: rank {comm.Get_rank()} of "
                         f"{comm.Get_size()} raised {kind.__name__}: {value}; "
                         "aborting the job\n")
        sys.stderr.flush()
        previous(kind, value, tb)
        sys.stderr.flush()
        time.sleep(_ABORT_GRACE_S)        # let mpiexec forward the output before the kill
        comm.Abort(1)

    sys.excepthook = abort
    _state["hook"] = (abort, previous)


def destroy_process_group() -> None:
    """Leave the group (the excepthook goes too); MPI itself ends with the process."""
    hook = _state["hook"]
    if hook is not None and sys.excepthook is hook[0]:
        sys.excepthook = hook[1]
    _state["comm"] = _state["hook"] = None


def is_initialized() -> bool:
    return _state["comm"] is not None


def _comm():
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError("Default process group has not been initialized, please make "
                           "sure to call init_process_group.")
    return comm


def get_rank() -> int:
    return _comm().Get_rank()


def get_world_size() -> int:
    return _comm().Get_size()


def barrier() -> None:
    _comm().Barrier()


class ReduceOp:
    """The reductions of all_reduce (torch.distributed.ReduceOp)."""

    SUM, PRODUCT, MIN, MAX, AVG = "sum", "product", "min", "max", "avg"


def _mpi_op(op: str):
    MPI = _mpi()
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    if op not in table:
        raise ValueError(f"all_reduce: unknown op {op!r}; expected one of ReduceOp's")
    return table[op]


def _buffer(tensor, op: str):
    array = tensor.array
    if type(array) is not np.ndarray:
        raise TypeError(f"{op}: expected a CPU tensor (MPI sends host memory), got one on "
                        f"{tensor.device}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{op}: expected a contiguous tensor, got strides {array.strides}")
    return array


def all_reduce(tensor, op: str = ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce `tensor` over all ranks, in place, every rank getting the result."""
    array = _buffer(tensor, "all_reduce")
    comm = _comm()
    comm.Allreduce(_mpi().IN_PLACE, array, op=_mpi_op(op))
    if op == ReduceOp.AVG:
        array /= comm.Get_size()
    return None


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False):
    """Overwrite `tensor` on every rank with rank `src`'s, in place."""
    array = _buffer(tensor, "broadcast")
    _comm().Bcast(array, root=src)
    return None


def all_gather_object(object_list: list, obj, group=None) -> None:
    """object_list[r] = rank r's `obj`, on every rank (any picklable object)."""
    gathered = _comm().allgather(obj)
    if len(object_list) != len(gathered):
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries for "
                         f"a world of {len(gathered)} ranks")
    object_list[:] = gathered


from .ddp import DistributedDataParallel  # noqa: E402  (it uses the functions above)
