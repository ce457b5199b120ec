"""The issue-14 layers against PyTorch: Conv1d, ConvTranspose1d/2d, GroupNorm, InstanceNorm,
PReLU, Threshold, Softmin and the padding layers. Each is loaded with torch's weights
(state_dict), run on the same float64 input, and must give the same output, input gradient
and parameter gradients; the state dict goes back the other way; reprs, parameter names and
the default initialisation agree."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-12)


def _pair(make):
    """The same layer in both libraries (float64), the minidl one loaded from torch's."""
    ours, theirs = make(nn), make(torch.nn).double()
    ours.to(np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _run(layer, x, lib, **kwargs):
    xt = lib.tensor(x, requires_grad=True)
    y = layer(xt, **kwargs)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape))
    (y * lib.tensor(g)).sum().backward()
    return y, xt.grad


def _compare(ours, theirs, x, **kwargs):
    y, gx = _run(ours, x, minidl, **kwargs)
    ty, tgx = _run(theirs, x, torch, **kwargs)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), **TOL)
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), err_msg=name,
                                   **TOL)
    tbuffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.numpy(), tbuffers[name].numpy(), err_msg=name, **TOL)


CONV_LAYERS = {
    "conv1d": (lambda m: m.Conv1d(3, 4, 3), (2, 3, 7)),
    "conv1d_strided": (lambda m: m.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
                       (2, 4, 9)),
    "conv1d_same": (lambda m: m.Conv1d(2, 3, 4, padding="same", bias=False), (2, 2, 6)),
    "conv1d_unbatched": (lambda m: m.Conv1d(2, 3, 2, padding="valid"), (2, 5)),
    "conv1d_reflect": (lambda m: m.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"),
                       (2, 2, 5)),
    "conv1d_replicate_same": (lambda m: m.Conv1d(2, 3, 4, padding="same",
                                                 padding_mode="replicate"), (1, 2, 5)),
    "conv1d_circular": (lambda m: m.Conv1d(2, 2, 3, padding=1, padding_mode="circular"),
                        (2, 2, 4)),
    "convT2d": (lambda m: m.ConvTranspose2d(3, 4, 3), (2, 3, 4, 5)),
    "convT2d_strided": (lambda m: m.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3),
                                                    padding=(1, 0), output_padding=(1, 2),
                                                    groups=2, dilation=(1, 2)), (2, 4, 3, 4)),
    "convT2d_dilated_outpad": (lambda m: m.ConvTranspose2d(2, 2, 2, dilation=3,
                                                           output_padding=2, bias=False),
                               (1, 2, 3, 3)),
    "convT2d_unbatched": (lambda m: m.ConvTranspose2d(2, 3, 2, stride=2), (2, 3, 3)),
    "convT1d": (lambda m: m.ConvTranspose1d(4, 2, 3, stride=3, padding=1, output_padding=2,
                                            groups=2), (2, 4, 5)),
    "convT1d_unbatched": (lambda m: m.ConvTranspose1d(2, 3, 2), (2, 4)),
}


@pytest.mark.parametrize("name", list(CONV_LAYERS))
def test_conv_layers_match_torch(name):
    make, shape = CONV_LAYERS[name]
    ours, theirs = _pair(make)
    _compare(ours, theirs, np.random.default_rng(0).standard_normal(shape))
    assert repr(ours) == repr(theirs)
    # and back: torch loads minidl's state dict and gives the same output
    back = make(torch.nn).double()
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in ours.state_dict().items()})
    x = np.random.default_rng(2).standard_normal(shape)
    np.testing.assert_allclose(back(torch.tensor(x)).detach().numpy(),
                               ours(minidl.tensor(x)).detach().numpy(), **TOL)


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (9, 10), [1, 3, 10, 9]])
def test_conv_transpose2d_output_size(output_size):
    ours, theirs = _pair(lambda m: m.ConvTranspose2d(2, 3, 3, stride=2))
    _compare(ours, theirs, np.random.default_rng(0).standard_normal((1, 2, 4, 4)),
             output_size=output_size)


