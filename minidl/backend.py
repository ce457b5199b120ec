"""Array modules and devices: the one place that knows about NumPy versus CuPy.

Everything above this module asks `get_array_module(array)` for `xp` and writes
`xp.exp(x)`, so the same line runs on a CPU array (NumPy) or a GPU array (CuPy).
CuPy is imported lazily, the first time a GPU is asked for, and never at import.
"""
from __future__ import annotations

import numpy as np

_cupy = None          # the cupy module once imported, False when unavailable
_default_dtype = np.dtype(np.float32)


def _import_cupy():
    """Import CuPy on first use; return the module or None."""
    global _cupy
    if _cupy is None:
        try:
            import cupy  # the only CuPy import in minidl

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # not installed, or no driver / no device
            _cupy = False
    return _cupy or None


def install_array_module(module) -> None:
    """Use `module` as CuPy (a CuPy-shaped test double such as
    minidl.testing.device_double), or None to go back to looking for the real one."""
    global _cupy
    _cupy = module


def has_cupy() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _import_cupy() is not None


def get_array_module(*arrays):
    """Return `cupy` if any argument is a CuPy array, else `numpy`."""
    if _cupy:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def to_numpy(array) -> np.ndarray:
    """Copy a CuPy array to the host; NumPy arrays and scalars pass through."""
    if _cupy and isinstance(array, _cupy.ndarray):
        return array.get()
    return np.asarray(array)


class Device:
    """A device as PyTorch names it: `Device('cpu')`, `Device('cuda:0')`."""

    __slots__ = ("type", "index")

    def __init__(self, spec: "str | Device" = "cpu", index: int | None = None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index
        kind, _, num = str(spec).partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device "
                               f"string: {spec}")
        if num:
            index = int(num)
        if kind == "cuda" and index is None:
            index = 0
        self.type = kind
        self.index = index if kind == "cuda" else None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            "" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")


def device_of(array) -> Device:
    """The Device an array lives on."""
    if _cupy and isinstance(array, _cupy.ndarray):
        return Device("cuda", array.device.id)
    return CPU


def to_device(array, device: "str | Device"):
    """Move an array to `device`, copying only when it changes place."""
    device = Device(device)
    if device.type == "cpu":
        return to_numpy(array)
    cp = _import_cupy()
    if cp is None:
        raise RuntimeError(f"cannot move a tensor to {device}: CuPy with a CUDA device is "
                           "required (pip install cupy-cuda12x)")
    with cp.cuda.Device(device.index):
        return cp.asarray(array)


def array_module_for(device):
    """The array module that builds arrays on `device` (None: the CPU): numpy or cupy."""
    if device is None or Device(device).type == "cpu":
        return np
    cp = _import_cupy()
    if cp is None:
        raise RuntimeError(f"cannot create a tensor on {Device(device)}: "
                           f"{cuda_unavailable_reason()}")
    return cp


def get_default_dtype() -> np.dtype:
    """The floating dtype that factories and Python floats use (float32 unless set)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype: float32, float64 or float16, as in PyTorch."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {dtype}")
    _default_dtype = dtype


_default_device = None     # None: the CPU (set_default_device)


def get_default_device() -> "Device | None":
    """The device that factories use when given none (None means the CPU)."""
    return _default_device


def set_default_device(device) -> None:
    """Make factories create tensors on `device` by default (torch.set_default_device).
    'cuda' needs CuPy and a CUDA device, and says which is missing."""
    global _default_device
    if device is None:
        _default_device = None
        return
    device = Device(device)
    if device.type == "cuda" and _import_cupy() is None:
        raise RuntimeError(f"set_default_device: cannot use {device}: "
                           f"{cuda_unavailable_reason()}")
    _default_device = None if device.type == "cpu" else device


def cuda_unavailable_reason() -> str:
    """Why there is no CUDA device: CuPy missing, or no device/driver."""
    try:
        import cupy  # noqa: F401
    except Exception:
        return "CuPy is not installed (pip install minidl[cuda12] or cupy-cuda12x)"
    return "CuPy is installed but finds no CUDA device (or no driver)"
