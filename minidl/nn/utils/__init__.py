"""`torch.nn.utils`: gradient clipping, parameter vectors, `rnn` (packed sequences); and the
helpers the nn modules share (argument pairs, repr indentation, hook handles, the result
type of load_state_dict)."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import backend
from ...tensor import Tensor


def _pair(v) -> tuple:
    """An int or a pair -> a pair (torch.nn.modules.utils._pair)."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"expected an int or a pair of ints, got {tuple(v)}")
        return tuple(v)
    return (v, v)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: (missing_keys, unexpected_keys)."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the register_*_hook methods; `.remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _addindent(s: str, num_spaces: int) -> str:
    """Indent every line but the first (PyTorch's repr helper)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    rest = [(num_spaces * " ") + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def _typename(value) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _as_array(value):
    """The array behind a state-dict entry: a Tensor, a NumPy/CuPy array, a number, or any
    object with `__array__` (a torch tensor on the CPU)."""
    if isinstance(value, Tensor):
        return value.array
    if backend.get_array_module(value) is not np:
        return value
    return np.asarray(value)


# the public torch.nn.utils API (imported last: these modules import Tensor ops)
from .clip_grad import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,  # noqa: E402
                        get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: E402
from . import rnn  # noqa: E402
