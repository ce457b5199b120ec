"""Convolution: conv2d as a fused op whose backward passes are ops too.

Conv2dFn's backward calls Conv2dBackwardInputFn and Conv2dBackwardWeightFn; each of
those has a backward written with the other two, so conv2d can be differentiated to any
order (gradgradcheck runs through it). The compute is im2col/col2im feeding batched BLAS
GEMMs: `kernels.conv_numba` unfolds and folds with Numba on CPU arrays, `kernels.reference`
(its plain-NumPy twin) everywhere else. When the weight will need a gradient, the forward's
columns are kept for it (`keep_cols`), which saves one unfold per convolution per step.
"""
from __future__ import annotations

from ..autograd.function import ArrayFunction
from .. import kernels
from .. import tensor as _tensor
from .elementwise import clone
from .shape import pad as _pad


class Conv2dFn(ArrayFunction):
    """y = x (*) w + b, cross-correlation with stride, symmetric padding, dilation and groups.

    The bias (or None) is added by the kernel while each share of the output is still in
    cache, instead of by a broadcast add over the whole output afterwards."""

    torch_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        need_x, keep = ctx.needs_input_grad[:2]
        # only what a gradient will read, as PyTorch saves: a frozen or first layer's weight
        # may then change in place (an optimizer step) before this backward runs
        ctx.save_for_backward(x if keep else None, w if need_x else None)
        ctx.shapes = (x.shape, w.shape)
        ctx.params = (stride, padding, dilation, groups)
        # the weight gradient needs im2col(x) again: keep the forward's columns for it, when
        # there will be one (not under no_grad, nor for a frozen weight)
        conv = kernels.for_array(x, "conv_numba")
        out = conv.conv2d_forward(x, w, stride, padding, dilation, groups, keep_cols=keep,
                                  bias=b)
        y, ctx.cols = out if keep else (out, None)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        x_shape, w_shape = ctx.shapes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        cols, ctx.cols = ctx.cols, None      # used once; a retained graph unfolds again
        if need_x and need_w and not grad_out.array.flags.c_contiguous:
            grad_out = clone(grad_out)       # one C-order copy for both passes, not one each
        # y = A_w x + b is linear in x and in w: dL/dx = A_w^T g, dL/dw = sum of g * columns
        # of x, dL/db = g summed over every position
        grad_x = Conv2dBackwardInputFn.apply(grad_out, w, x_shape, *ctx.params) \
            if need_x else None
        grad_w = Conv2dBackwardWeightFn.apply(grad_out, x, w_shape, *ctx.params, cols=cols) \
            if need_w else None
        grad_b = grad_out.sum((0, 2, 3)) if need_b else None
        return grad_x, grad_w, grad_b, None, None, None, None


class Conv2dBackwardInputFn(ArrayFunction):
    """grad_x = A_w^T grad_y, the input gradient of conv2d (a transposed convolution)."""

    torch_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, grad_y, w, x_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(grad_y, w)
        ctx.params = (stride, padding, dilation, groups)
        conv = kernels.for_array(grad_y, "conv_numba")
        return conv.conv2d_backward_input(grad_y, w, x_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_gx):
        grad_y, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad[:2]
        # <v, A_w^T g> = <A_w v, g>: d/dg = conv2d(v, w); d/dw = conv2d's weight gradient
        # for input v and output gradient g
        grad_g = Conv2dFn.apply(grad_gx, w, None, *ctx.params) if need_g else None
        grad_w = Conv2dBackwardWeightFn.apply(grad_y, grad_gx, w.shape, *ctx.params) \
            if need_w else None
        return grad_g, grad_w, None, None, None, None, None


class Conv2dBackwardWeightFn(ArrayFunction):
    """grad_w = the weight gradient of conv2d for input x and output gradient grad_y."""

    torch_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, grad_y, x, w_shape, stride, padding, dilation, groups, cols=None):
        ctx.save_for_backward(grad_y, x)
        ctx.params = (stride, padding, dilation, groups)
        conv = kernels.for_array(x, "conv_numba")
        return conv.conv2d_backward_weight(grad_y, x, w_shape, stride, padding, dilation, groups,
                                           cols)

    @staticmethod
    def backward(ctx, grad_gw):
        grad_y, x = ctx.saved_tensors
        need_g, need_x = ctx.needs_input_grad[:2]
        # <v, B(g, x)> = <conv2d(x, v), g>: d/dg = conv2d(x, v); d/dx = A_v^T g
        grad_g = Conv2dFn.apply(x, grad_gw, None, *ctx.params) if need_g else None
        grad_x = Conv2dBackwardInputFn.apply(grad_y, grad_gw, x.shape, *ctx.params) \
            if need_x else None
        return grad_g, grad_x, None, None, None, None, None


