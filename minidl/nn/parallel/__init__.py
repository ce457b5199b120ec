"""`torch.nn.parallel`: DataParallel, which on one device is the module itself, wrapped.

DistributedDataParallel (several processes, over MPI) lives in minidl.distributed; the name
here reaches it, importing mpi4py only when used."""
from __future__ import annotations

from ..module import Module


class DataParallel(Module):
    """Runs `module` on the batch (one device here, as PyTorch's with a single GPU or on
    the CPU); state_dict keys get the `module.` prefix, as PyTorch's do."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def __getattr__(name):
    if name == "DistributedDataParallel":       # PyTorch's path to it; mpi4py stays unloaded
        from ...distributed import DistributedDataParallel
        return DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
