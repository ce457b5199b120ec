"""nn against PyTorch: each layer and loss module on the same weights (moved through
state_dict) and inputs gives the same values and gradients in train and eval mode;
BatchNorm's buffers follow the same path; state_dict keys, reprs, init distributions and
load results agree."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
from minidl.nn import init  # noqa: E402

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def _torch_state(module):
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in module.state_dict().items()}


def _numpy_state(tmodule):
    return {k: v.detach().numpy() for k, v in tmodule.state_dict().items()}


def _pair(make, dtype):
    """The same layer in both libraries, the minidl one loaded from torch's state dict."""
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    ours, theirs = make(nn), make(torch.nn).to(tdtype)
    ours.to(dtype)
    ours.load_state_dict(_numpy_state(theirs))
    return ours, theirs


def _forward_backward(layer, x, lib):
    """y = layer(x), then backward of sum(y * g) for a fixed random g."""
    xt = lib.tensor(x, requires_grad=True)
    y = layer(xt)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(x.dtype)
    (y * lib.tensor(g)).sum().backward()
    return y, xt.grad


def _compare(ours, theirs, x, dtype):
    y, gx = _forward_backward(ours, x, minidl)
    ty, tgx = _forward_backward(theirs, x, torch)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), **TOL[dtype])
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **TOL[dtype])
    for (name, b), tb in zip(ours.named_buffers(), theirs.buffers()):
        np.testing.assert_allclose(b.numpy(), tb.numpy(), err_msg=name, **TOL[dtype])


LAYERS = {
    "linear": (lambda m: m.Linear(5, 3), (4, 5)),
    "linear_3d_no_bias": (lambda m: m.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv": (lambda m: m.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 5)),
    "conv_strided": (lambda m: m.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0),
                                        dilation=(1, 2)), (2, 2, 7, 6)),
    "conv_groups": (lambda m: m.Conv2d(4, 6, 3, groups=2, bias=False), (1, 4, 5, 5)),
    "conv_same_even": (lambda m: m.Conv2d(2, 3, 4, padding="same"), (1, 2, 5, 6)),
    "maxpool": (lambda m: m.MaxPool2d(2), (2, 3, 6, 4)),
    "maxpool_pad_ceil": (lambda m: m.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                         (1, 2, 6, 7)),
    "avgpool": (lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                (1, 2, 6, 7)),
    "adaptive": (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 2, 7, 5)),
    "relu": (lambda m: m.ReLU(), (3, 4)),
    "leaky_relu": (lambda m: m.LeakyReLU(0.2), (3, 4)),
    "sigmoid": (lambda m: m.Sigmoid(), (3, 4)),
    "tanh": (lambda m: m.Tanh(), (3, 4)),
    "softmax": (lambda m: m.Softmax(dim=1), (3, 4)),
    "log_softmax": (lambda m: m.LogSoftmax(dim=-1), (2, 3, 4)),
    "flatten": (lambda m: m.Flatten(), (2, 3, 4)),
    "identity": (lambda m: m.Identity(), (2, 3)),
    "batchnorm1d": (lambda m: m.BatchNorm1d(4), (6, 4)),
    "batchnorm1d_3d": (lambda m: m.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "batchnorm2d": (lambda m: m.BatchNorm2d(3, eps=1e-3, momentum=0.3), (4, 3, 3, 2)),
    "batchnorm2d_no_affine": (lambda m: m.BatchNorm2d(3, affine=False), (2, 3, 2, 2)),
    "batchnorm2d_no_bias": (lambda m: m.BatchNorm2d(3, bias=False), (2, 3, 2, 2)),
    "batchnorm2d_no_stats": (lambda m: m.BatchNorm2d(3, track_running_stats=False),
                             (2, 3, 2, 2)),
    "dropout": (lambda m: m.Dropout(0.0), (3, 4)),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")      # torch's own notice
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_parity(name, mode, dtype):
    torch.manual_seed(0)
    make, shape = LAYERS[name]
    ours, theirs = _pair(make, dtype)
    if name.startswith("batchnorm") and "no_stats" not in name:
        with torch.no_grad():   # non-trivial running statistics for eval mode
            theirs.running_mean.uniform_(-1, 1)
            theirs.running_var.uniform_(0.5, 2)
        ours.load_state_dict(_numpy_state(theirs))
    getattr(ours, mode)()
    getattr(theirs, mode)()
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    _compare(ours, theirs, x, dtype)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_after_steps(momentum):
    ours, theirs = _pair(lambda m: m.BatchNorm2d(3, momentum=momentum), np.float64)
    rng = np.random.default_rng(2)
    for _ in range(4):
        x = rng.standard_normal((3, 3, 4, 2)) * 3 + 1
        _compare(ours, theirs, x, np.float64)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, rng.standard_normal((2, 3, 4, 2)), np.float64)


