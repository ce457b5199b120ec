"""DistributedSampler: each rank's disjoint share of an epoch (PyTorch's signature)."""
from __future__ import annotations

import math

import numpy as np

from ..data.dataloader import _ArraySampler


class DistributedSampler(_ArraySampler):
    """The indices of rank `rank` of `num_replicas` for this epoch
    (torch.utils.data.distributed.DistributedSampler).

    Every rank draws the same permutation (from `seed + epoch`; call `set_epoch` at each
    epoch's start for a new one), pads it by repeating its start so that it divides evenly
    (or, with drop_last, cuts the tail), and takes every num_replicas-th index from `rank`
    on: the shares are disjoint and every rank gets `num_samples` indices, so all ranks run
    the same number of batches. The permutation is minidl's (NumPy's PCG64), not PyTorch's.
    num_replicas and rank default to the process group's.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from . import get_rank, get_world_size
            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Shuffle differently in epoch `epoch` (the same on every rank)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def epoch_indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.Generator(np.random.PCG64(self.seed + self.epoch)).permutation(n)
        else:
            indices = np.arange(n)
        if not self.drop_last:
            padding = self.total_size - n
            if padding:
                indices = np.concatenate([indices, np.resize(indices, padding)])
        else:
            indices = indices[:self.total_size]
        return indices[self.rank:self.total_size:self.num_replicas].astype(np.int64)
