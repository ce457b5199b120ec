"""gradcheck and gradgradcheck in float64 through every layer and loss module, with
respect to the input and to the layer's own Parameters (perturbed in place)."""
import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.autograd import gradcheck, gradgradcheck


def _input(shape, seed=0, low=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if low is not None:                       # away from kinks (relu at 0)
        x = np.sign(x) * (np.abs(x) + low)
    return minidl.tensor(x, requires_grad=True)


def _distinct(shape, seed=0):
    """Values a multiple of 0.1 apart, shuffled: max-pool windows never tie."""
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.arange(int(np.prod(shape)))).reshape(shape) * 0.1
    return minidl.tensor(x - x.mean(), requires_grad=True)


LAYERS = {
    "linear": (lambda: nn.Linear(3, 2), (2, 3)),
    "linear_no_bias": (lambda: nn.Linear(3, 2, bias=False), (4, 3)),
    "conv": (lambda: nn.Conv2d(2, 3, 2, stride=1, padding=1), (1, 2, 3, 3)),
    "conv_groups_dilation": (lambda: nn.Conv2d(2, 2, 2, dilation=2, groups=2), (1, 2, 4, 4)),
    "conv_same": (lambda: nn.Conv2d(1, 2, 2, padding="same"), (1, 1, 3, 3)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(3), (4, 3)),
    "batchnorm1d_3d": (lambda: nn.BatchNorm1d(2, affine=False), (2, 2, 3)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(2), (2, 2, 2, 2)),
    "batchnorm2d_eval": (lambda: nn.BatchNorm2d(2).eval(), (2, 2, 2, 2)),
    "avgpool": (lambda: nn.AvgPool2d(2, stride=1, padding=1), (1, 2, 3, 3)),
    "adaptive": (lambda: nn.AdaptiveAvgPool2d((2, 1)), (1, 1, 3, 3)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.1), (3, 4)),
    "relu": (lambda: nn.ReLU(), (3, 4)),
    "sigmoid": (lambda: nn.Sigmoid(), (3, 4)),
    "tanh": (lambda: nn.Tanh(), (3, 4)),
    "softmax": (lambda: nn.Softmax(dim=1), (2, 3)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=0), (2, 3)),
    "flatten": (lambda: nn.Flatten(), (2, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradcheck_and_gradgradcheck(name):
    minidl.manual_seed(0)
    make, shape = LAYERS[name]
    layer = make().double()
    x = _input(shape, low=0.1)
    params = tuple(layer.parameters())
    if isinstance(layer, nn.BatchNorm2d) and not layer.training:
        with minidl.no_grad():
            layer.running_mean.array[...] = [0.3, -0.2]
            layer.running_var.array[...] = [0.5, 2.0]

    def fn(x, *params):
        return layer(x)

    assert gradcheck(fn, (x,) + params)
    assert gradgradcheck(fn, (x,) + params)


def test_maxpool_gradcheck_on_distinct_values():
    pool = nn.MaxPool2d(2, stride=1, padding=1)
    x = _distinct((1, 2, 3, 3))
    assert gradcheck(pool, (x,))
    assert gradgradcheck(pool, (x,))


def test_dropout_layer_gradcheck_with_a_fixed_mask():
    drop = nn.Dropout(0.3)

    def fn(x):
        minidl.manual_seed(5)
        return drop(x)

    x = _input((4, 3))
    assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))


def _loss_inputs(name):
    rng = np.random.default_rng(1)
    if name in ("ce", "nll"):
        x = rng.standard_normal((4, 3))
        if name == "nll":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        return minidl.tensor(x, requires_grad=True), minidl.tensor([0, 2, 1, 2])
    if name == "bce":
        return (minidl.tensor(rng.uniform(0.1, 0.9, (3, 2)), requires_grad=True),
                minidl.tensor(rng.uniform(0, 1, (3, 2))))
    return (minidl.tensor(rng.standard_normal((3, 2)), requires_grad=True),
            minidl.tensor(rng.uniform(0, 1, (3, 2))))


LOSSES = {
    "ce": lambda: nn.CrossEntropyLoss(weight=minidl.tensor([1.0, 2.0, 0.5],
                                                           dtype=minidl.float64),
                                      label_smoothing=0.1),
    "nll": lambda: nn.NLLLoss(reduction="sum", ignore_index=1),
    "mse": lambda: nn.MSELoss(),
    "l1": lambda: nn.L1Loss(reduction="none"),
    "bce": lambda: nn.BCELoss(),
    "bce_logits": lambda: nn.BCEWithLogitsLoss(pos_weight=minidl.tensor([1.0, 3.0],
                                                                         dtype=minidl.float64)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_module_gradcheck_and_gradgradcheck(name):
    loss = LOSSES[name]()
    x, target = _loss_inputs("bce" if name == "bce" else name)
    if name in ("mse", "l1", "bce_logits"):
        target = target.double()

    def fn(x):
        return loss(x, target)

    assert gradcheck(fn, (x,))
    if name != "l1":                          # |x - t| has a zero second derivative anyway
        assert gradgradcheck(fn, (x,))
