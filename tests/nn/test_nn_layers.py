"""Layers and loss modules: forward against the functional/NumPy result, shapes, modes,
BatchNorm's buffers, repr strings and the errors that name the layer and the shapes."""
import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F


@pytest.fixture(autouse=True)
def _seed():
    minidl.manual_seed(0)


def test_linear_forward_and_shapes():
    lin = nn.Linear(4, 3)
    x = minidl.randn(2, 5, 4)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(x).detach().numpy(), x.numpy() @ w.T + b, rtol=1e-5)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,)
    assert nn.Linear(4, 3, bias=False)(x).shape == (2, 5, 3)


def test_linear_bad_input_names_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4.*4 features.*\(2, 5\)"):
        nn.Linear(4, 3)(minidl.randn(2, 5))


def test_conv2d_shapes_padding_modes_and_errors():
    x = minidl.randn(2, 3, 9, 8)
    assert nn.Conv2d(3, 6, 3)(x).shape == (2, 6, 7, 6)
    assert nn.Conv2d(3, 6, 3, stride=2, padding=1)(x).shape == (2, 6, 5, 4)
    assert nn.Conv2d(3, 6, 4, padding="same", dilation=2)(x).shape == (2, 6, 9, 8)
    assert nn.Conv2d(3, 6, (3, 2), padding="valid")(x).shape == (2, 6, 7, 7)
    assert nn.Conv2d(3, 6, 3, groups=3, bias=False)(x).shape == (2, 6, 7, 6)
    assert nn.Conv2d(3, 6, 3)(minidl.randn(3, 9, 8)).shape == (6, 7, 6)     # unbatched
    conv = nn.Conv2d(3, 16, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 16.*\(2, 1, 28, 28\).*3 channels"):
        conv(minidl.randn(2, 1, 28, 28))
    with pytest.raises(RuntimeError, match=r"Conv2d.*4D \(batched\).*\(28, 28\)"):
        conv(minidl.randn(28, 28))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="strided convolutions"):
        nn.Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(3, 6, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv2d(3, 6, 3, padding_mode="reflect")


def test_conv2d_calls_functional_with_its_parameters():
    conv = nn.Conv2d(2, 4, 3, stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    x = minidl.randn(1, 2, 7, 7)
    expected = F.conv2d(x, conv.weight, conv.bias, (2, 1), (1, 2), (1, 2), 1)
    np.testing.assert_array_equal(conv(x).detach().numpy(), expected.detach().numpy())


def test_pooling_layers():
    x = minidl.randn(2, 3, 8, 6)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 3)
    out, idx = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(x)
    assert out.shape == (2, 3, 4, 3) and idx.dtype == np.int64
    assert nn.MaxPool2d(3, stride=2, ceil_mode=True)(x).shape == (2, 3, 4, 3)
    np.testing.assert_allclose(nn.AvgPool2d(2)(x).numpy(),
                               x.numpy().reshape(2, 3, 4, 2, 3, 2).mean(axis=(3, 5)), rtol=1e-5,
                               atol=1e-6)
    assert nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).shape == (2, 3, 8, 6)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy(),
                               x.numpy().mean(axis=(2, 3), keepdims=True), rtol=1e-5,
                               atol=1e-6)
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (2, 3, 8, 2)
    with pytest.raises(RuntimeError, match=r"MaxPool2d\(kernel_size=2.*\(8, 6\)"):
        nn.MaxPool2d(2)(minidl.randn(8, 6))


def test_activation_layers_match_functional():
    x = minidl.randn(3, 4)
    pairs = [(nn.ReLU(), F.relu(x)), (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)),
             (nn.Sigmoid(), F.sigmoid(x)), (nn.Tanh(), F.tanh(x)),
             (nn.Softmax(dim=0), F.softmax(x, 0)), (nn.LogSoftmax(dim=1), F.log_softmax(x, 1)),
             (nn.Identity(54, unused=1), x), (nn.Flatten(0), x.flatten())]
    for layer, expected in pairs:
        np.testing.assert_array_equal(layer(x).numpy(), expected.numpy(), err_msg=repr(layer))
    y = minidl.randn(2, 3)
    assert nn.ReLU(inplace=True)(y) is y and (y.numpy() >= 0).all()
    assert nn.Flatten()(minidl.randn(2, 3, 4, 5)).shape == (2, 60)