def test_conv_transpose_output_size_errors_match_torch():
    ours, theirs = _pair(lambda m: m.ConvTranspose2d(2, 3, 3, stride=2))
    for size in [(12, 10), (8, 9), (1, 2, 3), [1, 3, 12, 9]]:
        with pytest.raises(ValueError) as theirs_err:
            theirs(torch.zeros(1, 2, 4, 4, dtype=torch.float64), output_size=size)
        with pytest.raises(ValueError) as ours_err:
            ours(minidl.zeros(1, 2, 4, 4, dtype=minidl.float64), output_size=size)
        # the same words; minidl prints the input's spatial size as a list, not torch.Size
        expected = str(theirs_err.value).replace("torch.Size([4, 4])", "[4, 4]")
        assert str(ours_err.value) == expected


@pytest.mark.parametrize("make", [lambda m: m.ConvTranspose2d(16, 64, 3, groups=2),
                                  lambda m: m.Conv1d(16, 64, 5, groups=4),
                                  lambda m: m.ConvTranspose1d(8, 96, 4)])
def test_conv_default_init_matches_torch(make):
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    w, tw = ours.weight.detach().numpy(), theirs.weight.detach().numpy()
    assert w.shape == tuple(tw.shape) and w.dtype == tw.dtype == np.float32
    bound = 1 / math.sqrt(w[0].size)          # fan_in = weight.size(1) * kernel, for both kinds
    for a in (w, tw):
        assert bound * 0.97 <= np.abs(a).max() <= bound * (1 + 1e-6)
    assert w.std() == pytest.approx(tw.std(), rel=0.05)
    b, tb = ours.bias.detach().numpy(), theirs.bias.detach().numpy()
    assert np.abs(b).max() <= bound * (1 + 1e-6) and np.abs(tb).max() <= bound * (1 + 1e-6)


def test_conv_layer_argument_errors_match_torch():
    cases = [lambda m: m.Conv1d(3, 4, 3, groups=2), lambda m: m.Conv1d(4, 3, 3, groups=2),
             lambda m: m.Conv1d(2, 2, 3, stride=2, padding="same"),
             lambda m: m.Conv1d(2, 2, 3, padding="full"),
             lambda m: m.Conv1d(2, 2, 3, padding_mode="mirror"),
             lambda m: m.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
             lambda m: m.ConvTranspose2d(2, 3, 3, groups=2),
             lambda m: m.Conv1d(2, 2, 3, groups=0)]
    for make in cases:
        with pytest.raises(ValueError) as theirs:
            make(torch.nn)
        with pytest.raises(ValueError) as ours:
            make(nn)
        # up to the details (torch prints the modes as a set, in no fixed order)
        assert str(ours.value).split(" (")[0].split(" one of")[0] == \
            str(theirs.value).split(" (")[0].split(" one of")[0]


