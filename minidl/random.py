"""Random generators: `minidl.Generator` (PyTorch's object), and `multinomial`.

minidl draws every random number from a NumPy Generator (PCG64), not from PyTorch's
Mersenne Twister, so a seed gives other numbers than in PyTorch, but the same numbers
run after run. A `minidl.Generator` owns one; `generator=None` means the global one that
`minidl.manual_seed` seeds.
"""
from __future__ import annotations

import numpy as np

from . import backend, creation


class Generator:
    """A random number generator of its own (torch.Generator): pass it as `generator=` to
    rand/randn/randint/randperm/multinomial, the in-place fills, nn.init, DataLoader and
    random_split."""

    def __init__(self, device="cpu"):
        self.device = backend.Device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % (2 ** 63)))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self._rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"<minidl.Generator object on {self.device}>"


def draw(generator=None) -> np.random.Generator:
    """The NumPy Generator behind `generator`: a minidl Generator's, a NumPy Generator
    itself, or (None) the global one."""
    if generator is None:
        return creation.default_generator()
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a minidl.Generator (or a numpy.random.Generator), got "
                    f"{type(generator).__name__}")


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None):
    """Indices drawn from the rows of `input` (non-negative weights, normalised per row)."""
    from .tensor import Tensor
    probs = backend.to_numpy(input.array).astype(np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {probs.ndim}")
    rows = probs.reshape(-1, probs.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if (rows.sum(1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) "
                           f"samples without replacement ({num_samples} > {rows.shape[1]})")
    if not replacement and num_samples > (rows > 0).sum(1).min():
        raise RuntimeError("multinomial: invalid multinomial distribution (with replacement="
                           "False, not enough non-negative category to sample)")
    rng = draw(generator)
    out = np.stack([rng.choice(rows.shape[1], num_samples, replace=replacement,
                               p=r / r.sum()) for r in rows]).astype(np.int64)
    out = out.reshape(probs.shape[:-1] + (num_samples,))
    return Tensor._wrap(backend.to_device(out, input.device), False, None, 0)


def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (or p), else 0, in input's dtype."""
    from .tensor import Tensor
    prob = backend.to_numpy(input.array) if p is None else p
    values = (draw(generator).random(input.shape) < prob).astype(input.array.dtype)
    return Tensor._wrap(backend.to_device(values, input.device), False, None, 0)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    """Normal draws: torch.normal(mean, std, size) with numbers, or elementwise with
    tensors of means and/or standard deviations."""
    from .tensor import Tensor
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    shape = tuple(size) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    values = draw(generator).normal(backend.to_numpy(m), backend.to_numpy(s), shape)
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    dtype = dtype or (like.array.dtype if like is not None else backend.get_default_dtype())
    return Tensor._wrap(values.astype(np.dtype(dtype)), False, None, 0)
