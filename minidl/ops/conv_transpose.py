"""conv_transpose2d / conv_transpose1d: the adjoint of a convolution, built from conv2d's ops.

A transposed convolution with weight w is exactly the input gradient of conv2d with the
same w, stride, padding, dilation and groups: y = A_w^T x. So its forward is
`Conv2dBackwardInputFn`, and that op's own backward (conv2d forward for the input,
conv2d's weight gradient for w) is this op's backward. Nothing new is differentiated by
hand, and gradgradcheck passes through the same ops as conv2d's.
"""
from __future__ import annotations

from .conv import Conv2dBackwardInputFn
from .conv1d import _check_groups, _check_tensors, _ints, _single
from .shape import pad as _pad


def _output_sizes(in_sizes, kernel, stride, padding, output_padding, dilation) -> list:
    """(L - 1) s - 2 p + d (k - 1) + output_padding + 1 per spatial dim."""
    return [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, op, d in
            zip(in_sizes, kernel, stride, padding, output_padding, dilation)]


def _check_output_padding(output_padding, stride, dilation) -> None:
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                           f"but got output_padding_height: {output_padding[0]} "
                           f"output_padding_width: {output_padding[1]} stride_height: "
                           f"{stride[0]} stride_width: {stride[1]} dilation_height: "
                           f"{dilation[0]} dilation_width: {dilation[1]}")


def _transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The batched 4-D case, arguments already pairs and checked."""
    N, _, H, W = x.shape
    out = _output_sizes((H, W), weight.shape[2:], stride, padding, output_padding, dilation)
    if min(out) < 1:
        raise RuntimeError(f"Given input size per channel: ({H} x {W}). Calculated output "
                           f"size per channel: ({out[0]} x {out[1]}). Output size is too "
                           f"small")
    # A conv2d over an (out[0], out[1]) image yields H + output_padding // stride rows: when
    # output_padding >= stride (allowed if it is below the dilation) the last rows of that
    # conv2d output lie past x. They receive nothing, so x is padded with zeros to match.
    extra = [op // s for op, s in zip(output_padding, stride)]
    if any(extra):
        x = _pad(x, (0, extra[1], 0, extra[0]))
    shape = (N, weight.shape[1] * groups, out[0], out[1])
    y = Conv2dBackwardInputFn.apply(x, weight, shape, stride, padding, dilation, groups)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def _check_bias(op: str, bias, weight, groups: int) -> None:
    out_channels = weight.shape[1] * groups
    if bias is not None and (bias.shape[0] != out_channels or bias.dtype != weight.dtype):
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected bias to be 1-dimensional with {out_channels} elements "
                           f"of dtype {weight.dtype}, but got bias of size "
                           f"{list(bias.shape)} and dtype {bias.dtype} instead")


def _no_string_padding(padding, op: str) -> None:
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1):
    """2-D transposed convolution ("deconvolution"): the adjoint of conv2d.

    Parameters
    ----------
    input : Tensor (N, C_in, H, W) or unbatched (C_in, H, W).
    weight : Tensor (C_in, C_out // groups, KH, KW).
    bias : optional Tensor (C_out,).
    stride, padding, dilation : int or (int, int); padding removes rows/columns from the
        output's borders (it is the padding of the conv2d this op is the adjoint of).
    output_padding : int or (int, int), each below the stride or the dilation: extra
        rows/columns on the bottom/right, choosing among the sizes that give one input size.
    groups : int dividing C_in and C_out.

    Returns
    -------
    Tensor (N, C_out, H_out, W_out), or (C_out, H_out, W_out) for an unbatched input.

    Shapes
    ------
    H_out = (H - 1) stride[0] - 2 padding[0] + dilation[0] (KH - 1) + output_padding[0] + 1,
    W_out alike.

    See Also
    --------
    torch.nn.functional.conv_transpose2d
    """
    op = "conv_transpose2d"
    _check_tensors(op, input, weight, bias, 2)
    _no_string_padding(padding, op)
    groups = _check_groups(op, input, weight, groups, transposed=True)
    _check_bias(op, bias, weight, groups)
    stride, padding = _ints(stride, 2, "stride", op), _ints(padding, 2, "padding", op)
    dilation = _ints(dilation, 2, "dilation", op)
    output_padding = _ints(output_padding, 2, "output_padding", op)
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(output_padding) < 0:
        raise RuntimeError(f"{op}: expected positive stride and dilation and non-negative "
                           f"padding and output_padding, got stride={stride}, dilation="
                           f"{dilation}, padding={padding}, output_padding={output_padding}")
    _check_output_padding(output_padding, stride, dilation)
    x = input if input.ndim == 4 else input.unsqueeze(0)
    y = _transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return y if input.ndim == 4 else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1):
    """1-D transposed convolution, computed by conv_transpose2d on a height-1 input.

    Parameters
    ----------
    input : Tensor (N, C_in, L) or unbatched (C_in, L).
    weight : Tensor (C_in, C_out // groups, K).
    bias, stride, padding, output_padding, groups, dilation : as conv_transpose2d, each
        an int or (int,).

    Returns
    -------
    Tensor (N, C_out, L_out) or (C_out, L_out), with
    L_out = (L - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1.

    See Also
    --------
    torch.nn.functional.conv_transpose1d
    """
    op = "conv_transpose1d"
    _check_tensors(op, input, weight, bias, 1)
    _no_string_padding(padding, op)
    groups = _check_groups(op, input, weight, groups, transposed=True)
    _check_bias(op, bias, weight, groups)
    stride, padding = _single(stride, "stride", op), _single(padding, "padding", op)
    dilation = _single(dilation, "dilation", op)
    output_padding = _single(output_padding, "output_padding", op)
    if output_padding >= stride and output_padding >= dilation:
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                           f"but got output_padding: {output_padding} stride: {stride} "
                           f"dilation: {dilation}")
    y = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, stride),
                         (0, padding), (0, output_padding), groups, (1, dilation))
    return y.squeeze(-2)
