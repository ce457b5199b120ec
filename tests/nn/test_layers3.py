"""Dropout1d / Dropout2d (whole channels, scaling, training flag, seeds, PyTorch's warnings
and errors), in-place activations (values change, autograd stays right, leaves refuse, as in
PyTorch), and module defaults and errors of the issue-14 layers."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402


def _channels_dropped(y, x, p):
    """Each (n, c) slice of y is all zero or x / (1 - p); returns the fraction zeroed."""
    y, x = y.reshape(y.shape[0], y.shape[1], -1), x.reshape(x.shape[0], x.shape[1], -1)
    zero = np.all(y == 0, axis=-1)
    kept = np.all(np.isclose(y, x / (1 - p), rtol=1e-12), axis=-1)
    assert np.all(zero | kept)
    return zero.mean()


@pytest.mark.parametrize("fn,shape", [(F.dropout2d, (40, 50, 3, 2)), (F.dropout1d, (40, 50, 3))])
def test_feature_dropout_zeros_whole_channels(fn, shape):
    minidl.manual_seed(0)
    x = np.random.default_rng(0).uniform(1, 2, shape)
    y = fn(minidl.tensor(x), 0.3)
    frac = _channels_dropped(y.numpy(), x, 0.3)
    assert abs(frac - 0.3) < 0.03            # 2000 channels: 4.7 standard deviations
    minidl.manual_seed(0)
    np.testing.assert_array_equal(fn(minidl.tensor(x), 0.3).numpy(), y.numpy())
    np.testing.assert_array_equal(fn(minidl.tensor(x), 0.3, training=False).numpy(), x)
    np.testing.assert_array_equal(fn(minidl.tensor(x), 1.0).numpy(), np.zeros(shape))


def test_dropout1d_unbatched_drops_channels_of_the_one_sample():
    minidl.manual_seed(1)
    x = np.ones((200, 4))
    y = F.dropout1d(minidl.tensor(x), 0.5).numpy()
    assert y.shape == (200, 4)
    _channels_dropped(y[None], x[None], 0.5)
    assert 0 < (y[:, 0] == 0).mean() < 1


def test_feature_dropout_gradient_is_the_mask():
    minidl.manual_seed(2)
    x = minidl.tensor(np.ones((3, 8, 2, 2)), requires_grad=True)
    y = F.dropout2d(x, 0.25)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout2d_warnings_and_errors_as_torch():
    for shape in [(2, 3, 5), (3, 4), (2, 3, 4, 5, 6)]:
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            F.dropout2d(minidl.zeros(*shape), 0.5)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            torch.nn.functional.dropout2d(torch.zeros(*shape), 0.5)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(minidl.zeros(2, 3, 4, 5), 0.5)               # 4-D: no warning
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received "
                                           "a 4D input"):
        F.dropout1d(minidl.zeros(3, 4, 5, 6))
    for fn in (F.dropout1d, F.dropout2d):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                             "but got 1.5"):
            fn(minidl.zeros(2, 3, 4), 1.5)
    with pytest.raises(ValueError, match="dropout probability"):
        nn.Dropout2d(-0.1)


def test_dropout_modules_follow_the_training_flag():
    x = minidl.tensor(np.ones((4, 6, 3)))
    for layer in (nn.Dropout1d(0.5), nn.Dropout2d(0.5)):
        assert repr(layer) == repr(getattr(torch.nn, type(layer).__name__)(0.5))
        layer.eval()
        np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
        layer.train()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert (layer(x).numpy() == 0).any()


def test_feature_dropout_inplace():
    minidl.manual_seed(3)
    x = minidl.tensor(np.ones((5, 6, 2, 2)))
    y = F.dropout2d(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()
    x = minidl.tensor(np.ones((6, 3)))
    assert F.dropout1d(x, 0.5, inplace=True) is x and (x.numpy() == 0).any()


INPLACE = [("silu", {}), ("elu", {"alpha": 0.7}), ("celu", {"alpha": 1.5}), ("selu", {}),
           ("mish", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.5}), ("relu6", {}),
           ("hardsigmoid", {}), ("hardswish", {}), ("threshold", {"threshold": 0.1,
                                                                  "value": -2.0})]


@pytest.mark.parametrize("name,options", INPLACE)
def test_inplace_activations_change_the_input_and_keep_gradients(name, options):
    rng = np.random.default_rng(5)
    a = rng.uniform(-4, 8, (3, 4))
    a = np.where(np.abs(a) < 0.2, 0.3, a)
    ours_leaf, theirs_leaf = minidl.tensor(a, requires_grad=True), torch.tensor(
        a, requires_grad=True)
    ours_in, theirs_in = ours_leaf * 2, theirs_leaf * 2        # non-leaves: in place allowed
    ours = getattr(F, name)(ours_in, inplace=True, **options)
    theirs = getattr(torch.nn.functional, name)(theirs_in, inplace=True, **options)
    assert ours is ours_in
    np.testing.assert_allclose(ours_in.detach().numpy(), theirs_in.detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    g = rng.standard_normal((3, 4))
    ours.backward(minidl.tensor(g))
    theirs.backward(torch.tensor(g))
    # 1e-7: PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32
    np.testing.assert_allclose(ours_leaf.grad.numpy(), theirs_leaf.grad.numpy(), rtol=1e-7,
                               atol=1e-14)
    # a leaf that requires grad refuses, as in PyTorch
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(F, name)(minidl.tensor(a, requires_grad=True), inplace=True, **options)
    # without grad, the values are written into the input's memory
    plain = minidl.tensor(a.copy())
    view = plain[0]
    getattr(F, name)(plain, inplace=True, **options)
    expected = getattr(torch.nn.functional, name)(torch.tensor(a), **options).numpy()
    np.testing.assert_allclose(view.numpy(), expected[0], rtol=1e-12, atol=1e-14)


def test_inplace_activation_modules():
    x = minidl.tensor(np.linspace(-3, 3, 8))
    for layer in (nn.ELU(inplace=True), nn.SiLU(inplace=True), nn.Hardtanh(inplace=True),
                  nn.Threshold(0.5, 9.0, inplace=True)):
        before = x.numpy().copy()
        assert layer(x) is x
        assert not np.array_equal(x.numpy(), before)
    y = minidl.tensor(np.linspace(-3, 3, 8))
    assert nn.ELU()(y) is not y


def test_module_defaults_and_errors():
    g = nn.GroupNorm(2, 4)
    assert [n for n, _ in g.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(g.weight.detach().numpy(), np.ones(4))
    np.testing.assert_array_equal(g.bias.detach().numpy(), np.zeros(4))
    assert nn.GroupNorm(2, 4, affine=False).weight is None
    assert nn.GroupNorm(2, 4, bias=False).bias is None
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups "
                                         r"\(2\)"):
        nn.GroupNorm(2, 3)
    p = nn.PReLU()
    assert p.weight.shape == (1,) and p.weight.dtype == np.float32
    np.testing.assert_array_equal(nn.PReLU(3, init=0.1).weight.detach().numpy(),
                                  np.full(3, 0.1, np.float32))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                                           "size. Found parameter numbers = 3 and channel "
                                           "size = 4."):
        nn.PReLU(3)(minidl.zeros(2, 4))
    inorm = nn.InstanceNorm2d(3)
    assert inorm.weight is None and inorm.running_mean is None
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        inorm(minidl.zeros(3, 4))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match "
                                         r"num_features \(3\), but got: 4."):
        nn.InstanceNorm1d(3, affine=True)(minidl.zeros(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(minidl.zeros(2, 4, 5))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(minidl.zeros(3, 4))


@pytest.mark.parametrize("name,args", [
    ("GELU", ()), ("GELU", ("tanh",)), ("ELU", (0.5, True)), ("CELU", ()), ("Softplus", (2.0,)),
    ("Hardtanh", (-2.0, 2.0)), ("Hardsigmoid", (True,)), ("Hardswish", (True,)), ("SiLU", (True,)),
    ("GLU", (1,)), ("CosineSimilarity", (0,)), ("PairwiseDistance", (1.0,)), ("LayerNorm", (4,)),
    ("LayerNorm", ((2, 3), 1e-3, True, False)), ("Threshold", (0.5, 1.0, True)),
    ("Softmin", (1,)), ("Dropout1d", (0.2, True)), ("ZeroPad1d", ((1, 2),)),
    ("InstanceNorm1d", (3,)), ("GroupNorm", (1, 2, 1e-3, False))])
def test_reprs_match_torch(name, args):
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
