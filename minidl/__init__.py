"""minidl: a deep learning framework written from scratch on NumPy, with PyTorch's API.

    import minidl as torch
    x = torch.randn(3, 4, requires_grad=True)
    (x.relu() ** 2).sum().backward()
"""
import warnings as _warnings

import numpy as _np

# PyTorch's ops are silent where a float result is inf or NaN (log(0), 0/0); NumPy's warn
# ("divide by zero encountered in log"). Only warnings raised from minidl's own lines are
# silenced, at no cost per op (a np.errstate around each op costs 2.6 us, 40% of an add);
# anomaly mode (set_detect_anomaly) is the way to find where a NaN or inf appears.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"minidl(\.|$)")

from .backend import (Device as device, set_default_dtype, get_default_device,
                      set_default_device)
from .tensor import Tensor
from .autograd import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                       set_detect_anomaly)
from . import autograd
from .creation import (tensor, from_numpy, zeros, ones, empty, full, eye, arange, linspace,
                       rand, randn, randint, randperm, zeros_like, ones_like, full_like,
                       rand_like, randn_like, manual_seed, get_rng_state, set_rng_state)
from .ops import (add, sub, mul, div, neg, pow, remainder, floor_divide, eq, ne, lt, le, gt,
                  ge, where, clamp, maximum, minimum, exp, log, log1p, sqrt, rsqrt, sin, cos,
                  abs, sign, sum, mean, var, std, max, min, amax, amin, argmax, argmin,
                  logsumexp, norm, relu, sigmoid, tanh, softmax, log_softmax, reshape,
                  flatten, squeeze, unsqueeze, permute, transpose, t, cat, stack, split, chunk,
                  matmul, broadcast_to, clone, masked_fill, prod)
from .ops import (gather, scatter, scatter_add, index_select, index_add, masked_select,
                  take_along_dim,
                  nonzero, count_nonzero, sort, argsort, topk, kthvalue, cumsum, cumprod, mm,
                  bmm, addmm, baddbmm, mv, dot, outer, tril, triu, diag, trace, einsum, tan,
                  sinh, cosh, asin, acos, atan, atan2, expm1, erf, log2, log10, exp2,
                  reciprocal, floor, ceil, trunc, round, frac, isnan, isinf, isfinite,
                  logical_and, logical_or, logical_not)
from .random import Generator, multinomial, bernoulli, normal
from .legacy import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                     ShortTensor, CharTensor, ByteTensor, BoolTensor)
from . import kernels
from .kernels.threads import get_num_threads, set_num_threads
from .determinism import (use_deterministic_algorithms, are_deterministic_algorithms_enabled,
                          is_deterministic_algorithms_warn_only_enabled)

from .dtypes import (dtype, finfo, iinfo, float16, half, float32, float, float64, double,
                     int8, int16, short, int32, int, int64, long, uint8, uint16, uint32,
                     uint64, bool, complex64, cfloat, complex128, cdouble, Size)
from ._tensor_str import set_printoptions, get_printoptions

from . import nn, optim, data, metrics, utils
from . import accelerator, cuda, backends, amp, profiler, viz
from .autograd import no_grad as inference_mode   # no autograd recording, as in PyTorch


def get_default_dtype() -> dtype:
    """The floating dtype that factories and Python floats use (float32 unless set)."""
    from . import backend
    from .dtypes import dtype_of
    return dtype_of(backend.get_default_dtype())


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """data as a tensor, sharing memory when it already is an array of that dtype."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    import numpy
    if isinstance(data, numpy.ndarray) and (dtype is None or numpy.dtype(dtype) == data.dtype) \
            and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def unbind(input, dim: int = 0):
    return input.unbind(dim)


def flip(input, dims):
    return input.flip(dims)


def roll(input, shifts, dims=None):
    return input.roll(shifts, dims)


def narrow(input, dim: int, start: int, length: int):
    return input.narrow(dim, start, length)


def movedim(input, source, destination):
    return input.movedim(source, destination)


def tile(input, dims):
    return input.tile(dims)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input, other) -> bool:
    return input.equal(other)


def lerp(input, end, weight):
    return input.lerp(end, weight)


def clamp_min(input, min):
    return input.clamp_min(min)


def clamp_max(input, max):
    return input.clamp_max(max)


clip = clamp
concat = concatenate = cat
absolute = abs
arcsin, arccos, arctan = asin, acos, atan
from .serialization import save, load


def repeat_interleave(input, repeats, dim=None, *, output_size=None) -> Tensor:
    return input.repeat_interleave(repeats, dim)


def all(input, dim=None, keepdim: bool = False) -> Tensor:   # noqa: A001 (torch.all)
    return input.all(dim, keepdim)


def any(input, dim=None, keepdim: bool = False) -> Tensor:   # noqa: A001 (torch.any)
    return input.any(dim, keepdim)


# PyTorch's keyword names (input=, other=, axis=, size=...) on every public function
from ._keywords import wrap_namespace as _wrap_namespace   # noqa: E402
_wrap_namespace(globals(), [_n for _n in dir() if not _n.startswith("_")])

__version__ = "0.1.0"
