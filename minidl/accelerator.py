"""`torch.accelerator`: the machine's accelerator, here a CUDA GPU through CuPy (or none).

    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() \
        else torch.device("cpu")
"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy imports and sees a CUDA device."""
    return backend.has_cupy()


def current_accelerator(check_available: bool = False):
    """device('cuda') when a GPU is usable, else None (as PyTorch on a CPU-only machine)."""
    return backend.Device("cuda") if backend.has_cupy() else None


def device_count() -> int:
    from . import cuda
    return cuda.device_count()


def synchronize(device=None) -> None:
    from . import cuda
    if cuda.is_available():
        cuda.synchronize(device)
