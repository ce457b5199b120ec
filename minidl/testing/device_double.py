"""A CuPy-shaped test double: "device" arrays that live in NumPy but, like CuPy's, refuse to
become NumPy arrays implicitly, so the test suite can run "on the GPU" on any machine and
catch every hidden host round trip and NumPy-only call.

    from minidl.testing import device_double
    with device_double.installed() as fake:      # minidl now sees it as CuPy
        x = minidl.randn(3, device="cuda")
        ...
        assert fake.transfers == {"to_device": 1, "to_host": 0}

What it does as CuPy does:
- `np.asarray(device_array)`, `np.array(...)`, and a NumPy array mixed into a ufunc with
  a device array raise TypeError ("Implicit conversion to a NumPy array is not allowed").
- NumPy ufuncs and functions on device arrays return device arrays (CuPy implements
  NumPy's __array_ufunc__ and __array_function__ protocols); `double.asarray(numpy_array)`
  copies to the device and `double.asnumpy(x)` / `x.get()` to the host, each counted in
  `transfers`; `.item()`, `float(x)` and printing are explicit reads, allowed as in CuPy.
- `double.cuda.runtime.getDeviceCount()` is 1 and `x.device.id` is 0.
It is not a GPU: there is no speed to measure, and the arithmetic is NumPy's.
"""
from __future__ import annotations

import contextlib
import types

import numpy as np

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
             "construct a NumPy array explicitly.")


def _unwrap(value, strict: bool):
    """DeviceArray -> its NumPy array, recursively in lists, tuples and dicts. A NumPy
    array among the arguments is a host array handed to the device: refused when strict."""
    if type(value) is DeviceArray:
        return value._a
    if isinstance(value, np.ndarray):
        if strict and value.ndim:                    # 0-d arrays act as scalars in CuPy
            raise TypeError(f"Unsupported type {type(value)} (a host array given to a device "
                            f"operation)")
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, strict) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v, strict) for k, v in value.items()}
    return value


def _wrap(value):
    if isinstance(value, np.ndarray):
        return DeviceArray(value)
    if isinstance(value, np.generic):     # CuPy's reductions give 0-d arrays, not scalars
        return DeviceArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class _DeviceId:
    id = 0


class DeviceArray:
    """A NumPy array "on the device"."""

    __slots__ = ("_a", "__weakref__")
    device = _DeviceId()

    def __init__(self, array: np.ndarray):
        self._a = array

    # ---- what CuPy refuses ----
    def __array__(self, *args, **kwargs):
        raise TypeError(_IMPLICIT)

    # ---- NumPy's protocols: computing on the device ----
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "at":                # (out, index, values): the index may be a host one
            out, index, *rest = inputs
            ufunc.at(_unwrap(out, True), _unwrap(index, False), *_unwrap(tuple(rest), True))
            return None
        raw = _unwrap(inputs, strict=True)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], strict=True)
        return _wrap(getattr(ufunc, method)(*raw, **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        return _wrap(func(*_unwrap(args, strict=True), **_unwrap(kwargs, strict=True)))

    # ---- the array's own surface ----
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: DeviceArray(self._a.T))
    real = property(lambda self: DeviceArray(self._a.real))
    imag = property(lambda self: DeviceArray(self._a.imag))

    @property
    def base(self):
        # the host memory behind it, for identity only (autograd.version keys its counts by
        # the owner of an array's memory): every device array over one buffer, views
        # included, then shares one owner, as CuPy views share their memory
        return self._a if self._a.base is None else self._a.base

    def __getattr__(self, name):       # methods: reshape, sum, astype, transpose, ...
        if name.startswith("__"):      # __array_interface__, __array_struct__: no host view
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            return _wrap(attr(*_unwrap(args, strict=True), **_unwrap(kwargs, strict=True)))
        return method

    def get(self) -> np.ndarray:
        _current.count("to_host")
        return self._a.copy()

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, strict=False)])

    def __setitem__(self, index, value):
        self._a[_unwrap(index, strict=False)] = _unwrap(value, strict=True)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __repr__(self):
        return "device_" + repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __dlpack__(self, *args, **kwargs):
        raise TypeError(_IMPLICIT)


