"""Data loading: datasets, the DataLoader, transforms (also importable as minidl.utils.data).

    from minidl.data import DataLoader
    from minidl.data.datasets import MNIST
    from minidl.data import transforms as T

    train = MNIST("data/mnist", train=True)                  # (1, 28, 28) float32, int label
    loader = DataLoader(train, batch_size=64, shuffle=True)  # [images (64,1,28,28), labels]
"""
from . import datasets, download, transforms
from .dataloader import (DataLoader, RandomSampler, Sampler, SequentialSampler,
                         SubsetRandomSampler, default_collate)
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import CIFAR10, MNIST, Digits, FashionMNIST

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "default_collate", "MNIST", "FashionMNIST", "CIFAR10", "Digits", "datasets",
           "download", "transforms"]
