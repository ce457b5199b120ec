"""`torch.cuda`: truthful answers about CUDA devices (through CuPy, in minidl.backend).

On a machine without CuPy or without a GPU, `is_available()` is False and
`device_count()` is 0; the calls that need a device raise a RuntimeError that says which
of the two is missing, as PyTorch raises without CUDA.
"""
from __future__ import annotations

from .. import backend
from . import amp  # noqa: F401  (torch.cuda.amp, the legacy path)


def is_available() -> bool:
    return backend.has_cupy()


def device_count() -> int:
    cp = backend._import_cupy()
    return int(cp.cuda.runtime.getDeviceCount()) if cp is not None else 0


def _require(what: str):
    cp = backend._import_cupy()
    if cp is None:
        raise RuntimeError(f"cuda.{what}: no CUDA device: {backend.cuda_unavailable_reason()}")
    return cp


def current_device() -> int:
    return int(_require("current_device").cuda.runtime.getDevice())


def get_device_name(device=None) -> str:
    cp = _require("get_device_name")
    index = backend.Device(device).index if device is not None else current_device()
    name = cp.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    _require("synchronize").cuda.Device(
        backend.Device(device or "cuda").index).synchronize()


def manual_seed(seed: int) -> None:
    """Seeds minidl's one generator (random numbers are drawn on the host, the same on CPU
    and GPU), so a CUDA seed and a CPU seed are one seed."""
    from ..creation import manual_seed as _seed
    _seed(seed)


manual_seed_all = manual_seed


def empty_cache() -> None:
    cp = backend._import_cupy()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()


def is_bf16_supported() -> bool:
    return False
