"""More activations, composed of Tensor ops (gradients and second derivatives for free):
gelu (exact, through erf, and the tanh approximation), silu, elu, selu, celu, softplus,
mish, hardtanh, relu6, hardsigmoid, hardswish, logsigmoid, softsign, glu, threshold.
Those with an `inplace` argument honour it as relu does: the input tensor takes the values."""
from __future__ import annotations

import math

from ..autograd.function import torch_node
from .elementwise import exp, log1p
from .select import where
from .unary import erf


def _maybe_inplace(input, compute, inplace: bool):
    """compute(input), or with inplace=True written into input, which takes the result's
    history under grad mode (Tensor._inplace's PyTorch rules: a leaf that requires grad
    refuses; a view changes its base)."""
    return input._inplace(compute) if inplace else compute(input)


@torch_node("GeluBackward0")
def gelu(input, approximate: str = "none"):
    """x * Phi(x); approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1 + inner.tanh())
    if approximate != "none":
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return input * 0.5 * (1 + erf(input * (1 / math.sqrt(2.0))))


@torch_node("SiluBackward0")
def silu(input, inplace: bool = False):
    """x * sigmoid(x)."""
    return _maybe_inplace(input, lambda x: x * x.sigmoid(), inplace)


@torch_node("SoftplusBackward0")
def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    bx = input * beta
    return where(bx > threshold, input, log1p(exp(bx.clamp(max=threshold))) / beta)


@torch_node("EluBackward0")
def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha (exp(x) - 1)."""
    return _maybe_inplace(input, lambda x: where(x > 0, x, alpha * (exp(x.clamp(max=0)) - 1)),
                          inplace)


@torch_node("CeluBackward0")
def celu(input, alpha: float = 1.0, inplace: bool = False):
    return _maybe_inplace(
        input, lambda x: where(x > 0, x, alpha * (exp(x.clamp(max=0) / alpha) - 1)), inplace)


@torch_node("EluBackward0")
def selu(input, inplace: bool = False):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return _maybe_inplace(input, lambda x: scale * elu(x, alpha), inplace)


@torch_node("MishBackward0")
def mish(input, inplace: bool = False):
    return _maybe_inplace(input, lambda x: x * softplus(x).tanh(), inplace)


@torch_node("HardtanhBackward0")
def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    return _maybe_inplace(input, lambda x: x.clamp(min_val, max_val), inplace)


@torch_node("HardtanhBackward0")
def relu6(input, inplace: bool = False):
    return _maybe_inplace(input, lambda x: x.clamp(0.0, 6.0), inplace)


@torch_node("HardsigmoidBackward0")
def hardsigmoid(input, inplace: bool = False):
    return _maybe_inplace(input, lambda x: (x / 6 + 0.5).clamp(0.0, 1.0), inplace)


@torch_node("HardswishBackward0")
def hardswish(input, inplace: bool = False):
    return _maybe_inplace(input, lambda x: x * hardsigmoid(x), inplace)


@torch_node("LogSigmoidBackward0")
def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -softplus(-input)


def softsign(input):
    return input / (1 + input.abs())


@torch_node("GluBackward0")
def glu(input, dim: int = -1):
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """x where x > threshold, else value (torch.nn.functional.threshold)."""
    return _maybe_inplace(input, lambda x: where(x > threshold, x, value), inplace)
