"""minidl.nn: Module, Parameter, layers, losses, containers, `init` and `functional`.

    import minidl.nn as nn
    import minidl.nn.functional as F
"""
from .parameter import Parameter
from .module import Module
from .container import Sequential, ModuleList, ModuleDict
from .linear import Identity, Linear, Flatten
from .conv import Conv2d
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .activation import ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax
from .normalization import BatchNorm1d, BatchNorm2d
from .dropout import Dropout
from .loss import CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss
from . import functional, init

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Linear", "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "BatchNorm1d",
           "BatchNorm2d", "Dropout", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "BCELoss", "BCEWithLogitsLoss", "functional", "init"]
