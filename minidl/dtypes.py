"""dtype objects as PyTorch has them: `minidl.float32` prints `torch.float32`.

A minidl dtype wraps a NumPy dtype. NumPy reads any object with a `.dtype` attribute as
that dtype, so `np.zeros(3, dtype=minidl.float32)` and `arr.astype(x.dtype)` work, and a
minidl dtype compares (and hashes) equal to its NumPy dtype, so `x.dtype == np.float32`
holds too. There is one object per dtype: `x.dtype is minidl.float32`, as in PyTorch.

It prints with PyTorch's module name because a swapped program prints what the PyTorch
program prints (`print(x.dtype)` gives `torch.float32` on both).
"""
from __future__ import annotations

import builtins      # this module names dtypes float, int and bool, as torch does

import numpy as np


class dtype:                                    # noqa: N801 (torch.dtype)
    """A tensor element type: float32, float64, int64, bool, ..."""

    __slots__ = ("dtype", "_torch_name")

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create minidl.dtype instances; use minidl.float32 and friends")

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "fic"

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __getattr__(self, name):
        # kind, char, name, type...: what NumPy's dtype answers, for code written for NumPy
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "dtype"), name)

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"torch.{self._torch_name}"

    def __reduce__(self):
        return dtype_of, (self.dtype.str,)

    def to_complex(self) -> "dtype":
        return dtype_of({"f4": "c8", "f8": "c16", "f2": "c8"}.get(self.dtype.str[1:], "c8"))

    def to_real(self) -> "dtype":
        return dtype_of({"c8": "f4", "c16": "f8"}.get(self.dtype.str[1:], self.dtype))


# PyTorch's name for each NumPy dtype
_TORCH_NAMES = {"float16": "float16", "float32": "float32", "float64": "float64",
                "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
                "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
                "bool": "bool", "complex64": "complex64", "complex128": "complex128"}
_BY_NUMPY: dict = {}


def dtype_of(np_dtype) -> dtype:
    """The one minidl dtype for a NumPy dtype (or anything NumPy reads as one)."""
    try:
        return _BY_NUMPY[np_dtype]
    except (KeyError, TypeError):
        pass
    key = np.dtype(np_dtype)
    found = _BY_NUMPY.get(key)
    if found is None:
        found = object.__new__(dtype)
        found.dtype = key
        found._torch_name = _TORCH_NAMES.get(key.name, key.name)
        _BY_NUMPY[key] = found
    return found


float16 = half = dtype_of("float16")
float32 = float = dtype_of("float32")            # noqa: A001 (torch.float)
float64 = double = dtype_of("float64")
int8 = dtype_of("int8")
int16 = short = dtype_of("int16")
int32 = int = dtype_of("int32")                  # noqa: A001 (torch.int)
int64 = long = dtype_of("int64")
uint8 = dtype_of("uint8")
uint16 = dtype_of("uint16")
uint32 = dtype_of("uint32")
uint64 = dtype_of("uint64")
bool = dtype_of("bool")                          # noqa: A001 (torch.bool)
complex64 = cfloat = dtype_of("complex64")
complex128 = cdouble = dtype_of("complex128")


class finfo:                                     # noqa: N801 (torch.finfo)
    """Machine limits of a floating dtype (torch.finfo): eps, max, min, tiny, bits..."""

    def __init__(self, type=None):               # noqa: A002 (PyTorch's name)
        from . import backend
        info = np.finfo(np.dtype(type if type is not None else backend.get_default_dtype()))
        self.bits, self.eps, self.max, self.min = info.bits, builtins.float(info.eps), \
            builtins.float(info.max), builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.tiny)
        self.resolution, self.dtype = builtins.float(info.resolution), str(info.dtype)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:                                     # noqa: N801 (torch.iinfo)
    """Limits of an integer dtype (torch.iinfo): bits, min, max."""

    def __init__(self, type):                    # noqa: A002
        info = np.iinfo(np.dtype(type))
        self.bits, self.min, self.max, self.dtype = info.bits, builtins.int(info.min), \
            builtins.int(info.max), str(info.dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


class Size(tuple):
    """A tensor's shape (torch.Size): a tuple of ints that prints as torch.Size([2, 3])."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __reduce__(self):
        return Size, (tuple(self),)
