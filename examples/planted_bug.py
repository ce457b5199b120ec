"""A model with a planted bug, for the README's `minidl compare` walkthrough.

The model is written once against an `nn` namespace, so the same code builds the minidl
model and its PyTorch twin. Its activation is a hand-written Swish (x * sigmoid(x), SiLU)
whose backward forgets a term: on minidl it is this custom Function, on PyTorch the real
nn.SiLU. Forward agrees; the gradient does not:

    minidl compare --module examples/planted_bug.py:make_model --input-shape 8,20

names the layer `act` as where backward parts, and exits 1.
"""
from collections import OrderedDict

import minidl
from minidl.autograd import Function


class Swish(Function):
    """y = x * sigmoid(x). The planted bug: dy/dx = sigmoid(x), missing the term
    x * sigmoid(x) * (1 - sigmoid(x))."""

    @staticmethod
    def forward(ctx, x):
        s = x.sigmoid()
        ctx.save_for_backward(s)
        return x * s

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        return grad_out * s                      # wrong: should be s * (1 + x * (1 - s))


class SwishModule(minidl.nn.Module):
    def forward(self, x):
        return Swish.apply(x)


def make_model(nn):
    """An MLP on 20 features with 3 classes, built from `nn` (minidl.nn or torch.nn)."""
    act = SwishModule() if nn is minidl.nn else nn.SiLU()
    return nn.Sequential(OrderedDict(fc1=nn.Linear(20, 32), act=act, fc2=nn.Linear(32, 3)))
