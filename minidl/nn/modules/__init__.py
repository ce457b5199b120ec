"""PyTorch's `torch.nn.modules` path, for programs that import from it or name classes by
it (`torch.nn.modules.dropout.Dropout` in a safe_globals list): the same objects as
`minidl.nn`, laid out in PyTorch's files."""
import sys
import types

from . import module
from .module import Module
from .. import (activation as _activation_module, attention as _attention, container as _c,
                conv as _conv, conv2 as _conv2, dropout as _dropout, layers2 as _layers2,
                layers3 as _layers3, linear as _linear, loss as _loss,
                normalization as _normalization, pooling as _pooling, rnn as _rnn,
                sparse as _sparse, transformer as _transformer,
                upsampling as _upsampling)


def _file(name: str, *sources, names=None) -> types.ModuleType:
    """torch.nn.modules.<name>: the public classes of `sources` (or just `names`)."""
    m = types.ModuleType(f"{__name__}.{name}")
    for src in sources:
        for key, value in vars(src).items():
            if isinstance(value, type) and not key.startswith("_") and (
                    names is None or key in names):
                setattr(m, key, value)
    sys.modules[m.__name__] = m
    return m


linear = _file("linear", _linear, _attention,
               names={"Linear", "Identity", "Bilinear", "LazyLinear",
                      "NonDynamicallyQuantizableLinear"})
dropout = _file("dropout", _dropout, _layers3, names={"Dropout", "Dropout1d", "Dropout2d",
                                                      "AlphaDropout"})
normalization = _file("normalization", _layers2, _layers3,
                      names={"LayerNorm", "GroupNorm", "RMSNorm"})
batchnorm = _file("batchnorm", _normalization, names={"BatchNorm1d", "BatchNorm2d"})
instancenorm = _file("instancenorm", _layers3, names={"InstanceNorm1d", "InstanceNorm2d"})
sparse = _file("sparse", _sparse)
rnn = _file("rnn", _rnn)
conv = _file("conv", _conv, _conv2)
pooling = _file("pooling", _pooling)
loss = _file("loss", _loss, _layers2, names=None)
container = _file("container", _c)
activation = _file("activation", _activation_module, _layers2, _layers3, _attention)
transformer = _file("transformer", _transformer)
upsampling = _file("upsampling", _upsampling)