def test_dropout_train_statistics_and_eval_identity_like_torch():
    x = np.ones((100, 100), dtype=np.float32)
    ours = nn.Dropout(0.25)(minidl.tensor(x)).numpy()
    theirs = torch.nn.Dropout(0.25)(torch.tensor(x)).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs))       # {0, 1/(1-p)} in float32
    assert abs((ours == 0).mean() - 0.25) < 0.025
    assert nn.Dropout(0.25).eval()(minidl.tensor(x)).numpy().tolist() == \
        torch.nn.Dropout(0.25).eval()(torch.tensor(x)).numpy().tolist()


def _loss_case(name, rng):
    if name in ("ce", "ce_probs", "nll"):
        x = rng.standard_normal((5, 3, 2))
        if name == "nll":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        if name == "ce_probs":
            t = rng.uniform(0, 1, (5, 3, 2))
            return x, t / t.sum(1, keepdims=True)
        return x, rng.integers(0, 3, (5, 2))
    if name == "bce":
        return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    return rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))


LOSSES = {
    "ce": lambda m, lib: m.CrossEntropyLoss(weight=lib.tensor([0.5, 2.0, 1.0]), ignore_index=2,
                                            label_smoothing=0.2),
    "ce_probs": lambda m, lib: m.CrossEntropyLoss(reduction="sum", label_smoothing=0.1),
    "nll": lambda m, lib: m.NLLLoss(weight=lib.tensor([0.5, 2.0, 1.0]), reduction="mean"),
    "mse": lambda m, lib: m.MSELoss(reduction="none"),
    "l1": lambda m, lib: m.L1Loss(),
    "bce": lambda m, lib: m.BCELoss(weight=lib.tensor([1.0, 0.5, 2.0])),
    "bce_logits": lambda m, lib: m.BCEWithLogitsLoss(pos_weight=lib.tensor([1.0, 3.0, 0.5]),
                                                     reduction="sum"),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_module_parity(name, dtype):
    x, t = _loss_case(name, np.random.default_rng(3))
    x = x.astype(dtype)
    t = t if t.dtype == np.int64 else t.astype(dtype)
    results = []
    for m, lib in ((nn, minidl), (torch.nn, torch)):
        loss = LOSSES[name](m, lib)
        loss.to(lib.float64 if dtype == np.float64 else lib.float32)
        xt = lib.tensor(x, requires_grad=True)
        out = loss(xt, lib.tensor(t))
        out.sum().backward()
        results.append((out.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], **TOL[dtype])
    np.testing.assert_allclose(results[0][1], results[1][1], **TOL[dtype])


def _model(m):
    """One architecture built from either library's nn."""
    class Model(m.Module):
        def __init__(self):
            super().__init__()
            self.features = m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4),
                                         m.ReLU(), m.MaxPool2d(2))
            self.blocks = m.ModuleList([m.Linear(16, 16), m.Linear(16, 16)])
            self.heads = m.ModuleDict({"a": m.Linear(16, 3), "b": m.Linear(16, 2, bias=False)})
            self.drop = m.Dropout(0.1)
            self.norm = m.BatchNorm1d(16, momentum=None)

        def forward(self, x):
            x = self.features(x).flatten(1)
            for block in self.blocks:
                x = block(x).relu()
            x = self.norm(self.drop(x))
            return self.heads["a"](x), self.heads["b"](x)

    return Model()


def test_state_dict_keys_order_and_shapes_match_torch():
    ours, theirs = _model(nn), _model(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), k
        assert str(a.dtype) == str(b.dtype), k          # both print torch.float32
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


def test_repr_matches_torch():
    assert repr(_model(nn)) == repr(_model(torch.nn))
    for make in (lambda m: m.Conv2d(3, 8, (3, 5), stride=2, padding="valid", groups=1),
                 lambda m: m.Conv2d(4, 8, 3, dilation=2, groups=4, bias=False),
                 lambda m: m.Conv2d(4, 8, 3, padding="same"),
                 lambda m: m.AvgPool2d(2, stride=1), lambda m: m.LeakyReLU(0.3, True),
                 lambda m: m.LogSoftmax(1), lambda m: m.BatchNorm1d(3, affine=False),
                 lambda m: m.BatchNorm2d(3, bias=False),
                 lambda m: m.ModuleList([m.ReLU(), m.ReLU(), m.Tanh(), m.ReLU()]),
                 lambda m: m.Sequential(), lambda m: m.BCEWithLogitsLoss()):
        assert repr(make(nn)) == repr(make(torch.nn))