LAYERS = {
    "groupnorm": (lambda m: m.GroupNorm(2, 4), (3, 4, 5)),
    "groupnorm_4d_eps": (lambda m: m.GroupNorm(3, 6, eps=1e-3), (2, 6, 3, 2)),
    "groupnorm_one_group": (lambda m: m.GroupNorm(1, 3, bias=False), (2, 3, 4)),
    "groupnorm_no_affine": (lambda m: m.GroupNorm(4, 4, affine=False), (2, 4, 3, 3)),
    "groupnorm_2d_input": (lambda m: m.GroupNorm(2, 6), (5, 6)),
    "instancenorm1d": (lambda m: m.InstanceNorm1d(3), (2, 3, 6)),
    "instancenorm1d_unbatched": (lambda m: m.InstanceNorm1d(3, affine=True), (3, 6)),
    "instancenorm2d_affine": (lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 3)),
    "instancenorm2d_running": (lambda m: m.InstanceNorm2d(2, momentum=0.3,
                                                          track_running_stats=True),
                               (3, 2, 3, 3)),
    "prelu": (lambda m: m.PReLU(), (3, 4, 2)),
    "prelu_channels": (lambda m: m.PReLU(4, init=0.1), (3, 4, 2, 2)),
    "threshold": (lambda m: m.Threshold(0.1, 20.0), (3, 4)),
    "softmin": (lambda m: m.Softmin(dim=1), (3, 4, 2)),
    "zeropad2d": (lambda m: m.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4)),
    "constantpad1d": (lambda m: m.ConstantPad1d(2, 3.5), (2, 3, 4)),
    "constantpad3d": (lambda m: m.ConstantPad3d((1, 0, 0, 1, 2, 0), -1.0), (1, 2, 2, 3, 2)),
    "reflectionpad1d": (lambda m: m.ReflectionPad1d((3, 1)), (2, 3, 4)),
    "reflectionpad2d": (lambda m: m.ReflectionPad2d((1, 2, 3, 1)), (1, 2, 4, 3)),
    "reflectionpad3d": (lambda m: m.ReflectionPad3d(1), (1, 2, 2, 3, 2)),
    "replicationpad2d": (lambda m: m.ReplicationPad2d(2), (2, 3, 2, 3)),
    "replicationpad1d_unbatched": (lambda m: m.ReplicationPad1d((0, 3)), (3, 2)),
    "circularpad2d": (lambda m: m.CircularPad2d((1, 2, 2, 0)), (2, 1, 3, 3)),
    "circularpad1d": (lambda m: m.CircularPad1d(2), (2, 3, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_match_torch(name):
    make, shape = LAYERS[name]
    ours, theirs = _pair(make)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    if "prelu" in name or "threshold" in name:
        x = np.where(np.abs(x - 0.1) < 0.02, 0.5, x)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        _compare(ours, theirs, x)
        for layer in (ours, theirs):
            layer.zero_grad()


def test_group_norm_and_prelu_parameters_come_back_to_torch():
    for make in (lambda m: m.GroupNorm(2, 4), lambda m: m.PReLU(4)):
        ours, theirs = _pair(make)
        for p in ours.parameters():
            p.array[...] = np.random.default_rng(1).standard_normal(p.shape)
        theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in ours.state_dict().items()})
        _compare(ours, theirs, np.random.default_rng(2).standard_normal((2, 4, 3)))


def test_norm_and_prelu_defaults_match_torch():
    for make in (lambda m: m.GroupNorm(3, 6), lambda m: m.PReLU(5, init=0.3),
                 lambda m: m.InstanceNorm2d(4, affine=True, track_running_stats=True)):
        ours, theirs = make(nn), make(torch.nn)
        t = theirs.state_dict()
        for k, v in ours.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), t[k].numpy(), err_msg=k)
            assert v.numpy().dtype == t[k].numpy().dtype, k


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.Conv1d(3, 8, 5, stride=2, padding=2, groups=1), (4, 3, 33)),
    (lambda m: m.ConvTranspose2d(8, 4, 4, stride=2, padding=1), (3, 8, 9, 7)),
    (lambda m: m.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1, groups=2), (2, 4, 11)),
    (lambda m: m.GroupNorm(4, 8), (3, 8, 5, 5))])
def test_float32_layers_match_torch(make, shape):
    # the default dtype, through the Numba kernels: within float32 rounding of torch
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y, gx = _run(ours, x, minidl)
    ty, tgx = _run(theirs, x, torch)
    assert y.dtype == minidl.float32 and gx.dtype == minidl.float32
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-4, atol=1e-5)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4,
                                   atol=1e-4, err_msg=name)


def test_conv_transpose_output_size_unbatched_and_1d():
    ours, theirs = _pair(lambda m: m.ConvTranspose2d(2, 3, 3, stride=3, groups=1))
    _compare(ours, theirs, np.random.default_rng(0).standard_normal((2, 3, 3)),
             output_size=(10, 11))
    ours, theirs = _pair(lambda m: m.ConvTranspose1d(2, 4, 3, stride=2, groups=2))
    _compare(ours, theirs, np.random.default_rng(0).standard_normal((1, 2, 5)),
             output_size=[12])
