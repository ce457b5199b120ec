"""Image transforms on NumPy arrays and Tensors (the torchvision.transforms subset).

Each transform is a callable object applied to one sample. They work on (C, H, W) or
(..., H, W) arrays, except `ToTensor`, which turns a uint8 H x W (x C) image into a float
(C, H, W) Tensor in [0, 1] as torchvision's does. A Tensor in gives a Tensor out, an array
in gives an array out. Random transforms draw from their `generator` (a seed or a NumPy
Generator) or, by default, from `minidl.creation.default_generator()` at each call, so
`minidl.manual_seed` makes augmentation repeatable.

Deterministic transforms (`ToTensor`, `Normalize`, a `Compose` of only those) are
`batchable`: `apply_batch(x)` does the same to a whole batch at once, which the built-in
datasets use for the DataLoader's fast path.
"""
from __future__ import annotations

import numbers
from typing import Callable, Sequence

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor
from .dataset import resolve_generator


def _unwrap(x):
    return x.array if isinstance(x, Tensor) else x


def _like(x, array):
    """Return `array` as the same kind (Tensor or array) as the input `x`."""
    return Tensor._wrap(array, False, None, 0) if isinstance(x, Tensor) else array


class Compose:
    """Apply transforms one after another (torchvision.transforms.Compose)."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    @property
    def batchable(self) -> bool:
        return all(getattr(t, "batchable", False) for t in self.transforms)

    def apply_batch(self, x):
        for t in self.transforms:
            x = t.apply_batch(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """uint8 image H x W or H x W x C -> float32 Tensor C x H x W in [0, 1].

    As torchvision's ToTensor on a NumPy image: uint8 values are divided by 255; arrays
    of another dtype are only moved to channels-first, keeping their values and dtype.
    """

    batchable = True

    def __call__(self, pic) -> Tensor:
        if isinstance(pic, Tensor) or not hasattr(pic, "ndim"):
            raise TypeError(f"ToTensor: pic should be an ndarray image (H x W or H x W x C), "
                            f"got {type(pic).__name__}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {pic.ndim} "
                             f"dimensions (shape {tuple(pic.shape)})")
        pic = pic[:, :, None] if pic.ndim == 2 else pic
        return Tensor._wrap(_scale(pic.transpose(2, 0, 1)), False, None, 0)

    def apply_batch(self, pics) -> Tensor:
        """N x H x W or N x H x W x C images -> N x C x H x W."""
        pics = _unwrap(pics)
        pics = pics[..., None] if pics.ndim == 3 else pics
        return Tensor._wrap(_scale(pics.transpose(0, 3, 1, 2)), False, None, 0)

    def __repr__(self) -> str:
        return "ToTensor()"


def _scale(x):
    xp = get_array_module(x)
    if x.dtype == np.uint8:
        # Contiguous first: a ufunc on the transposed view would keep its strides.
        return xp.divide(xp.ascontiguousarray(x), np.float32(255), dtype=np.float32)
    return xp.ascontiguousarray(x)


class Normalize:
    """(x - mean[c]) / std[c] for each channel c (torchvision.transforms.Normalize).

    Parameters
    ----------
    mean, std : sequence of float
        One value per channel (or a single value for all channels).
    inplace : bool
        Write into the input's array instead of a new one.

    Shapes
    ------
    x: (C, H, W) or (N, C, H, W), a floating Tensor or array; the result has its dtype.
    """

    batchable = True

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(std, dtype=np.float64).reshape(-1)
        if self.mean.size == 0 or self.std.size == 0:
            raise ValueError("Normalize: mean and std must each hold at least one value")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std evaluated to zero, leading to division by "
                             f"zero (std={self.std.tolist()})")
        self.inplace = inplace

    def __call__(self, x):
        arr = _unwrap(x)
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize: input should be a float tensor, got {arr.dtype}")
        if arr.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor of shape (C, H, W) or (N, C, H, W),"
                             f" got shape {tuple(arr.shape)}")
        C = arr.shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, C):
                raise ValueError(f"Normalize: {name} has {v.size} values but the input has "
                                 f"{C} channels (shape {tuple(arr.shape)})")
        xp = get_array_module(arr)
        mean = xp.asarray(self.mean.astype(arr.dtype).reshape(-1, 1, 1))
        std = xp.asarray(self.std.astype(arr.dtype).reshape(-1, 1, 1))
        if self.inplace:
            arr -= mean
            arr /= std
            return x
        return _like(x, (arr - mean) / std)

    apply_batch = __call__

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _pair(size, name: str) -> tuple:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: size should be an int or a sequence of 1 or 2 ints, got {size}")


def _padding(padding) -> tuple:
    """torchvision's padding spec -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        padding = [padding]
    if isinstance(padding, Sequence) and len(padding) in (1, 2, 4) and \
            all(isinstance(v, numbers.Integral) and v >= 0 for v in padding):
        p = [int(v) for v in padding]
        if len(p) == 1:
            return (p[0],) * 4
        if len(p) == 2:                       # (left/right, top/bottom)
            return p[0], p[1], p[0], p[1]
        return tuple(p)
    raise ValueError(f"RandomCrop: padding should be a non-negative int or a sequence of 1, 2 "
                     f"or 4 of them, got {padding}")


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


