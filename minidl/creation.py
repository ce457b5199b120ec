"""Factory functions (zeros, ones, arange, rand, ...) and the random generator.

One NumPy Generator drives every random draw (initialisation, dropout, shuffling), so
`manual_seed(s)` makes a whole run repeatable. Draws happen on the host and move to the
requested device, so a seed gives the same numbers on CPU and GPU. The deterministic
factories (zeros, ones, full, eye, arange, linspace and their *_like) build their array
on the device itself: no host copy.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .tensor import Tensor, _infer_array

_generator = np.random.default_rng()


def manual_seed(seed: int) -> "np.random.Generator":
    """Seed the global generator (torch.manual_seed)."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> "np.random.Generator":
    """The global NumPy Generator (draw from it to stay inside manual_seed's reach)."""
    return _generator


def get_rng_state() -> dict:
    """The generator's state, for checkpoints (restored by set_rng_state)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise RuntimeError(f"factory: sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _make(array, dtype, device, requires_grad) -> Tensor:
    """A factory's tensor. `array` is an array (a host draw, moved to `device`) or a
    function of an array module that builds it where it will live (xp.zeros(shape))."""
    dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if device is None:
        device = backend.get_default_device()
    if callable(array):
        array = array(backend.array_module_for(device))
    array = array.astype(dtype, copy=False)
    if device is not None:
        array = backend.to_device(array, device)
    t = Tensor._wrap(array, False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data (torch.tensor)."""
    arr = _infer_array(data, dtype)
    if arr is (data.array if isinstance(data, Tensor) else data):
        arr = arr.copy()          # torch.tensor always copies
    if device is None:
        device = backend.get_default_device()     # set_default_device applies, as in PyTorch
    t = Tensor._wrap(backend.to_device(arr, device) if device is not None else arr,
                     False, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (torch.from_numpy)."""
    return Tensor._wrap(np.asarray(array), False, None, 0)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(lambda xp: xp.zeros(_size(size)), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(lambda xp: xp.ones(_size(size)), dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with fill_value; an int gives int64, a bool bool."""
    if not isinstance(fill_value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"full(): argument 'fill_value' must be a number, not "
                        f"{type(fill_value).__name__}")
    if dtype is None and isinstance(fill_value, (bool, int, np.integer)):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    return _make(lambda xp: xp.full(_size((size,)), fill_value), dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (torch.eye)."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    return _make(lambda xp: xp.eye(n, m), dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values in [start, end) by step; integer arguments give int64, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    if dtype is None and ints:
        dtype = np.int64
    return _make(lambda xp: xp.arange(start, end, step), dtype, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (torch.linspace)."""
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    return _make(lambda xp: xp.linspace(start, end, steps), dtype, device, requires_grad)


def _rng(generator) -> np.random.Generator:
    """The NumPy Generator to draw from: the global one, or that of `generator`."""
    if generator is None:
        return _generator
    from .random import draw
    return draw(generator)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1) from the global generator (or `generator`)."""
    return _make(_rng(generator).random(_size(size)), dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal from the global generator (or `generator`)."""
    return _make(_rng(generator).standard_normal(_size(size)), dtype, device, requires_grad)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers in [low, high): randint(high, size) or randint(low, high, size), as torch."""
    if isinstance(high, (tuple, list)):      # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    return _make(_rng(generator).integers(low, high, _size((size,))), dtype or np.int64,
                 device, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    return _make(_rng(generator).permutation(n), dtype or np.int64, device, requires_grad)


def _like(x: Tensor, array, dtype, requires_grad) -> Tensor:
    return _make(array, dtype or x.dtype, x.device, requires_grad)


def zeros_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, lambda xp: xp.zeros(x.shape), dtype, requires_grad)


def ones_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, lambda xp: xp.ones(x.shape), dtype, requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, lambda xp: xp.full(x.shape, fill_value), dtype, requires_grad)


def rand_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, _generator.random(x.shape), dtype, requires_grad)


def randn_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, _generator.standard_normal(x.shape), dtype, requires_grad)
