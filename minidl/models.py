"""The models that `minidl train` and the benchmarks use: SimpleCNN, MLP, LeNet-5.

`define_models(nn)` writes the classes against any `nn` namespace with PyTorch's API, so
`define_models(torch.nn)` gives PyTorch twins with exactly the same architecture (the
benchmarks and parity tests compare the two). `SimpleCNN`, `MLP` and `LeNet5` below are
the minidl versions.
"""
from __future__ import annotations

from types import SimpleNamespace


def define_models(nn) -> SimpleNamespace:
    """The model classes built on `nn` (minidl.nn or torch.nn)."""

    class SimpleCNN(nn.Module):
        """The seed CNN: two conv-relu-maxpool blocks and two linear layers.

        Its first Linear layer is sized from the input: 32 * (H // 4) * (W // 4).
        """

        def __init__(self, in_channels: int = 3, image_size: int = 28, num_classes: int = 10):
            super().__init__()
            # the arguments, so minidl.bridge can build the twin in the other library
            self.config = dict(in_channels=in_channels, image_size=image_size,
                               num_classes=num_classes)
            if image_size < 4:
                raise ValueError(f"SimpleCNN: images must be at least 4x4, got {image_size}")
            self.flat = 32 * (image_size // 4) ** 2
            self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1)
            self.relu1 = nn.ReLU()
            self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
            self.relu2 = nn.ReLU()
            self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
            self.fc1 = nn.Linear(self.flat, 128)
            self.relu3 = nn.ReLU()
            self.fc2 = nn.Linear(128, num_classes)

        def forward(self, x):
            x = self.pool1(self.relu1(self.conv1(x)))
            x = self.pool2(self.relu2(self.conv2(x)))
            x = x.view(-1, self.flat)
            x = self.relu3(self.fc1(x))
            return self.fc2(x)

    class MLP(nn.Module):
        """Flatten, Linear(in_features, hidden), ReLU, Linear(hidden, num_classes)."""

        def __init__(self, in_features: int = 784, hidden: int = 128, num_classes: int = 10):
            super().__init__()
            self.config = dict(in_features=in_features, hidden=hidden, num_classes=num_classes)
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(in_features, hidden)
            self.relu = nn.ReLU()
            self.fc2 = nn.Linear(hidden, num_classes)

        def forward(self, x):
            return self.fc2(self.relu(self.fc1(self.flatten(x))))

    class LeNet5(nn.Module):
        """LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling, as commonly trained today."""

        def __init__(self, in_channels: int = 1, image_size: int = 28, num_classes: int = 10):
            super().__init__()
            # the arguments, so minidl.bridge can build the twin in the other library
            self.config = dict(in_channels=in_channels, image_size=image_size,
                               num_classes=num_classes)
            side = (image_size // 2 - 4) // 2
            if side < 1:
                raise ValueError(f"LeNet5: images must be at least 12x12, got {image_size}x"
                                 f"{image_size}; use SimpleCNN or MLP for smaller images")
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten())
            self.classifier = nn.Sequential(
                nn.Linear(16 * side * side, 120), nn.ReLU(),
                nn.Linear(120, 84), nn.ReLU(),
                nn.Linear(84, num_classes))

        def forward(self, x):
            return self.classifier(self.features(x))

    return SimpleNamespace(SimpleCNN=SimpleCNN, MLP=MLP, LeNet5=LeNet5)


def _minidl_models() -> SimpleNamespace:
    from . import nn
    return define_models(nn)


_zoo = None


def __getattr__(name: str):
    global _zoo
    if name in ("SimpleCNN", "MLP", "LeNet5"):
        if _zoo is None:
            _zoo = _minidl_models()
        return getattr(_zoo, name)
    raise AttributeError(f"module 'minidl.models' has no attribute '{name}'")
