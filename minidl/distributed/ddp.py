"""DistributedDataParallel: every rank's gradients averaged after backward, in buckets.

How it works, in the order it happens:
1. At wrap time every rank's parameter names, shapes and dtypes are compared (a model that
   differs on one rank is named on every rank, which all raise together), then the
   parameters and buffers are broadcast from rank 0, so every rank starts equal.
2. The parameters are cut into buckets of about `bucket_cap_mb` MB, in reverse order of
   registration (the order backward reaches them: the last layer's gradients come first),
   each bucket one flat buffer per dtype.
3. During backward, a post-accumulate-grad hook per parameter copies its `.grad` into its
   bucket; when a bucket is full its sum over the ranks starts at once (a non-blocking
   MPI_Iallreduce), while backward goes on with the earlier layers.
4. When backward ends (an engine callback), DDP waits for the buckets still in flight,
   divides by the world size and writes each average back into its parameter's `.grad`.
   A parameter that got no gradient in this backward counts as zeros in the average (PyTorch
   needs find_unused_parameters=True for that; here it is always so).

Many small gradients thus travel as a few large messages, which is what makes an
all-reduce cheap: its cost is mostly per message on a fast network.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..autograd import engine
from ..nn.module import Module
from . import _comm, _mpi


class _Bucket:
    def __init__(self, params: list, dtype):
        self.params = params
        self.sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        self.buffer = np.zeros(int(self.offsets[-1]), dtype)
        self.ready: set = set()
        self.request = None

    def slot(self, k: int) -> np.ndarray:
        return self.buffer[self.offsets[k]:self.offsets[k + 1]]


class DistributedDataParallel(Module):
    """Wrap `module` so that backward averages its gradients over the ranks
    (torch.nn.parallel.DistributedDataParallel; call init_process_group first).

    The wrapped model runs as the module itself; its state_dict keys get the `module.`
    prefix, as PyTorch's do. `no_sync()` skips the averaging (gradient accumulation over
    several backwards, averaged at the last)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, bucket_cap_mb: float = 25.0,
                 find_unused_parameters: bool = False, **kwargs):
        super().__init__()
        self.module = module
        comm = _comm()
        self._check_same_model(comm)
        for tensor in list(module.parameters()) + list(module.buffers()):
            if type(tensor.array) is not np.ndarray:
                raise TypeError("DistributedDataParallel: parameters must be CPU tensors "
                                f"(MPI sends host memory), got one on {tensor.device}")
            comm.Bcast(tensor.array, root=0)
        self._sync = True
        self._buckets = self._make_buckets(int(bucket_cap_mb * 2 ** 20))
        self._pending = False
        for bucket in self._buckets:
            for k, p in enumerate(bucket.params):
                p.register_post_accumulate_grad_hook(self._hook(bucket, k))

    # ---- wrap time ----
    def _check_same_model(self, comm) -> None:
        mine = [(name, tuple(p.shape), str(p.dtype))
                for name, p in self.module.named_parameters()]
        every = comm.allgather(mine)
        for rank, theirs in enumerate(every):
            if theirs == every[0]:
                continue
            if len(theirs) != len(every[0]):
                what = f"{len(theirs)} parameters where rank 0 has {len(every[0])}"
            else:
                a, b = next((a, b) for a, b in zip(every[0], theirs) if a != b)
                what = (f"parameter {b[0]} of shape {b[1]} ({b[2]}) where rank 0 has "
                        f"{a[0]} of shape {a[1]} ({a[2]})")
            raise RuntimeError(f"DistributedDataParallel: rank {rank}'s model differs from "
                               f"rank 0's ({what}); every rank must build the same model")

    def _make_buckets(self, cap_bytes: int) -> list:
        params = [p for p in self.module.parameters() if p.requires_grad][::-1]
        buckets, current, size = [], [], 0
        for p in params:
            if current and (size + p.array.nbytes > cap_bytes or
                            p.array.dtype != current[0].array.dtype):
                buckets.append(_Bucket(current, current[0].array.dtype))
                current, size = [], 0
            current.append(p)
            size += p.array.nbytes
        if current:
            buckets.append(_Bucket(current, current[0].array.dtype))
        return buckets

    # ---- during backward ----
    def _hook(self, bucket: _Bucket, k: int):
        def ready(param):
            if not self._sync:
                return
            if not self._pending:            # the first gradient of this backward
                self._pending = True
                engine.queue_callback(self._finish)
            bucket.slot(k)[...] = param.grad.array.reshape(-1)
            bucket.ready.add(k)
            if len(bucket.ready) == len(bucket.params):
                self._start(bucket)
        return ready

    def _start(self, bucket: _Bucket) -> None:
        bucket.request = _comm().Iallreduce(_mpi().IN_PLACE, bucket.buffer, op=_mpi().SUM)

    def _finish(self) -> None:
        """After backward: wait for every bucket, average, write the `.grad`s."""
        self._pending = False
        world = _comm().Get_size()
        for bucket in self._buckets:
            if bucket.request is None:       # some parameter got no gradient: zeros
                for k in range(len(bucket.params)):
                    if k not in bucket.ready:
                        bucket.slot(k)[...] = 0
                self._start(bucket)
        for bucket in self._buckets:
            bucket.request.Wait()
            bucket.buffer /= world
            for k, p in enumerate(bucket.params):
                if p.grad is None:
                    from ..tensor import Tensor
                    p.grad = Tensor(np.zeros_like(p.array))
                p.grad.array[...] = bucket.slot(k).reshape(p.array.shape)
            bucket.ready.clear()
            bucket.request = None

    # ---- the module's face ----
    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Backwards inside this block keep their gradients local (accumulated in .grad);
        the first backward after it averages the sum."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous
