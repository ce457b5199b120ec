"""DataLoader, samplers and default_collate: from a dataset to an iterable of batches.

How a DataLoader makes one epoch:

1. `iter(loader)` asks the sampler for the epoch's order of sample indices, once, at the
   call: `SequentialSampler` gives 0..n-1, `RandomSampler` draws one permutation
   `generator.permutation(n)` from its NumPy Generator (nothing else is drawn).
2. The order is cut into batches of `batch_size` (the last one shorter unless `drop_last`).
3. Each batch is built by one of two paths:
   - fast path: the collate function is the default one and the dataset has
     `get_batch(indices)`; the dataset indexes its whole arrays with the batch's index
     array at once (`TensorDataset`, `Subset` of one, MNIST, Fashion-MNIST, CIFAR-10, Digits);
   - general path: `collate_fn([dataset[i] for i in batch_indices])`.
   Both give the same batches; the fast path only skips building and stacking items.

Resuming mid-epoch (for a training CLI's `--resume`): `loader.state_dict()` holds the
current epoch's index order and how many batches were handed out; after
`loader.load_state_dict(state)` the next `iter(loader)` replays that order from the next
batch instead of drawing a new one. See `DataLoader.state_dict`.
"""
from __future__ import annotations

import collections.abc
import math
from typing import Callable, Iterator

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor
from .dataset import resolve_generator


class Sampler:
    """Base class of index samplers (torch.utils.data.Sampler).

    A subclass implements `__iter__` (the indices of one epoch) and `__len__`. minidl's own
    samplers also have `epoch_indices()`, the whole epoch's order as an int64 array, which
    the DataLoader uses instead of iterating when a sampler has it.
    """

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class _ArraySampler(Sampler):
    """A sampler whose epoch is computed as one array by `epoch_indices()`."""

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def epoch_indices(self) -> np.ndarray:
        raise NotImplementedError


class SequentialSampler(_ArraySampler):
    """Indices 0, 1, ..., len(data_source) - 1 (torch.utils.data.SequentialSampler)."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """A fresh random order every epoch (torch.utils.data.RandomSampler).

    Parameters
    ----------
    data_source : Dataset
    replacement : bool
        Draw `num_samples` indices with replacement (`generator.integers`) instead of a
        permutation (`generator.permutation(n)`).
    num_samples : int, optional
        Samples per epoch; only with `replacement=True` (default len(data_source)).
    generator : int, numpy.random.Generator or None
        A seed (the sampler makes its own Generator once, so each epoch continues its
        stream), a Generator, or None: draw from `minidl.creation.default_generator()` at
        each epoch, so `minidl.manual_seed` makes shuffling repeatable.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        if num_samples is not None and not replacement:
            raise ValueError("RandomSampler: num_samples is only supported with "
                             "replacement=True (without it every index appears once)")
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, "
                             f"got {num_samples}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = None if generator is None else resolve_generator(generator)

    def epoch_indices(self) -> np.ndarray:
        gen = resolve_generator(self.generator)
        n = len(self.data_source)
        if self.replacement:
            return gen.integers(0, n, size=len(self), dtype=np.int64)
        return gen.permutation(n).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given indices in a random order each epoch (torch.utils.data.SubsetRandomSampler)."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = None if generator is None else resolve_generator(generator)

    def epoch_indices(self) -> np.ndarray:
        return self.indices[resolve_generator(self.generator).permutation(len(self.indices))]

    def __len__(self) -> int:
        return len(self.indices)


def _wrap(array) -> Tensor:
    return Tensor._wrap(array, False, None, 0)


def default_collate(batch: list):
    """Merge a list of samples into a batch (torch.utils.data.default_collate).

    Tensors and NumPy arrays are stacked along a new first dim (arrays keep their dtype);
    Python ints become int64, bools bool, and NumPy scalars keep their dtype; strings and
    bytes stay a list. Dicts, named tuples, tuples and lists are collated field by field
    (a tuple gives a list, as in PyTorch). The result holds minidl Tensors.

    Notes
    -----
    Python floats give float32 (minidl's default dtype, as `minidl.tensor(1.0)`), where
    PyTorch's default_collate gives float64.
    """
    if not isinstance(batch, collections.abc.Sequence) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got "
                        f"{type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor) or isinstance(elem, np.ndarray):
        arrays = [b.array if isinstance(b, Tensor) else b for b in batch]
        if arrays[0].dtype.kind in "OUSV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found array of dtype {arrays[0].dtype}")
        for i, a in enumerate(arrays):
            if a.shape != arrays[0].shape:
                raise RuntimeError(f"default_collate: stack expects each tensor to be equal "
                                   f"size, but got {tuple(arrays[0].shape)} at entry 0 and "
                                   f"{tuple(a.shape)} at entry {i}")
        return _wrap(get_array_module(arrays[0]).stack(arrays))
    if isinstance(elem, (np.bool_, np.number)):
        return _wrap(np.asarray(batch))
    if isinstance(elem, bool):
        return _wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _wrap(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


class DataLoader:
    """Iterate over a dataset in batches (torch.utils.data.DataLoader, in-process).

    Parameters
    ----------
    dataset : Dataset
        Anything with `__getitem__` and `__len__`.
    batch_size : int
        Samples per batch.
    shuffle : bool
        A new random order each epoch (a `RandomSampler`); exclusive with `sampler`.
    sampler : Sampler or iterable of int, optional
        The order of indices; by default sequential, or random with `shuffle=True`.
    drop_last : bool
        Drop the last batch if it has fewer than `batch_size` samples.
    collate_fn : callable, optional
        Merges a list of samples into a batch; `default_collate` when None.
    generator : int, numpy.random.Generator or None
        Shuffling's source of randomness: a seed (the loader builds its own Generator once,
        so re-iterating continues its stream), a Generator, or None to draw from
        `minidl.creation.default_generator()` at each `iter()`, so that
        `minidl.manual_seed(s)` makes the order repeatable.
    num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers :
        Accepted so that PyTorch scripts run, and ignored: batches are always built in the
        calling process.

    Notes
    -----
    Each `iter(loader)` draws exactly one permutation (with shuffling) at the call. Batches
    are lists/dicts/Tensors as `default_collate` builds them, on the CPU. When the dataset
    has `get_batch(indices)` and `collate_fn` is the default, a batch is made by indexing the
    dataset's arrays with the batch's index array (see the module docstring), which is what
    makes an MNIST epoch cost a few tens of milliseconds of loader time.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, sampler=None,
                 drop_last: bool = False, collate_fn: Callable | None = None, generator=None,
                 *, num_workers: int = 0, pin_memory: bool = False, timeout: float = 0,
                 worker_init_fn=None, prefetch_factor=None,
                 persistent_workers: bool = False) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = None if generator is None else resolve_generator(generator)
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=self.generator) if shuffle
                       else SequentialSampler(dataset))
        self.sampler = sampler
        self.num_workers = num_workers
        self._resume = None          # (indices, start batch) set by load_state_dict
        self._indices = None         # the current epoch's order
        self._batches_yielded = 0

    def __len__(self) -> int:
        return self._num_batches(len(self.sampler))

    def _num_batches(self, n: int) -> int:
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        """Fix this epoch's order now (one draw when shuffling) and yield its batches."""
        if self._resume is not None:
            indices, start = self._resume
            self._resume = None
        else:
            if hasattr(self.sampler, "epoch_indices"):
                indices = np.asarray(self.sampler.epoch_indices(), dtype=np.int64)
            else:
                indices = np.fromiter(iter(self.sampler), dtype=np.int64)
            start = 0
        self._indices, self._batches_yielded = indices, start
        return self._batches(indices, start)

    def _batches(self, indices: np.ndarray, start: int) -> Iterator:
        fast = self.collate_fn is default_collate and hasattr(self.dataset, "get_batch")
        bs = self.batch_size
        for b in range(start, self._num_batches(len(indices))):
            batch_indices = indices[b * bs:(b + 1) * bs]
            if fast:
                batch = self.dataset.get_batch(batch_indices)
            else:
                batch = self.collate_fn([self.dataset[int(i)] for i in batch_indices])
            if self._indices is indices:       # a newer iter() owns the state otherwise
                self._batches_yielded = b + 1
            yield batch

    def _own_generator(self) -> "np.random.Generator | None":
        """The Generator that shuffles, unless it is minidl's global one."""
        gen = getattr(self.sampler, "generator", None)
        return gen if isinstance(gen, np.random.Generator) else self.generator

    def state_dict(self) -> dict:
        """Where the current epoch stands, to resume it exactly (a training checkpoint).

        Returns
        -------
        dict
            `indices`: int64 array, this epoch's sample order (empty before the first
            `iter()`); `batches_yielded`: batches handed out so far in this epoch;
            `generator_state`: the loader's own Generator's `bit_generator.state` (a dict of
            ints and strings, JSON-serialisable) when it was given a `generator`, else None:
            then shuffling draws from the global generator, which the checkpoint saves with
            `minidl.get_rng_state()`.

        Notes
        -----
        Taken after k batches of an epoch, the state resumes at batch k+1 with the same
        order; the generator's state is the one after this epoch's draw, so later epochs
        draw the same permutations as an uninterrupted run.
        """
        indices = self._indices if self._indices is not None else np.zeros(0, np.int64)
        gen = self._own_generator()
        gen_state = gen.bit_generator.state if gen is not None else None
        return {"indices": indices.copy(), "batches_yielded": int(self._batches_yielded),
                "generator_state": gen_state}

    def load_state_dict(self, state: dict) -> None:
        """Make the next `iter()` continue the epoch recorded by `state_dict()`.

        The next `iter()` replays the saved order from batch `batches_yielded` without
        drawing; an epoch that had been completed is not replayed (the next `iter()` starts
        a new epoch). With `generator_state`, the loader's Generator is restored too.
        """
        indices = np.asarray(state["indices"], dtype=np.int64).reshape(-1)
        start = int(state["batches_yielded"])
        n = len(self.dataset)
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(f"DataLoader.load_state_dict: saved indices lie outside the "
                             f"dataset of length {n}")
        if start < 0:
            raise ValueError(f"DataLoader.load_state_dict: batches_yielded must be >= 0, "
                             f"got {start}")
        if state.get("generator_state") is not None:
            gen = self._own_generator()
            if gen is None:
                raise ValueError("DataLoader.load_state_dict: the state holds a generator "
                                 "state but this loader was built without a generator")
            gen.bit_generator.state = state["generator_state"]
        self._resume = (indices, start) if start < self._num_batches(len(indices)) else None
        self._indices, self._batches_yielded = indices, start


__all__ = ["Dataset", "DataLoader", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "default_collate"]