def _int_pair(value, name: str, op: str) -> tuple:
    """An int or a sequence of two ints -> (int, int); anything else is a RuntimeError."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of "
                           f"2 values to match the convolution dimensions, but got "
                           f"{name}={value}")
    return pair


def _same_padding(x, kernel: tuple, dilation: tuple):
    """padding='same': PyTorch's split, any odd extra row/column padded at the bottom/right."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    left = tuple(t // 2 for t in total)
    extra = [t - 2 * lo for t, lo in zip(total, left)]
    if any(extra):
        x = _pad(x, (0, extra[1], 0, extra[0]))
    return x, left


def _check_conv_args(x, w, bias, groups: int) -> None:
    Tensor = _tensor.Tensor
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError(f"conv2d: expected input and weight to be Tensors, got "
                        f"{type(x).__name__} and {type(w).__name__}")
    if x.ndim not in (3, 4):
        raise RuntimeError(f"conv2d: Expected 3D (unbatched) or 4D (batched) input, but got "
                           f"input of size: {list(x.shape)}")
    if w.ndim != 4:
        raise RuntimeError(f"conv2d: expected weight to be 4-dimensional (out_channels, "
                           f"in_channels / groups, kH, kW), but got weight of size "
                           f"{list(w.shape)}")
    if x.dtype != w.dtype or x.dtype.kind != "f":
        raise RuntimeError(f"conv2d: expected input and weight to have the same floating "
                           f"dtype, got input {x.dtype} and weight {w.dtype}")
    if not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"conv2d: non-positive groups is not supported, got groups={groups}")
    in_channels = x.shape[-3]
    if w.shape[0] % groups:
        raise RuntimeError(f"conv2d: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {list(w.shape)} "
                           f"instead")
    if in_channels != w.shape[1] * groups:
        raise RuntimeError(f"conv2d: Given groups={groups}, weight of size {list(w.shape)}, "
                           f"expected input{list(x.shape)} to have {w.shape[1] * groups} "
                           f"channels, but got {in_channels} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != w.shape[0]):
        raise RuntimeError(f"conv2d: Given weight of size {list(w.shape)}, expected bias to be "
                           f"1-dimensional with {w.shape[0]} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    if bias is not None and bias.dtype != x.dtype:
        raise RuntimeError(f"conv2d: expected bias to have dtype {x.dtype}, got {bias.dtype}")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation of a batch of images with a bank of filters.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or unbatched (C, H, W).
    weight : Tensor (OC, C // groups, KH, KW).
    bias : optional Tensor (OC,).
    stride, dilation : int or (int, int), positive.
    padding : int, (int, int), 'valid' (no padding) or 'same' (output size = input size;
        stride 1 only; an odd total is split with the extra row/column at the bottom/right).
    groups : int dividing C and OC; groups = C gives a depthwise convolution.

    Returns
    -------
    Tensor (N, OC, OH, OW), or (OC, OH, OW) for an unbatched input.

    Shapes
    ------
    OH = floor((H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0]) + 1, OW alike.

    See Also
    --------
    torch.nn.functional.conv2d
    """
    _check_conv_args(input, weight, bias, groups)
    stride = _int_pair(stride, "stride", "conv2d")
    dilation = _int_pair(dilation, "dilation", "conv2d")
    if min(stride) < 1:
        raise RuntimeError(f"conv2d: non-positive stride is not supported, got {stride}")
    if min(dilation) < 1:
        raise RuntimeError(f"conv2d: dilation should be greater than zero, got {dilation}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"conv2d: Invalid padding string: '{padding}' (expected 'same' "
                               f"or 'valid')")
        if padding == "same" and stride != (1, 1):
            raise RuntimeError(f"conv2d: padding='same' is not supported for strided "
                               f"convolutions, got stride={stride}")
        x, padding = _same_padding(x, kernel, dilation) if padding == "same" else (x, (0, 0))
    else:
        padding = _int_pair(padding, "padding", "conv2d")
        if min(padding) < 0:
            raise RuntimeError(f"conv2d: negative padding is not supported, got {padding}")
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > s for r, s in zip(reach, padded)):
        raise RuntimeError(f"conv2d: Calculated padded input size per channel: ({padded[0]} x "
                           f"{padded[1]}). Kernel size: ({reach[0]} x {reach[1]}). Kernel "
                           f"size can't be greater than actual input size (input "
                           f"{list(input.shape)}, weight {list(weight.shape)})")
    y = Conv2dFn.apply(x, weight, bias, stride, padding, dilation, groups)
    return y if input.ndim == 4 else y.squeeze(0)
