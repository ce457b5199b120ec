"""`torch.utils.data.sampler` under its PyTorch name."""
from ...data.dataloader import (RandomSampler, Sampler, SequentialSampler,  # noqa: F401
                                SubsetRandomSampler)
