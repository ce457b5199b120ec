"""Exercises on convolution layers: conv2d by im2col, and max-pooling's backward.

The expected answers are `minidl.nn.functional.conv2d` and the gradient that minidl's
autograd gives through `minidl.nn.functional.max_pool2d` (and PyTorch's, when installed).
"""
from __future__ import annotations

import numpy as np

import minidl
import minidl.nn.functional as F
from .checks import Case, close, describe_args
from .grading import Exercise


def _t(a):
    return None if a is None else minidl.tensor(a, dtype=minidl.float64)


def _out_size(size: int, k: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - k) // stride + 1


def _size_causes(n: int, m: int, size: int, k: int, stride: int, padding: int) -> str:
    """The likely causes of an output side n where the formula gives m."""
    causes = []
    if padding and n == _out_size(size, k, stride, 0):
        causes.append("padding was not applied")
    if stride > 1 and n == _out_size(size, k, 1, padding):
        causes.append("the stride was not applied")
    if padding and n == (size + padding - k) // stride + 1:
        causes.append("padding on one side only (pad both)")
    if abs(n - m) == 1:
        causes.append("an off-by-one window")
    return " or ".join(causes) or "check the output size formula"


class Conv2dExercise(Exercise):
    name = "conv2d_im2col"
    function = "conv2d"
    arguments = ("x", "weight", "bias", "stride", "padding")
    outputs = ("out",)
    summary = "a convolution layer's forward, as one matrix product (im2col)"
    reference_name = "minidl.nn.functional.conv2d"
    lesson = """
A convolution slides each of O filters over the (zero-padded) image and takes a dot product
at every position. im2col turns that into a single matrix product: unfold every kh x kw
patch (through all C channels) into a row of a matrix, then multiply by the filters.

Receives  x        float64 array (N, C, H, W): N images of C channels
          weight   float64 array (O, C, kh, kw): O filters
          bias     float64 array (O,), or None
          stride   int >= 1, the same for rows and columns
          padding  int >= 0: zeros added on every side (top, bottom, left and right)
Returns   out, a float64 array (N, O, OH, OW) with
          OH = (H + 2*padding - kh) // stride + 1,  OW = (W + 2*padding - kw) // stride + 1

Maths     out[n, o, i, j] = bias[o] + sum over c, p, q of
              weight[o, c, p, q] * xp[n, c, i*stride + p, j*stride + q]
          where xp is x padded with zeros. This is a cross-correlation: the kernel is not
          flipped, as in every deep learning framework.

Hints     - np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) pads.
          - cols[n, i, j] = xp[n, :, i*s:i*s+kh, j*s:j*s+kw].ravel() gives an
            (N*OH*OW, C*kh*kw) matrix; cols @ weight.reshape(O, -1).T is (N*OH*OW, O):
            reshape it to (N, OH, OW, O) and move O to axis 1.
"""
    docstring = """
    2-D convolution (cross-correlation) of x with weight, by im2col and one matmul.

    Parameters
    ----------
    x : np.ndarray, float64, shape (N, C, H, W)
    weight : np.ndarray, float64, shape (O, C, kh, kw)
    bias : np.ndarray, float64, shape (O,), or None
    stride : int, >= 1 (rows and columns)
    padding : int, >= 0 (zeros on every side)

    Returns
    -------
    out : np.ndarray, float64, shape (N, O, OH, OW)
        OH = (H + 2*padding - kh) // stride + 1, OW likewise with W and kw."""

    def _case(self, title, x, weight, bias, stride, padding) -> Case:
        args = (np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64),
                None if bias is None else np.asarray(bias, dtype=np.float64), stride, padding)
        return Case(title, args, describe_args(self.arguments, args))

    def draw(self, pick) -> dict:
        kh, kw, padding = pick(1, 3), pick(1, 3), pick(0, 2)
        return {"N": pick(1, 2), "C": pick(1, 3), "O": pick(1, 3), "kh": kh, "kw": kw,
                "stride": pick(1, 3), "padding": padding, "bias": pick(0, 1),
                "H": max(1, kh - 2 * padding) + pick(0, 4),
                "W": max(1, kw - 2 * padding) + pick(0, 4), "seed": pick(0, 2 ** 16)}

    def build(self, params: dict) -> Case:
        rng = np.random.default_rng(params["seed"])
        p = params
        return self._case("drawn", rng.standard_normal((p["N"], p["C"], p["H"], p["W"])),
                          rng.standard_normal((p["O"], p["C"], p["kh"], p["kw"])),
                          rng.standard_normal(p["O"]) if p["bias"] else None,
                          p["stride"], p["padding"])

    def edge_cases(self) -> list:
        rng = np.random.default_rng(3)

        def case(title, x_shape, w_shape, stride, padding, bias=True):
            return self._case(title, rng.standard_normal(x_shape), rng.standard_normal(w_shape),
                              rng.standard_normal(w_shape[0]) if bias else None, stride,
                              padding)

        return [case("3x3 filters, stride 1, no padding", (2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
                case("no bias (None)", (1, 2, 4, 4), (3, 2, 3, 3), 1, 0, bias=False),
                case("padding 1 keeps the size", (1, 2, 5, 5), (3, 2, 3, 3), 1, 1),
                case("stride 2", (1, 2, 7, 7), (2, 2, 3, 3), 2, 0),
                case("stride 2 and padding 1, a size the stride does not divide",
                     (2, 1, 6, 6), (1, 1, 3, 3), 2, 1),
                case("a non-square image and kernel", (1, 2, 5, 8), (3, 2, 2, 3), 1, 0),
                case("non-square, stride 2, padding 2", (1, 1, 6, 9), (2, 1, 3, 2), 2, 2),
                case("1x1 filters", (2, 3, 3, 4), (2, 3, 1, 1), 1, 0),
                case("a kernel as large as the padded image: out is 1x1", (1, 1, 3, 3),
                     (1, 1, 5, 5), 1, 1)]

    def reference(self, case: Case):
        x, weight, bias, stride, padding = case.args
        return F.conv2d(_t(x), _t(weight), _t(bias), stride=stride, padding=padding).numpy()

    def torch_reference(self, case: Case, torch):
        x, weight, bias, stride, padding = case.args
        t = None if bias is None else torch.from_numpy(bias)
        return torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(weight), t,
                                          stride=stride, padding=padding).numpy()

    def hint(self, case: Case, mismatch, got) -> str | None:
        x, weight, bias, stride, padding = case.args
        (N, C, H, W), (O, _, kh, kw) = x.shape, weight.shape
        OH, OW = _out_size(H, kh, stride, padding), _out_size(W, kw, stride, padding)
        if mismatch.kind == "shape":
            return self._shape_hint(np.asarray(got).shape, x.shape, weight.shape, stride,
                                    padding, (N, O, OH, OW))
        if mismatch.kind != "value":
            return None
        if kh * kw > 1 and close(got, self._conv(x, weight[..., ::-1, ::-1], bias, case)):
            return ("your output equals the convolution with the kernel flipped "
                    "(weight[..., ::-1, ::-1]): conv2d in deep learning is a cross-correlation, "
                    "do not flip the kernel")
        if bias is not None and close(got, self._conv(x, weight, None, case)):
            return "the bias is missing: add bias[o] to every position of output channel o"
        if kh == kw > 1 and close(got, self._conv(x, weight.transpose(0, 1, 3, 2), bias, case)):
            return ("the kernel is transposed: weight[o, c, p, q] multiplies the patch's row p, "
                    "column q")
        if O == C > 1 and close(got, self._conv(x, weight.transpose(1, 0, 2, 3), bias, case)):
            return "weight's first two axes are swapped: weight is (O, C, kh, kw)"
        return None

    def _conv(self, x, weight, bias, case):
        _, _, _, stride, padding = case.args
        return F.conv2d(_t(x), _t(np.ascontiguousarray(weight)), _t(bias), stride=stride,
                        padding=padding).numpy()

    @staticmethod
    def _shape_hint(got, x_shape, w_shape, stride, padding, want) -> str | None:
        (N, C, H, W), (O, _, kh, kw) = x_shape, w_shape
        if len(got) != 4:
            if int(np.prod(got)) == int(np.prod(want)):
                return (f"the right number of values in the wrong shape: reshape the im2col "
                        f"product to (N, OH, OW, O) and move O to axis 1, giving {want}")
            return "out must be 4-D: (N, O, OH, OW)"
        if got[:2] != want[:2]:
            return (f"out's first two dims are {got[:2]}, expected (N, O) = {want[:2]}: one "
                    "output channel per filter weight[o]")
        if got[2:] == want[:1:-1] and want[2] != want[3]:
            return "height and width are swapped: out is (N, O, OH, OW)"
        parts, causes = [], []
        for side, size, k, n, m in (("H", H, kh, got[2], want[2]), ("W", W, kw, got[3], want[3])):
            if n == m:
                continue
            kernel = "kh" if side == "H" else "kw"
            parts.append(f"O{side} is {n} where the formula ({side} + 2*padding - {kernel}) // "
                         f"stride + 1 = ({size} + 2*{padding} - {k}) // {stride} + 1 gives {m}")
            causes.append(_size_causes(n, m, size, k, stride, padding))
        if not parts:
            return None
        if all(c == causes[0] for c in causes):
            return f"the output is {got}: {' and '.join(parts)}: {causes[0]}"
        return f"the output is {got}: " + "; ".join(f"{p}: {c}" for p, c in zip(parts, causes))

    def exception_hint(self, case: Case, error) -> str | None:
        if isinstance(error.error, (ValueError, IndexError)):
            return ("a shape does not fit: with padded xp (N, C, H+2p, W+2p), cols is "
                    "(N*OH*OW, C*kh*kw), weight.reshape(O, -1).T is (C*kh*kw, O), and their "
                    "product (N*OH*OW, O)")
        return None


class MaxPool2dBackwardExercise(Exercise):
    name = "maxpool2d_backward"
    function = "maxpool2d_backward"
    arguments = ("grad_out", "x", "kernel_size", "stride")
    outputs = ("grad_x",)
    summary = "max-pooling's backward: each window's gradient to its maximum"
    reference_name = "its autograd through minidl.nn.functional.max_pool2d"
    lesson = """
Max-pooling keeps the largest value of each kernel_size x kernel_size window of every
channel, the windows starting every `stride` rows and columns (no padding). Its backward
sends each window's gradient back to the one element that was the window's maximum.

Receives  grad_out     float64 array (N, C, OH, OW), dL/dout
          x            float64 array (N, C, H, W), the forward's input
          kernel_size  int k >= 1; stride: int s >= 1
          with OH = (H - k) // s + 1 and OW = (W - k) // s + 1
Returns   grad_x, a float64 array (N, C, H, W)

Maths     out[n, c, i, j] = max of x[n, c, i*s:i*s+k, j*s:j*s+k], so
          grad_x[n, c, h, w] = sum of grad_out[n, c, i, j] over the windows (i, j) whose
          maximum is x[n, c, h, w]; 0 for an element that is no window's maximum.

Hints     - Windows overlap when stride < kernel_size: an element may be the maximum of
            several windows and gets the sum of their gradients (add, don't assign).
          - Ties: when a window's maximum appears more than once, PyTorch sends the gradient
            to the first one in row-major order (what np.argmax of the flat window picks).
"""
    docstring = """
    Backward of 2-D max-pooling (no padding): dL/dx from dL/dout.

    Parameters
    ----------
    grad_out : np.ndarray, float64, shape (N, C, OH, OW)
    x : np.ndarray, float64, shape (N, C, H, W)
    kernel_size : int, the window is kernel_size x kernel_size
    stride : int

    Returns
    -------
    grad_x : np.ndarray, float64, shape (N, C, H, W)"""

    def shape_note(self, case: Case, k: int) -> str:
        return "x's shape"

    def _case(self, title, x, kernel_size, stride, grad_out=None, seed=0) -> Case:
        x = np.asarray(x, dtype=np.float64)
        N, C, H, W = x.shape
        out = (N, C, (H - kernel_size) // stride + 1, (W - kernel_size) // stride + 1)
        if grad_out is None:
            grad_out = np.random.default_rng(seed).standard_normal(out)
        args = (grad_out, x, kernel_size, stride)
        return Case(title, args, describe_args(self.arguments, args))

    def draw(self, pick) -> dict:
        k = pick(1, 3)
        return {"N": pick(1, 2), "C": pick(1, 2), "k": k, "stride": pick(1, 3),
                "H": k + pick(0, 4), "W": k + pick(0, 4), "ties": pick(0, 1),
                "seed": pick(0, 2 ** 16)}

    def build(self, params: dict) -> Case:
        p = params
        rng = np.random.default_rng(p["seed"])
        shape = (p["N"], p["C"], p["H"], p["W"])
        x = rng.integers(0, 3, shape) if p["ties"] else rng.standard_normal(shape)
        case = self._case("drawn", x, p["k"], p["stride"], seed=p["seed"] + 1)
        if p["ties"]:
            case.label += " (small integers: ties)"
        return case

    def edge_cases(self) -> list:
        rng = np.random.default_rng(4)
        shared = rng.standard_normal((1, 1, 4, 4))
        shared[0, 0, 1, 1] = 5.0              # the maximum of all four 2x2 windows, stride 1
        shared3 = rng.standard_normal((1, 2, 7, 7))
        shared3[0, 0, 2, 2] = 5.0             # in four 3x3 windows at stride 2
        ties = [[[[1, 1, 0, 2], [0, 1, 2, 2], [3, 0, 1, 1], [3, 3, 1, 0]]]]
        return [self._case("2x2 windows, stride 2: no overlap", rng.standard_normal((1, 1, 4, 4)),
                           2, 2, seed=10),
                self._case("a batch of several channels", rng.standard_normal((2, 3, 4, 6)), 2, 2,
                           seed=11),
                self._case("overlapping windows (stride 1 < kernel 2): x[0, 0, 1, 1] is the "
                           "maximum of four windows", shared, 2, 1, seed=12),
                self._case("overlapping 3x3 windows at stride 2, a maximum shared by four",
                           shared3, 3, 2, seed=13),
                self._case("ties: windows whose maximum appears more than once", ties, 2, 2,
                           seed=14),
                self._case("ties in overlapping windows: a constant image",
                           np.ones((1, 1, 3, 4)), 2, 1, seed=15),
                self._case("a non-square image: its last row and column are in no window",
                           rng.standard_normal((1, 1, 5, 7)), 2, 2, seed=16),
                self._case("stride 3 > kernel 2: gaps between the windows",
                           rng.standard_normal((1, 1, 7, 7)), 2, 3, seed=17),
                self._case("kernel 3, stride 1: heavy overlap", rng.standard_normal((2, 2, 5, 6)),
                           3, 1, seed=18)]

    def reference(self, case: Case):
        grad_out, x, k, s = case.args
        xt = minidl.tensor(x, dtype=minidl.float64, requires_grad=True)
        F.max_pool2d(xt, k, s).backward(_t(grad_out))
        return xt.grad.numpy()

    def torch_reference(self, case: Case, torch):
        grad_out, x, k, s = case.args
        xt = torch.tensor(x, requires_grad=True)
        torch.nn.functional.max_pool2d(xt, k, s).backward(torch.from_numpy(grad_out))
        return xt.grad.numpy()

    @staticmethod
    def _windows(x, k: int, s: int):
        """Per window (n, c, i, j): the positions (h, w) of its maxima, in row-major order."""
        N, C, H, W = x.shape
        for n in range(N):
            for c in range(C):
                for i in range((H - k) // s + 1):
                    for j in range((W - k) // s + 1):
                        window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                        at = np.argwhere(window == window.max())
                        yield (n, c, i, j), [(i * s + int(p), j * s + int(q)) for p, q in at]

    def hint(self, case: Case, mismatch, got) -> str | None:
        grad_out, x, k, s = case.args
        if mismatch.kind == "shape":
            if np.asarray(got).shape == grad_out.shape:
                return ("grad_x has grad_out's shape: it must have x's shape, each window's "
                        "gradient going back to where its maximum is in x")
            return None
        if mismatch.kind != "value":
            return None
        n, c, h, w = mismatch.index
        value = float(np.asarray(got)[mismatch.index])
        first_of, tied_in = [], []
        for (wn, wc, i, j), maxima in self._windows(x, k, s):
            if (wn, wc) == (n, c) and (h, w) in maxima:
                (first_of if maxima[0] == (h, w) else tied_in).append(((i, j), maxima))
        if tied_in:
            (i, j), maxima = tied_in[0]
            return (f"the window ({i}, {j}) has tied maxima at {maxima}: PyTorch sends a "
                    f"window's gradient to its first maximum only, {maxima[0]} (row-major "
                    "order, as np.argmax picks it), not to every tie nor to the last")
        if len(first_of) > 1:
            grads = [float(grad_out[n, c, i, j]) for (i, j), _ in first_of]
            if any(abs(value - g) <= 1e-9 + 1e-6 * abs(g) for g in grads):
                return (f"x[{n}, {c}, {h}, {w}] is the maximum of {len(first_of)} overlapping "
                        f"windows (stride {s} < kernel {k}) and gets the sum of their gradients; "
                        "got one window's: add (+=) into grad_x, don't assign (=); with "
                        "fancy indexing, np.add.at adds once per repeat")
        if not first_of and value != 0:
            return (f"x[{n}, {c}, {h}, {w}] is the maximum of no window, so its gradient is 0: "
                    "only each window's maximum gets the window's gradient")
        if first_of and value == 0:
            return (f"x[{n}, {c}, {h}, {w}] is the maximum of window {first_of[0][0]} but got no "
                    f"gradient: is a window skipped? There are OH = (H - k) // s + 1 rows of "
                    "windows, starting at 0, s, 2s, ...")
        return None
