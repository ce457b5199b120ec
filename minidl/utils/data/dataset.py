"""`torch.utils.data.dataset` under its PyTorch name."""
from ...data.dataset import (ConcatDataset, Dataset, Subset, TensorDataset,  # noqa: F401
                             random_split)
