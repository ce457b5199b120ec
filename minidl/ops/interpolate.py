"""Resizing (torch.nn.functional.interpolate): nearest, nearest-exact, linear, bilinear and
trilinear, on (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs.

Every mode is separable: resizing an image is resizing its rows, then its columns. Along
one dimension each output position reads one input position (nearest) or mixes two
neighbours, `(1 - w) * x[i0] + w * x[i1]` (linear), so the whole op is `index_select`s
and weighted sums, and autograd gives its backward (a scatter-add of the gradient back to
the positions read). The source positions follow PyTorch's formulas:

    nearest        src = floor(dst * scale)
    nearest-exact  src = floor((dst + 0.5) * scale)
    linear         src = (dst + 0.5) * scale - 0.5, clamped at 0   (align_corners=False)
                   src = dst * (in - 1) / (out - 1)                (align_corners=True)

with scale = in / out, or 1 / scale_factor when a scale factor is given and not
recomputed, as in PyTorch.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor, constant

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area")


def _per_dim(value, n: int, name: str):
    if value is None:
        return None
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n:
        raise ValueError(f"interpolate: {name} must have {n} elements for a {n + 2}-D input, "
                         f"got {value!r}")
    return values


def _sizes_and_scales(shape, size, scale_factor, recompute):
    spatial = shape[2:]
    n = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = _per_dim(size, n, "size")
        if any(int(s) <= 0 for s in out):
            raise ValueError(f"interpolate: size must be positive, got {size!r}")
        return tuple(int(s) for s in out), tuple(None for _ in out)
    factors = _per_dim(scale_factor, n, "scale_factor")
    if any(f <= 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
    out = tuple(int(math.floor(s * f)) for s, f in zip(spatial, factors))
    if any(o <= 0 for o in out):
        raise ValueError(f"interpolate: input of spatial size {tuple(spatial)} scaled by "
                         f"{scale_factor!r} gives an empty output {out}")
    return out, tuple(None if recompute else float(f) for f in factors)


def _scale(n_in: int, n_out: int, factor, align_corners: bool, acc=np.float32):
    """Input positions per output position, as PyTorch's area_pixel_compute_scale, in
    PyTorch's arithmetic type `acc` (the quotient of two `acc` values, or 1 / factor
    rounded to `acc`)."""
    if align_corners:
        return acc(n_in - 1) / acc(n_out - 1) if n_out > 1 else acc(0)
    return acc(1.0 / factor) if factor is not None else acc(n_in) / acc(n_out)


def nearest_index(n_in, n_out, factor, exact: bool) -> np.ndarray:
    scale = _scale(n_in, n_out, factor, False)          # float, as PyTorch's nearest_idx
    dst = np.arange(n_out, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * scale if exact else dst * scale)
    return np.minimum(src.astype(np.int64), n_in - 1)


def linear_weights(n_in, n_out, factor, align_corners: bool, dtype):
    """(i0, i1, w): output position j is (1 - w[j]) * x[i0[j]] + w[j] * x[i1[j]]."""
    acc = np.float64 if dtype == np.float64 else np.float32    # PyTorch's opmath type
    scale = _scale(n_in, n_out, factor, align_corners, acc)
    dst = np.arange(n_out, dtype=acc)
    if align_corners:
        src = dst * scale
    else:
        src = np.maximum((dst + acc(0.5)) * scale - acc(0.5), acc(0))
    i0 = np.minimum(src.astype(np.int64), n_in - 1)        # src >= 0: truncation is floor
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = (src - i0).astype(dtype)
    return i0, i1, w


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False):
    """Resize the spatial dims of `input` (N, C, *spatial) to `size` or by `scale_factor`."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {_MODES}, got {mode!r}")
    if mode in ("bicubic", "area") or antialias:
        raise NotImplementedError(f"interpolate: mode={mode!r}"
                                  f"{' with antialias' if antialias else ''} is not in "
                                  f"minidl; nearest, nearest-exact, linear, bilinear and "
                                  f"trilinear are")
    n = input.dim() - 2
    if n not in (1, 2, 3):
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial), "
                         f"got shape {tuple(input.shape)}")
    if mode in _LINEAR and _LINEAR[mode] != n:
        raise ValueError(f"interpolate: mode {mode!r} needs a {_LINEAR[mode] + 2}-D input, got "
                         f"shape {tuple(input.shape)}")
    if mode.startswith("nearest") and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if input.array.dtype.kind != "f" and mode in _LINEAR:
        raise TypeError(f"interpolate: mode {mode!r} needs a floating-point input, got "
                        f"{input.dtype}")
    out_sizes, factors = _sizes_and_scales(tuple(input.shape), size, scale_factor,
                                           recompute_scale_factor)
    xp = get_array_module(input.array)     # the indices and weights go where the input is
    out = input
    for k, (n_out, factor) in enumerate(zip(out_sizes, factors)):
        dim = 2 + k
        n_in = input.shape[dim]
        if mode.startswith("nearest"):
            index = nearest_index(n_in, n_out, factor, exact=mode == "nearest-exact")
            out = out.index_select(dim, constant(xp.asarray(index)))
            continue
        i0, i1, w = linear_weights(n_in, n_out, factor, bool(align_corners),
                                   input.array.dtype)
        shape = [1] * input.dim()
        shape[dim] = n_out
        w = constant(xp.asarray(w.reshape(shape)))
        lo = out.index_select(dim, constant(xp.asarray(i0)))
        hi = out.index_select(dim, constant(xp.asarray(i1)))
        out = lo * (1 - w) + hi * w
    return out


def upsample(input, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None):
    """torch.nn.functional.upsample, the deprecated name of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)
