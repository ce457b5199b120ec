"""PyTorch's `torch.utils` namespace: `minidl.utils.data` is `minidl.data`."""
from . import data

__all__ = ["data"]
