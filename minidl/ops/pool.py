"""Pooling: max_pool2d, avg_pool2d and adaptive_avg_pool2d.

Max and average pooling are fused ops; each backward is itself an op whose backward is
the forward's own kind of gather (max) or average (avg), so second derivatives work.
adaptive_avg_pool2d is two matrix products with fixed averaging matrices.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import ArrayFunction, named
from ..backend import get_array_module
from .. import kernels
from ..kernels import reference
from .. import tensor as _tensor
from .linalg import matmul


class MaxPool2dFn(ArrayFunction):
    """y = max over each window; also returns the flat (h * W + w) index of that max."""

    torch_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode):
        pool = kernels.for_array(x, "pool_numba")
        y, indices = pool.max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.indices, ctx.x_shape = indices, x.shape
        ctx.mark_non_differentiable(indices)
        return y, indices

    @staticmethod
    def backward(ctx, grad_out, _grad_indices):
        # dy/dx = 1 at each window's argmax, 0 elsewhere: scatter g to those positions
        grad_x = MaxPool2dBackwardFn.apply(grad_out, ctx.indices, ctx.x_shape)
        return grad_x, None, None, None, None, None


class MaxPool2dBackwardFn(ArrayFunction):
    """grad_x = grad_y scattered (added) to the saved argmax positions."""

    torch_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, grad_y, indices, x_shape):
        ctx.indices = indices
        ctx.shapes = (grad_y.shape, x_shape)
        pool = kernels.for_array(grad_y, "pool_numba")
        return pool.max_pool2d_backward(grad_y, indices, x_shape)

    @staticmethod
    def backward(ctx, grad_gx):
        # scattering is linear; its adjoint gathers v at the same positions
        xp = get_array_module(ctx.indices)
        (N, C, OH, OW), (_, _, H, W) = ctx.shapes
        plane = xp.arange(N * C, dtype=np.int64).reshape(N, C, 1, 1) * (H * W)
        gathered = grad_gx.reshape(-1)[_tensor.constant(plane + xp.maximum(ctx.indices, 0))]
        if bool((ctx.indices < 0).any()):        # windows that saw no input pass nothing
            gathered = gathered * _tensor.constant((ctx.indices >= 0).astype(gathered.dtype))
        return gathered, None, None


class AvgPool2dFn(ArrayFunction):
    """y = sum over each window / divisor (PyTorch's count_include_pad / override rules)."""

    torch_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        ctx.x_shape = x.shape
        ctx.params = (kernel_size, stride, padding, ceil_mode, count_include_pad,
                      divisor_override)
        return kernels.for_array(x, "pool_numba").avg_pool2d_forward(x, *ctx.params)

    @staticmethod
    def backward(ctx, grad_out):
        # y = A x is linear: dL/dx = A^T g, each window's g / divisor spread over the window
        return (AvgPool2dBackwardFn.apply(grad_out, ctx.x_shape, *ctx.params),
                None, None, None, None, None, None)


class AvgPool2dBackwardFn(ArrayFunction):
    """grad_x = A^T grad_y, the input gradient of avg_pool2d."""

    torch_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad_y, x_shape, kernel_size, stride, padding, ceil_mode,
                count_include_pad, divisor_override):
        ctx.params = (kernel_size, stride, padding, ceil_mode, count_include_pad,
                      divisor_override)
        pool = kernels.for_array(grad_y, "pool_numba")
        return pool.avg_pool2d_backward(grad_y, x_shape, *ctx.params)

    @staticmethod
    def backward(ctx, grad_gx):
        # (A^T)^T = A: the adjoint of the backward is the average pool itself
        return (AvgPool2dFn.apply(grad_gx, *ctx.params),
                None, None, None, None, None, None, None)


# ---- argument checks ----
def _pair(value, name: str, op: str) -> tuple:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of two ints, "
                           f"got {name}={value}")
    return pair


def _pool_args(input, kernel_size, stride, padding, dilation, op: str):
    """Validate and normalise pooling arguments; returns a 4-D input and int pairs."""
    if not isinstance(input, _tensor.Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4) or 0 in input.shape[input.ndim - 3:]:
        raise RuntimeError(f"{op}: Expected 3D or 4D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got: {list(input.shape)}")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () or stride == [] else \
        _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op)
    dilation = _pair(dilation, "dilation", op)
    if min(kernel) < 1:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, got {kernel}")
    if min(stride) < 1:
        raise RuntimeError(f"{op}: stride should be greater than zero, got {stride}")
    if min(dilation) < 1:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got {dilation}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={k} and dilation={d}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    return x, kernel, stride, padding, dilation


