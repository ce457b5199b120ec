"""`torch.utils.data` under its PyTorch name: the same objects as `minidl.data`.

    from minidl.utils.data import DataLoader, TensorDataset
"""
from ...data import (ConcatDataset, DataLoader, Dataset, RandomSampler, Sampler,
                    SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                    default_collate, random_split)

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "default_collate"]

from . import dataloader, dataset, sampler  # noqa: E402  (PyTorch's submodule paths)
