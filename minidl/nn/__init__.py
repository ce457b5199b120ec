"""minidl.nn: Module, Parameter, layers, losses, containers, `init` and `functional`.

    import minidl.nn as nn
    import minidl.nn.functional as F
"""
from .parameter import Parameter
from .module import Module
from .container import Sequential, ModuleList, ModuleDict
from .linear import Identity, Linear, Flatten
from .conv import Conv2d
from .conv2 import Conv1d, ConvTranspose1d, ConvTranspose2d
from .layers3 import (GroupNorm, InstanceNorm1d, InstanceNorm2d, PReLU, Dropout1d, Dropout2d,
                      Threshold, Softmin, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ZeroPad1d, ZeroPad2d, ZeroPad3d, ReflectionPad1d, ReflectionPad2d,
                      ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                      CircularPad1d, CircularPad2d, CircularPad3d)
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .activation import ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax
from .normalization import BatchNorm1d, BatchNorm2d
from .dropout import Dropout
from .sparse import Embedding
from .layers2 import (LayerNorm, GELU, SiLU, ELU, CELU, SELU, Softplus, Mish, Hardtanh, ReLU6,
                      Hardsigmoid, Hardswish, LogSigmoid, Softsign, GLU, CosineSimilarity,
                      PairwiseDistance, Unflatten, SmoothL1Loss, HuberLoss, KLDivLoss)
from .rnn import RNNCellBase, RNNCell, LSTMCell, GRUCell, RNNBase, RNN, LSTM, GRU
from .attention import MultiheadAttention
from .transformer import (Transformer, TransformerEncoder, TransformerEncoderLayer,
                          TransformerDecoder, TransformerDecoderLayer)
from .loss import CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss
from . import functional, init, utils

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Linear", "Flatten", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "BatchNorm1d",
           "BatchNorm2d", "Dropout", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "BCELoss", "BCEWithLogitsLoss", "functional", "init", "utils", "Embedding",
           "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNN", "LSTM", "GRU",
           "LayerNorm", "GELU", "SiLU", "ELU", "CELU", "SELU", "Softplus", "Mish", "Hardtanh",
           "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign", "GLU",
           "CosineSimilarity", "PairwiseDistance", "Unflatten", "SmoothL1Loss", "HuberLoss",
           "KLDivLoss"]
__all__ += ["MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
            "TransformerDecoder", "TransformerDecoderLayer"]
__all__ += ["Conv1d", "ConvTranspose1d", "ConvTranspose2d", "GroupNorm", "InstanceNorm1d",
            "InstanceNorm2d", "PReLU", "Dropout1d", "Dropout2d", "Threshold", "Softmin",
            "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
            "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
            "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
            "CircularPad2d", "CircularPad3d"]
from .upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: E402
__all__ += ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
from . import modules  # noqa: E402  (torch.nn.modules.<file>.<Class> paths)