def _check_output(x, out_hw: tuple, op: str) -> None:
    if min(out_hw) < 1:
        C, H, W = x.shape[1:]
        raise RuntimeError(f"{op}: Given input size: ({C}x{H}x{W}). Calculated output size: "
                           f"({C}x{out_hw[0]}x{out_hw[1]}). Output size is too small")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum over each kH x kW window, padded with -inf.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or unbatched (C, H, W).
    kernel_size, stride, padding, dilation : int or (int, int); stride defaults to
        kernel_size; padding at most half the effective kernel size.
    ceil_mode : round the output size up (the last window must start inside the input).
    return_indices : also return the flat index h * W + w of each maximum in its plane.

    Returns
    -------
    Tensor (N, C, OH, OW), and int64 indices of the same shape with return_indices.

    Shapes
    ------
    OH = floor_or_ceil((H + 2p - d(kH - 1) - 1) / s) + 1, OW alike.

    See Also
    --------
    torch.nn.functional.max_pool2d
    """
    x, kernel, stride, padding, dilation = _pool_args(input, kernel_size, stride, padding,
                                                      dilation, "max_pool2d")
    out_hw = tuple(reference.pool_output_size(s, k, st, p, d, ceil_mode) for s, k, st, p, d
                   in zip(x.shape[2:], kernel, stride, padding, dilation))
    _check_output(x, out_hw, "max_pool2d")
    y, indices = MaxPool2dFn.apply(x, kernel, stride, padding, dilation, bool(ceil_mode))
    if input.ndim == 3:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None):
    """The mean over each kH x kW window.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or unbatched (C, H, W).
    kernel_size, stride, padding : int or (int, int); stride defaults to kernel_size.
    ceil_mode : round the output size up (the last window must start inside the input).
    count_include_pad : divide by the window size including zero padding (True) or by the
        number of input elements it covers (False).
    divisor_override : divide every window sum by this instead.

    Returns
    -------
    Tensor (N, C, OH, OW), or (C, OH, OW) for an unbatched input.

    Shapes
    ------
    OH = floor_or_ceil((H + 2p - kH) / s) + 1, OW alike.

    See Also
    --------
    torch.nn.functional.avg_pool2d
    """
    x, kernel, stride, padding, _ = _pool_args(input, kernel_size, stride, padding, 1,
                                               "avg_pool2d")
    if x.dtype.kind != "f":
        raise RuntimeError(f"avg_pool2d: expected a floating point input, got {x.dtype}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    out_hw = tuple(reference.pool_output_size(s, k, st, p, 1, ceil_mode) for s, k, st, p
                   in zip(x.shape[2:], kernel, stride, padding))
    _check_output(x, out_hw, "avg_pool2d")
    y = AvgPool2dFn.apply(x, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad),
                          divisor_override)
    return y if input.ndim == 4 else y.squeeze(0)


def _adaptive_matrix(size: int, out: int, dtype, xp):
    """(out, size) matrix whose row i averages input[floor(i*size/out) : ceil((i+1)*size/out)]."""
    i = np.arange(out).reshape(out, 1)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    j = np.arange(size).reshape(1, size)
    rows = ((j >= start) & (j < end)) / (end - start)
    return _tensor.constant(xp.asarray(rows, dtype=dtype))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (PyTorch's node names: MeanBackward1 for a
    1x1 output, AdaptiveAvgPool2DBackward0 otherwise); see _adaptive_avg_pool2d."""
    out = _adaptive_avg_pool2d(input, output_size)
    one = out.shape[-2:] == (1, 1)
    return named(out, "MeanBackward1" if one else "AdaptiveAvgPool2DBackward0", input)


def _adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, windows chosen by PyTorch's start/end rule.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or unbatched (C, H, W).
    output_size : int or (int or None, int or None); None keeps that input size.

    Returns
    -------
    Tensor (N, C, OH, OW), or (C, OH, OW) for an unbatched input.

    Shapes
    ------
    Output cell (i, j) averages rows floor(i H / OH) .. ceil((i + 1) H / OH) - 1 and the
    columns alike; computed as P_h @ x @ P_w^T with fixed averaging matrices.

    See Also
    --------
    torch.nn.functional.adaptive_avg_pool2d
    """
    if not isinstance(input, _tensor.Tensor):
        raise TypeError(f"adaptive_avg_pool2d: expected input to be a Tensor, got "
                        f"{type(input).__name__}")
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f"adaptive_avg_pool2d: Expected 3D or 4D tensor with non-zero "
                           f"sizes in the last two dims, got shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"adaptive_avg_pool2d: expected a floating point input, got "
                           f"{input.dtype}")
    sizes = (output_size, output_size) if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(sizes) != 2:
        raise RuntimeError(f"adaptive_avg_pool2d: output_size must be 2, got {output_size}")
    out = tuple(s if o is None else o for o, s in zip(sizes, input.shape[-2:]))
    if not all(isinstance(o, int) and o >= 0 for o in out):
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {output_size}")
    xp = get_array_module(input.array)
    p_h = _adaptive_matrix(input.shape[-2], out[0], input.dtype, xp)      # (OH, H)
    p_w_t = _adaptive_matrix(input.shape[-1], out[1], input.dtype, xp).transpose(0, 1)
    return matmul(matmul(p_h, input), p_w_t)
