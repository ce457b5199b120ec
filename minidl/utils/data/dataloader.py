"""`torch.utils.data.dataloader` under its PyTorch name."""
from ...data.dataloader import DataLoader, default_collate  # noqa: F401
