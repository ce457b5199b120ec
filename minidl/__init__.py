"""minidl: a deep learning framework written from scratch on NumPy, with PyTorch's API.

    import minidl as torch
    x = torch.randn(3, 4, requires_grad=True)
    (x.relu() ** 2).sum().backward()
"""
import numpy as _np

from .backend import Device as device, get_default_dtype, set_default_dtype
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
from . import kernels
from .kernels.threads import get_num_threads, set_num_threads

float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
float16 = _np.dtype("float16")
int64 = _np.dtype("int64")
int32 = _np.dtype("int32")
int8 = _np.dtype("int8")
uint8 = _np.dtype("uint8")
bool = _np.dtype("bool")   # noqa: A001 (torch.bool)
float = float32            # noqa: A001 (torch.float)
double = float64
long = int64
half = float16

from . import nn, optim, data, metrics, utils
from .serialization import save, load

__version__ = "0.1.0"
