"""The legacy typed constructors (torch.FloatTensor, torch.LongTensor, ...) and
`autograd.Variable`, still common in older tutorials.

`torch.LongTensor([1, 2])` builds from data; `torch.FloatTensor(2, 3)` from sizes (PyTorch
leaves the values uninitialised; minidl gives zeros)."""
from __future__ import annotations

import numpy as np


def _typed(dtype, name: str):
    def build(*args, device=None):
        from .creation import tensor, zeros
        from .tensor import Tensor
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Tensor):
                return data.to(dtype)
            return tensor(data, dtype=dtype, device=device)
        return zeros(*args, dtype=dtype, device=device)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"A {np.dtype(dtype).name} tensor from data or sizes (torch.{name})."
    return build


FloatTensor = _typed(np.float32, "FloatTensor")
DoubleTensor = _typed(np.float64, "DoubleTensor")
HalfTensor = _typed(np.float16, "HalfTensor")
LongTensor = _typed(np.int64, "LongTensor")
IntTensor = _typed(np.int32, "IntTensor")
ShortTensor = _typed(np.int16, "ShortTensor")
CharTensor = _typed(np.int8, "CharTensor")
ByteTensor = _typed(np.uint8, "ByteTensor")
BoolTensor = _typed(np.bool_, "BoolTensor")


def Variable(data, requires_grad: bool = False, volatile: bool = False):
    """The pre-0.4 wrapper: today a Variable is a Tensor (torch.autograd.Variable)."""
    from .tensor import Tensor   # legacy is imported by autograd, before Tensor exists
    t = data if isinstance(data, Tensor) else Tensor(data)
    if requires_grad and not t.requires_grad:
        t.requires_grad_(True)
    return t
