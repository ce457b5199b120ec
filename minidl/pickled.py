"""save / load of whole objects (a model, a tensor, a list): pickle, behind an allowlist.

`save` writes a state dict as safetensors (minidl/serialization.py), where nothing is code.
A whole module or any other object needs pickle, as torch.save(model) does. Unpickling runs
code named by the file, so `load` follows PyTorch (2.6 and later): with weights_only=True,
the default, it rebuilds only tensors, arrays, dtypes, numbers, strings and containers, and
a class of the user's own only once they have allowed it (`add_safe_globals([Net])` or
`with safe_globals([Net]):`); weights_only=False unpickles anything, for trusted files.

The file is MAGIC followed by one pickle. Tensors pickle as (class, NumPy array,
requires_grad), from the host; `map_location` places them on load. The format is minidl's
own: PyTorch's zip archives are not read (a clear error says so), nor written.
"""
from __future__ import annotations

import contextlib
import io
import pickle

MAGIC = b"MINIDL-PICKLE\x00\x01\x00"      # name, a NUL, format version 1
_PROTOCOL = 4

# (module, name) pairs that weights_only=True rebuilds: minidl's tensors and dtypes, NumPy's
# arrays and scalars, and harmless builtins
_ALLOWED = {
    ("minidl.tensor", "_rebuild_tensor"), ("minidl.tensor", "Tensor"),
    ("minidl.nn.parameter", "Parameter"), ("minidl.dtypes", "dtype_of"),
    ("minidl.dtypes", "Size"), ("collections", "OrderedDict"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    # the activation functions a Transformer layer keeps as an attribute
    ("minidl.ops.activation", "relu"), ("minidl.ops.activation2", "gelu"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
    ("builtins", "complex"), ("builtins", "range"), ("builtins", "bytearray"),
}
_user_globals: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Let weights_only loads rebuild these classes and functions (torch.serialization's)."""
    _user_globals.extend(safe_globals)


def get_safe_globals() -> list:
    """The classes and functions added with add_safe_globals."""
    return list(_user_globals)


def clear_safe_globals() -> None:
    """Forget every class and function added with add_safe_globals."""
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """Within the block, weights_only loads may also rebuild these (torch.serialization's)."""
    before = list(_user_globals)
    _user_globals.extend(safe_globals)
    try:
        yield
    finally:
        _user_globals[:] = before


def _qualified(obj) -> tuple:
    return getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)


def dumps(obj) -> bytes:
    """MAGIC and the pickle of obj."""
    try:
        return MAGIC + pickle.dumps(obj, protocol=_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as err:
        raise TypeError(f"save: cannot pickle {type(obj).__name__}: {err} (a lambda, a "
                        "local class or an open file inside it? save the state_dict() "
                        "instead)") from None


class _Unpickler(pickle._Unpickler):     # Python's: it reads no more than the file holds
    # (the C unpickler allocates what a corrupted length field announces; see
    # data/formats.py's _RestrictedUnpickler)
    def __init__(self, file, name: str, weights_only: bool, map_location):
        super().__init__(file)
        self.name, self.weights_only, self.map_location = name, weights_only, map_location

    def find_class(self, module, name):
        if (module, name) == ("minidl.tensor", "_rebuild_tensor") and self.map_location:
            from .tensor import _rebuild_tensor
            place = self.map_location
            return lambda cls, array, rg: _rebuild_tensor(cls, array, rg, device=place)
        if not self.weights_only or (module, name) in _ALLOWED:
            return super().find_class(module, name)
        for allowed in _user_globals:
            if _qualified(allowed) == (module, name):
                return allowed
        raise pickle.UnpicklingError(
            f"load: {self.name}: Weights only load failed. In minidl, as in PyTorch 2.6 and "
            f"later, weights_only defaults to True; re-running with weights_only=False will "
            f"likely succeed, but it can run arbitrary code: do it only if you trust the "
            f"file. Unsupported global: GLOBAL {module}.{name} was not an allowed global by "
            f"default. Please use `minidl.serialization.add_safe_globals([{name}])` or the "
            f"`minidl.serialization.safe_globals([{name}])` context manager to allowlist it "
            f"if you trust this class/function. A model saved as its state_dict() loads "
            f"without running any code: save model.state_dict(), then "
            f"model.load_state_dict(minidl.load(path)).")


def loads(raw: bytes, name: str, weights_only: bool, map_location=None):
    """The object pickled after MAGIC in raw."""
    body = io.BytesIO(raw[len(MAGIC):])
    try:
        return _Unpickler(body, name, weights_only, map_location).load()
    except pickle.UnpicklingError as err:
        if str(err).startswith("load:"):        # our refusal of a global: as it is
            raise
        raise ValueError(f"load: {name}: a truncated or corrupt minidl pickle ({err})") from None
    except Exception as err:    # whatever a cut or flipped byte makes pickle raise
        # (EOFError, OverflowError on a huge FRAME length, TypeError, MemoryError, ...)
        raise ValueError(f"load: {name}: a truncated or corrupt minidl pickle "
                         f"({type(err).__name__}: {err})") from None