def _outputs(model, x, lib):
    return [o.detach().numpy() for o in model(lib.tensor(x))]


def test_weights_move_both_ways_and_outputs_agree():
    torch.manual_seed(0)
    x = np.random.default_rng(4).standard_normal((3, 1, 4, 4)).astype(np.float32)
    ours, theirs = _model(nn).eval(), _model(torch.nn).eval()
    ours.load_state_dict(_numpy_state(theirs))                   # torch -> minidl (numpy)
    for a, b in zip(_outputs(ours, x, minidl), _outputs(theirs, x, torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    fresh = _model(torch.nn).eval()
    assert not fresh.load_state_dict(_torch_state(ours)).missing_keys  # minidl -> torch
    for a, b in zip(_outputs(ours, x, minidl), _outputs(fresh, x, torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_torch_tensors_load_directly_and_load_results_match():
    theirs = _model(torch.nn)
    ours = _model(nn)
    ours.load_state_dict(theirs.state_dict())                    # via __array__
    np.testing.assert_array_equal(ours.heads["a"].weight.detach().numpy(),
                                  theirs.heads.a.weight.detach().numpy())
    sd_ours, sd_theirs = ours.state_dict(), theirs.state_dict()
    for sd in (sd_ours, sd_theirs):
        del sd["blocks.1.bias"]
        sd["heads.c.weight"] = sd["heads.a.weight"]
        sd["extra"] = sd["heads.a.weight"]
    r_ours = ours.load_state_dict(sd_ours, strict=False)
    r_theirs = theirs.load_state_dict(sd_theirs, strict=False)
    assert r_ours.missing_keys == r_theirs.missing_keys
    assert r_ours.unexpected_keys == r_theirs.unexpected_keys
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict(sd_ours)
    with pytest.raises(RuntimeError) as theirs_err:
        theirs.load_state_dict(sd_theirs)
    assert str(ours_err.value) == str(theirs_err.value)


def test_size_mismatch_message_matches_torch_but_for_the_shape_type():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict({"weight": np.zeros((2, 4)), "bias": np.zeros(2)})
    with pytest.raises(RuntimeError) as theirs_err:
        theirs.load_state_dict({"weight": torch.zeros(2, 4), "bias": torch.zeros(2)})
    expected = str(theirs_err.value).replace("torch.Size([2, 4])", "(2, 4)")
    assert str(ours_err.value) == expected.replace("torch.Size([2, 3])", "(2, 3)")


def test_init_helpers_match_torch():
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))
    for shape in ((5, 3), (7, 3, 2), (16, 4, 3, 5)):
        assert init._calculate_fan_in_and_fan_out(minidl.zeros(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


@pytest.mark.parametrize("make", [lambda m: m.Linear(400, 300),
                                  lambda m: m.Conv2d(16, 64, 5, groups=2)])
def test_default_init_distribution_matches_torch(make):
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    w, tw = ours.weight.detach().numpy(), theirs.weight.detach().numpy()
    fan_in = w[0].size
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(tw).max() <= bound * (1 + 1e-6)
    assert w.std() == pytest.approx(tw.std(), rel=0.03)           # both ~ bound / sqrt(3)
    b, tb = ours.bias.detach().numpy(), theirs.bias.detach().numpy()
    assert np.abs(b).max() <= bound * (1 + 1e-6) and np.abs(tb).max() <= bound * (1 + 1e-6)
    assert w.dtype == tw.dtype == np.float32


@pytest.mark.parametrize("fn, args", [("kaiming_uniform_", dict(a=0.5, mode="fan_out")),
                                      ("kaiming_normal_", dict(nonlinearity="relu")),
                                      ("xavier_uniform_", dict(gain=1.5)),
                                      ("xavier_normal_", dict())])
def test_init_functions_spread_matches_torch(fn, args):
    torch.manual_seed(0)
    ours = getattr(init, fn)(minidl.zeros(128, 64, 3), **args).numpy()
    theirs = getattr(torch.nn.init, fn)(torch.zeros(128, 64, 3), **args).numpy()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    if "uniform" in fn:
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01)