def _operator(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                   ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
                   ("lshift", np.left_shift), ("rshift", np.right_shift)]:
    setattr(DeviceArray, f"__{_name}__", _operator(_uf))
    setattr(DeviceArray, f"__r{_name}__", _operator(_uf, reflected=True))

    def _inplace(self, other, _uf=_uf):
        _uf(self, other, out=self)
        return self
    setattr(DeviceArray, f"__i{_name}__", _inplace)
for _name, _uf in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(DeviceArray, f"__{_name}__", _operator(_uf))
DeviceArray.__neg__ = lambda self: np.negative(self)
DeviceArray.__pos__ = lambda self: np.positive(self)
DeviceArray.__abs__ = lambda self: np.absolute(self)
DeviceArray.__invert__ = lambda self: np.invert(self)
DeviceArray.__hash__ = None


class _Ufunc:
    """A NumPy ufunc seen from the double: calls and its methods (at, reduce, outer) go
    through the device arrays' __array_ufunc__."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):     # host arrays refused, as by CuPy's ufuncs
        return _wrap(self._ufunc(*_unwrap(args, strict=True), **_unwrap(kwargs, strict=True)))

    def __getattr__(self, name):
        return getattr(self._ufunc, name)


class _Namespace(types.SimpleNamespace):
    """numpy's functions (and submodules) as the double's: arguments unwrapped, results
    wrapped."""

    def __init__(self, module):
        super().__init__()
        object.__setattr__(self, "_module", module)

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if isinstance(attr, types.ModuleType):
            return _Namespace(attr)
        if isinstance(attr, np.ufunc):
            return _Ufunc(attr)
        if isinstance(attr, type) or not callable(attr):
            return attr                    # dtypes, constants (np.float32, np.pi, np.newaxis)

        def function(*args, **kwargs):
            return _wrap(attr(*_unwrap(args, strict=True), **_unwrap(kwargs, strict=True)))
        function.__name__ = name
        return function


class DeviceDouble(_Namespace):
    """The CuPy-shaped module: `ndarray`, `asarray`, `asnumpy`, `cuda`, and NumPy's
    functions on device arrays. `transfers` counts the copies each way."""

    def __init__(self):
        super().__init__(np)
        object.__setattr__(self, "ndarray", DeviceArray)
        object.__setattr__(self, "transfers", {"to_device": 0, "to_host": 0})
        runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)
        object.__setattr__(self, "cuda", types.SimpleNamespace(
            runtime=runtime, Device=lambda index=0: contextlib.nullcontext(),
            get_device_id=lambda: 0))

    def count(self, direction: str) -> None:
        self.transfers[direction] += 1

    def asarray(self, a, dtype=None):
        if type(a) is DeviceArray:
            return a if dtype is None or a.dtype == dtype else DeviceArray(a._a.astype(dtype))
        self.count("to_device")
        return DeviceArray(np.array(_unwrap(a, strict=False), dtype=dtype, copy=True))

    def array(self, a, dtype=None, copy=True):
        if type(a) is DeviceArray:          # a copy on the device: no transfer
            return DeviceArray(np.array(a._a, dtype=dtype, copy=copy))
        return self.asarray(a, dtype)

    def asnumpy(self, a):
        if type(a) is DeviceArray:
            return a.get()
        return np.asarray(a)

    def get_array_module(self, *arrays):
        return self if any(type(a) is DeviceArray for a in arrays) else np


_current = DeviceDouble()


@contextlib.contextmanager
def installed():
    """Make minidl see the double as CuPy inside the block (backend.install_array_module);
    yields the double, with fresh transfer counts."""
    from .. import backend
    double = DeviceDouble()
    global _current
    previous, _current = _current, double
    backend.install_array_module(double)
    try:
        yield double
    finally:
        backend.install_array_module(None)
        _current = previous