def test_dropout_layer_modes():
    drop = nn.Dropout(0.5)
    x = minidl.ones(50, 40)
    y = drop(x).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def _np_batch_stats(x):
    dims = (0,) + tuple(range(2, x.ndim))
    n = x.size // x.shape[1]
    return x.mean(axis=dims), x.var(axis=dims), x.var(axis=dims) * n / (n - 1)


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (6, 3)),
                                          (nn.BatchNorm1d, (4, 3, 5)),
                                          (nn.BatchNorm2d, (4, 3, 2, 5))])
def test_batchnorm_running_stats_over_steps(layer, shape):
    bn = layer(3, momentum=0.2).double()
    rng = np.random.default_rng(1)
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        y = bn(minidl.tensor(x))
        mean, var, unbiased = _np_batch_stats(x)
        rm, rv = 0.8 * rm + 0.2 * mean, 0.8 * rv + 0.2 * unbiased
        expand = (1, 3) + (1,) * (len(shape) - 2)
        np.testing.assert_allclose(y.detach().numpy(), (x - mean.reshape(expand))
                                   / np.sqrt(var.reshape(expand) + 1e-5), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = rng.standard_normal(shape)
    expand = (1, 3) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(bn(minidl.tensor(x)).detach().numpy(),
                               (x - rm.reshape(expand)) / np.sqrt(rv.reshape(expand) + 1e-5),
                               rtol=1e-9)
    assert bn.num_batches_tracked.item() == 3                 # eval leaves the buffers alone


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((5, 2)) for _ in range(4)]
    for x in batches:
        bn(minidl.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var(0, ddof=1) for x in batches], axis=0), rtol=1e-12)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    x = np.random.default_rng(3).standard_normal((5, 3))
    np.testing.assert_allclose(bn(minidl.tensor(x)).numpy(),
                               (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-9)


def test_batchnorm_errors_name_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(8\).*8 channels.*\(2, 4, 3, 3\)"):
        nn.BatchNorm2d(8)(minidl.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        nn.BatchNorm2d(4)(minidl.randn(4, 3, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(4)(minidl.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 4\)"):
        nn.BatchNorm1d(4)(minidl.randn(1, 4))
    nn.BatchNorm1d(4).eval()(minidl.randn(1, 4))               # fine in eval mode


def test_layer_reprs():
    assert repr(nn.Conv2d(3, 16, kernel_size=3, padding=1)) == \
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Conv2d(4, 8, (3, 5), stride=2, dilation=2, groups=2, bias=False)) == (
        "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2), groups=2, "
        "bias=False)")
    assert repr(nn.Conv2d(3, 3, 3, padding="same")) == \
        "Conv2d(3, 3, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    assert repr(nn.MaxPool2d(kernel_size=2, stride=2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3)) == "AvgPool2d(kernel_size=3, stride=3, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.ReLU()) == "ReLU()" and repr(nn.ReLU(True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.BatchNorm2d(4, momentum=None)) == \
        ("BatchNorm2d(4, eps=1e-05, momentum=None, affine=True, bias=True, "
         "track_running_stats=True)")
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_loss_modules_call_functional():
    logits, labels = minidl.randn(4, 3), minidl.tensor([0, 2, 1, 2])
    w = minidl.tensor([1.0, 2.0, 0.5])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    np.testing.assert_array_equal(
        ce(logits, labels).numpy(),
        F.cross_entropy(logits, labels, w, ignore_index=1, label_smoothing=0.1).numpy())
    assert list(ce.state_dict()) == ["weight"]
    logp = F.log_softmax(logits, 1)
    assert nn.NLLLoss(reduction="none")(logp, labels).shape == (4,)
    a, b = minidl.rand(3, 2), minidl.rand(3, 2)
    assert nn.MSELoss()(a, b).item() == pytest.approx(((a.numpy() - b.numpy()) ** 2).mean())
    assert nn.L1Loss(reduction="sum")(a, b).item() == pytest.approx(
        np.abs(a.numpy() - b.numpy()).sum(), rel=1e-6)
    np.testing.assert_array_equal(nn.BCELoss()(a, b).numpy(),
                                  F.binary_cross_entropy(a, b).numpy())
    pos = minidl.tensor([1.0, 3.0])
    bce = nn.BCEWithLogitsLoss(pos_weight=pos)
    assert list(bce._buffers) == ["weight", "pos_weight"]
    np.testing.assert_array_equal(
        bce(a, b).numpy(), F.binary_cross_entropy_with_logits(a, b, pos_weight=pos).numpy())
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
