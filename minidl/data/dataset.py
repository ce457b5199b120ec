"""Map-style datasets: the `Dataset` protocol and the ways to combine and split datasets.

A dataset is anything with `__getitem__(i)` and `__len__()`. A dataset may also define
`get_batch(indices)`, returning a whole batch already collated (the DataLoader's fast path,
see `minidl.data.dataloader`); `TensorDataset`, `Subset` and the built-in image datasets do.
"""
from __future__ import annotations

import bisect
import math
from typing import Sequence

import numpy as np

from .. import creation
from ..backend import get_array_module, to_numpy
from ..tensor import Tensor


class Dataset:
    """Base class of map-style datasets (torch.utils.data.Dataset).

    Subclasses implement `__getitem__(index)` and `__len__()`. `a + b` concatenates.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


def _as_tensor(value) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(np.asarray(value), False, None, 0)


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors (torch.utils.data.TensorDataset).

    Parameters
    ----------
    *tensors : Tensor or array
        All with the same size in dimension 0. Arrays are wrapped as Tensors without a copy.

    Notes
    -----
    `dataset[i]` is a tuple of Tensors; `get_batch(indices)` indexes every tensor with the
    whole index array at once, so a DataLoader over a TensorDataset never stacks per item.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        self.tensors = tuple(_as_tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim > 0 else None for t in self.tensors]
        if any(s != sizes[0] for s in sizes) or sizes[0] is None:
            shapes = [tuple(t.shape) for t in self.tensors]
            raise ValueError(f"TensorDataset: size mismatch between tensors, every tensor "
                             f"needs the same size in dimension 0, got shapes {shapes}")

    def __getitem__(self, index) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: np.ndarray) -> list:
        """The samples at `indices`, collated: one Tensor per tensor, batch dim first."""
        idx = _index_for(indices, self.tensors[0].array)
        return [Tensor._wrap(t.array[idx], False, None, 0) for t in self.tensors]


def _index_for(indices: np.ndarray, array):
    """Move an index array to the array's device (CuPy arrays want CuPy indices)."""
    if isinstance(array, np.ndarray):
        return indices
    return get_array_module(array).asarray(indices)


class Subset(Dataset):
    """The samples of `dataset` at positions `indices` (torch.utils.data.Subset)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(to_numpy(indices), dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(self.indices[i])] for i in index]
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: np.ndarray):
        """The samples at `indices`, collated: the wrapped dataset's fast path if it has one."""
        positions = self.indices[indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(positions)
        from .dataloader import default_collate   # dataloader imports this module
        return default_collate([self.dataset[int(i)] for i in positions])


class ConcatDataset(Dataset):
    """Several datasets one after another (torch.utils.data.ConcatDataset)."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        if index < 0:
            index += n
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: "int | np.random.Generator | None" = None) -> list[Subset]:
    """Split a dataset into non-overlapping random subsets (torch.utils.data.random_split).

    Parameters
    ----------
    dataset : Dataset
    lengths : sequence of int or float
        Sizes summing to `len(dataset)`, or fractions summing to 1 (floors are taken and the
        remainder is given out one by one, round-robin, as PyTorch does).
    generator : int, numpy.random.Generator or None
        Source of the permutation: a seed, a Generator, or None for minidl's global
        generator (so `minidl.manual_seed` makes the split repeatable).

    Returns
    -------
    list of Subset
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        for frac in lengths:
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction {frac} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths {sum(lengths)} does not equal "
                         f"the length of the input dataset {n}")
    perm = resolve_generator(generator).permutation(n)
    offsets = np.cumsum([0] + list(lengths))
    return [Subset(dataset, perm[offsets[i]:offsets[i + 1]]) for i in range(len(lengths))]


def resolve_generator(generator) -> np.random.Generator:
    """A NumPy Generator from a seed, a Generator, or None (minidl's global generator)."""
    if generator is None:
        return creation.default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    from ..random import Generator
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be an int seed, a numpy.random.Generator or None, "
                    f"got {type(generator).__name__}")