class RandomCrop:
    """Crop a random size[0] x size[1] window (torchvision.transforms.RandomCrop).

    Parameters
    ----------
    size : int or (int, int)
        Output height and width.
    padding : int or sequence, optional
        Pad first: an int for all sides, (left/right, top/bottom) or (left, top, right,
        bottom), as torchvision.
    pad_if_needed : bool
        Pad an image smaller than `size` up to it.
    fill : float
        Value of constant padding.
    padding_mode : {'constant', 'edge', 'reflect', 'symmetric'}
    generator : int, numpy.random.Generator or None
        Source of the offsets; None draws from minidl's global generator.

    Notes
    -----
    The top offset is drawn before the left one, each as `integers(0, H - h + 1)`, and
    nothing is drawn when the (padded) image already has the output size.
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant", generator=None) -> None:
        self.size = _pair(size, "RandomCrop")
        self.padding = None if padding is None else _padding(padding)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode should be one of {_PAD_MODES}, got "
                             f"{padding_mode!r}")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = None if generator is None else resolve_generator(generator)

    def _pad(self, arr, left: int, top: int, right: int, bottom: int):
        xp = get_array_module(arr)
        if self.padding_mode == "constant":     # what np.pad does, without its overhead
            h, w = arr.shape[-2:]
            out = xp.full(arr.shape[:-2] + (top + h + bottom, left + w + right), self.fill,
                          dtype=arr.dtype)
            out[..., top:top + h, left:left + w] = arr
            return out
        widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
        return xp.pad(arr, widths, mode=self.padding_mode)

    def __call__(self, x):
        arr = _unwrap(x)
        if arr.ndim < 2:
            raise ValueError(f"RandomCrop: expected an image (..., H, W), got shape "
                             f"{tuple(arr.shape)}")
        if self.padding is not None:
            arr = self._pad(arr, *self.padding)
        th, tw = self.size
        h, w = arr.shape[-2:]
        if self.pad_if_needed and h < th:
            arr = self._pad(arr, 0, th - h, 0, th - h)
        if self.pad_if_needed and w < tw:
            arr = self._pad(arr, tw - w, 0, tw - w, 0)
        h, w = arr.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the "
                             f"input image size {(h, w)}")
        if (h, w) == (th, tw):
            return _like(x, arr)
        gen = resolve_generator(self.generator)
        i = int(gen.integers(0, h - th + 1))
        j = int(gen.integers(0, w - tw + 1))
        xp = get_array_module(arr)
        return _like(x, xp.ascontiguousarray(arr[..., i:i + th, j:j + tw]))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability p (torchvision RandomHorizontalFlip).

    One uniform number is drawn per call; the image is flipped when it is below `p`.
    """

    def __init__(self, p: float = 0.5, generator=None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p should be a probability in [0, 1], "
                             f"got {p}")
        self.p = p
        self.generator = None if generator is None else resolve_generator(generator)

    def __call__(self, x):
        if resolve_generator(self.generator).random() < self.p:
            arr = _unwrap(x)
            return _like(x, get_array_module(arr).ascontiguousarray(arr[..., ::-1]))
        return x

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class Lambda:
    """Apply a user function as a transform (torchvision.transforms.Lambda)."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self) -> str:
        return "Lambda()"


__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Lambda"]
