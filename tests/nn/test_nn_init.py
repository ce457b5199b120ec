"""nn.init and the layers' default initialisation: gains, fans, bounds and spreads of
each distribution, in place on leaves, repeatable with manual_seed."""
import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.nn import init


@pytest.fixture(autouse=True)
def _seed():
    minidl.manual_seed(1234)


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Unsupported nonlinearity softplus"):
        init.calculate_gain("softplus")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(minidl.zeros(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(minidl.zeros(16, 3, 5, 5)) == (75, 400)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(minidl.zeros(4))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(minidl.zeros(3, 3), mode="fan_avg")


def _check_uniform(values, bound):
    limit = bound * (1 + 1e-6)          # a float32 draw may round up to the bound's float32
    assert values.min() >= -limit and values.max() <= limit
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound   # fills the range
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert abs(values.mean()) < 0.03 * bound


@pytest.mark.parametrize("shape", [(200, 100), (64, 8, 3, 3)])
def test_uniform_initialisers_bounds_and_spread(shape):
    t = minidl.zeros(*shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    assert init.kaiming_uniform_(t) is t
    _check_uniform(t.numpy(), math.sqrt(2) * math.sqrt(3 / fan_in))    # a=0: gain sqrt(2)
    init.kaiming_uniform_(t, a=0, mode="fan_out", nonlinearity="relu")
    _check_uniform(t.numpy(), math.sqrt(2) * math.sqrt(3 / fan_out))
    init.xavier_uniform_(t, gain=2.0)
    _check_uniform(t.numpy(), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    init.uniform_(t, -0.5, 0.5)
    _check_uniform(t.numpy(), 0.5)


@pytest.mark.parametrize("shape", [(200, 100), (64, 8, 3, 3)])
def test_normal_initialisers_spread(shape):
    t = minidl.zeros(*shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    # the sample std of n >= 4608 normal values is within 5% (about 5 sigma) of the true one
    init.kaiming_normal_(t, nonlinearity="relu")
    assert t.numpy().std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    init.xavier_normal_(t)
    assert t.numpy().std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.05)
    init.normal_(t, 3.0, 0.5)
    assert t.numpy().mean() == pytest.approx(3.0, abs=0.04)
    assert t.numpy().std() == pytest.approx(0.5, rel=0.05)


def test_constant_zeros_ones_keep_dtype_and_leaf():
    p = nn.Parameter(minidl.zeros(3, 2, dtype=minidl.float64))
    assert init.constant_(p, 2.5) is p
    assert p.dtype == np.float64 and (p.detach().numpy() == 2.5).all()
    init.ones_(p)
    assert (p.detach().numpy() == 1).all()
    init.zeros_(p)
    assert not p.detach().numpy().any()
    init.normal_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_manual_seed_repeats_draws_and_generator_argument():
    minidl.manual_seed(3)
    a = init.normal_(minidl.zeros(4, 4)).numpy().copy()
    minidl.manual_seed(3)
    b = init.normal_(minidl.zeros(4, 4)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(init.uniform_(minidl.zeros(3), generator=g1).numpy(),
                                  init.uniform_(minidl.zeros(3), generator=g2).numpy())


def test_zero_element_tensor_warns_and_is_left_alone():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(minidl.zeros(0, 3))


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(300, 200), 300),
    (lambda: nn.Conv2d(12, 64, kernel_size=3), 108),
    (lambda: nn.Conv2d(12, 64, kernel_size=(3, 2), groups=4), 18),
])
def test_layer_default_init_is_uniform_one_over_sqrt_fan_in(make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)      # kaiming_uniform_(a=sqrt(5)) gives this weight bound
    _check_uniform(layer.weight.detach().numpy(), bound)
    b = layer.bias.detach().numpy()
    limit = bound * (1 + 1e-6)
    assert b.min() >= -limit and b.max() <= limit and b.std() > 0.3 * bound


def test_layer_init_repeats_with_manual_seed_and_uses_default_dtype():
    minidl.manual_seed(0)
    a = nn.Conv2d(3, 4, 3)
    minidl.manual_seed(0)
    b = nn.Conv2d(3, 4, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())
    assert a.weight.dtype == np.float32
    assert nn.Linear(2, 2, dtype=minidl.float64).weight.dtype == np.float64


def test_batchnorm_defaults():
    bn = nn.BatchNorm2d(5)
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(5))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(5))
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == np.int64
    plain = nn.BatchNorm1d(5, affine=False, track_running_stats=False)
    assert plain.weight is None and plain.running_mean is None
    assert list(plain.state_dict()) == []
