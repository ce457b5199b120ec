"""minidl.bridge: conversions both ways, the per-layer compare report, compare_training
and check_op, with planted bugs that the report must name."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
from minidl.bridge import (ArchitectureMismatch, check_op, compare, compare_training,  # noqa: E402
                           from_torch, to_torch)
from minidl.models import LeNet5, MLP, SimpleCNN, define_models  # noqa: E402

TORCH_MODELS = define_models(torch.nn)
RNG = np.random.default_rng(0)
CASES = {"simplecnn": (SimpleCNN, RNG.standard_normal((4, 3, 28, 28))),
         "mlp": (MLP, RNG.standard_normal((4, 784))),
         "lenet5": (LeNet5, RNG.standard_normal((4, 1, 28, 28)))}
TARGET = np.array([1, 2, 3, 4])


@pytest.mark.parametrize("dtype,bound", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_layer_of_the_zoo_agrees(name, dtype, bound):
    cls, x = CASES[name]
    report = compare(cls(), getattr(TORCH_MODELS, cls.__name__)(), x.astype(dtype), TARGET,
                     dtype=dtype)
    assert report.ok, str(report)
    for row in report.rows:
        for value in (row.out_rel, row.grad_in_rel, row.param_grad_rel):
            assert value is None or value <= bound, (row, str(report))
    assert "OK" in str(report) and report.to_dict()["ok"]


def test_fifty_adam_steps_keep_the_loss_curves_together(tmp_path):
    x = RNG.standard_normal((8, 3, 28, 28)).astype(np.float32)
    batches = [(x, RNG.integers(0, 10, 8)) for _ in range(5)]
    report = compare_training(SimpleCNN(), TORCH_MODELS.SimpleCNN(), batches, steps=50,
                              optimizer="adam", lr=1e-3)
    assert report.ok and report.max_rel < 1e-4, str(report)
    assert report.losses_torch[-1] < report.losses_torch[0]
    report.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _WrongTanhGrad(minidl.autograd.Function):
    """tanh with a planted bug: its backward forgets the square (1 - y instead of 1 - y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = x.tanh()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y)


def _net(lib, act):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(5, 6)
            self.act = act()
            self.fc2 = lib.nn.Linear(6, 3)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))
    return Net()


class _BuggyTanh(nn.Module):
    def forward(self, x):
        return _WrongTanhGrad.apply(x)


def test_a_wrong_backward_is_named_by_layer_and_direction():
    report = compare(_net(minidl, _BuggyTanh), _net(torch, torch.nn.Tanh),
                     RNG.standard_normal((4, 5)), dtype="float64")
    assert not report.ok
    assert report.first_forward is None and report.first_backward == "act", str(report)
    assert "first divergence at 'act'" in str(report)


def test_a_perturbed_weight_is_named():
    ours, theirs = _net(minidl, nn.Tanh), _net(torch, torch.nn.Tanh)
    theirs.load_state_dict(to_torch(ours.state_dict()))
    with minidl.no_grad():
        ours.fc2.weight[0, 0] += 1e-3
    report = compare(ours, theirs, RNG.standard_normal((4, 5)), copy_weights=False)
    assert report.weights_differ == ["fc2.weight"]
    assert report.first_forward == "fc2" and not report.ok, str(report)


def test_a_layer_with_another_default_is_named():
    ours = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, eps=1e-1), nn.ReLU())
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6),
                                 torch.nn.ReLU())
    report = compare(ours, theirs, RNG.standard_normal((8, 4)), dtype="float64")
    assert report.first_forward == "1", str(report)


def test_mismatched_architectures_list_names_and_shapes():
    ours = nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Linear(6, 3, bias=False))
    with pytest.raises(ArchitectureMismatch) as info:
        compare(ours, theirs, RNG.standard_normal((2, 4)))
    text = str(info.value)
    assert "1.weight: source [2, 6], torch [3, 6]" in text
    assert "1.bias: source [2], torch missing" in text


@pytest.mark.parametrize("cls", [SimpleCNN, MLP, LeNet5])
def test_weights_round_trip_bit_exactly(cls):
    model = cls()
    back = from_torch(to_torch(model))
    assert type(back) is cls
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k].numpy(), v.numpy())
        assert back.state_dict()[k].dtype == v.dtype


def test_sequential_trees_and_tensors_convert_both_ways():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3)).double()
    twin = to_torch(model)
    assert isinstance(twin[0], torch.nn.Conv2d) and twin[0].padding == (1, 1)
    assert twin[5].weight.dtype == torch.float64
    x = RNG.standard_normal((2, 1, 4, 4))
    np.testing.assert_allclose(model.eval()(minidl.tensor(x)).detach().numpy(),
                               twin.eval()(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    t = minidl.tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    tt = to_torch(t, grad=True)
    assert tt.requires_grad and tt.dtype == torch.float32 and tt.grad.tolist() == [2.0, 4.0]
    back = from_torch(torch.arange(3, dtype=torch.int32))
    assert back.dtype == minidl.int32 and back.tolist() == [0, 1, 2]


def test_safetensors_files_move_between_the_libraries(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    theirs = TORCH_MODELS.MLP()
    safetensors_torch.save_file(theirs.state_dict(), str(tmp_path / "t.safetensors"))
    ours = MLP()
    ours.load_state_dict(minidl.load(tmp_path / "t.safetensors"))
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    minidl.save(ours.state_dict(), tmp_path / "m.safetensors")
    loaded = safetensors_torch.load_file(str(tmp_path / "m.safetensors"))
    assert set(loaded) == set(theirs.state_dict())
    theirs.load_state_dict(loaded)


def test_a_custom_model_needs_its_twins_constructor():
    with pytest.raises(TypeError, match="constructor"):
        to_torch(_net(minidl, nn.Tanh))
    twin = to_torch(_net(minidl, nn.Tanh), constructor=lambda: _net(torch, torch.nn.Tanh))
    assert isinstance(twin.fc1, torch.nn.Linear)


def test_check_op_passes_a_right_op_and_names_a_wrong_one():
    assert check_op(lambda a, b: (a * b).sum(1), lambda a, b: (a * b).sum(1), (3, 4), (3, 4))
    assert check_op(lambda a: a.tanh(), lambda a: a.tanh(), (2, 3), hypothesis=True,
                    max_examples=5)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_op(_WrongTanhGrad.apply, torch.tanh, (3,))
    with pytest.raises(AssertionError, match="output 0"):
        check_op(lambda a: a.exp(), lambda a: a.exp() + 1e-3, (3,))


def test_the_layers_past_the_seed_cnn_have_twins_that_agree():
    # every layer with a built-in twin, inside one Sequential: converted, compared in float64
    seq = nn.Sequential(
        nn.Unflatten(1, (4, 16)), nn.Conv1d(4, 6, 3, padding=1, padding_mode="reflect"),
        nn.GroupNorm(2, 6), nn.PReLU(), nn.InstanceNorm1d(6, affine=True), nn.ELU(0.5),
        nn.Unflatten(1, (6, 1)), nn.ConvTranspose2d(6, 4, (1, 3), stride=(1, 2),
                                                    output_padding=(0, 1)),
        nn.Hardtanh(-0.5, 0.5), nn.Flatten(), nn.LayerNorm(136, bias=False), nn.Softplus(2.0),
        nn.Mish(), nn.SELU(), nn.Linear(136, 8), nn.GLU(), nn.Hardswish())
    twin = to_torch(seq)
    assert [type(m).__name__ for m in twin] == [type(m).__name__ for m in seq]
    report = compare(seq, twin, RNG.standard_normal((3, 64)), dtype="float64")
    assert report.ok, str(report)
    back = from_torch(twin)
    for (k, a), (k2, b) in zip(seq.state_dict().items(), back.state_dict().items()):
        assert k == k2 and np.array_equal(a.numpy(), b.numpy())


def _sequence_layers(lib_nn):
    """Sequence layers, each converted by its built-in twin."""
    return lib_nn.ModuleDict({
        "attn": lib_nn.MultiheadAttention(8, 2, batch_first=True, kdim=6, vdim=5),
        "enc": lib_nn.TransformerEncoder(lib_nn.TransformerEncoderLayer(
            8, 2, 16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
            2, norm=lib_nn.LayerNorm(8)),
        "tf": lib_nn.Transformer(8, 2, 1, 2, 12, dropout=0.0, batch_first=True),
        "cell": lib_nn.LSTMCell(8, 4), "gru": lib_nn.GRUCell(8, 4),
        "rnn": lib_nn.RNNCell(8, 4, nonlinearity="relu"),
        "up": lib_nn.Upsample(scale_factor=2, mode="linear", align_corners=True)})


def _run_seq2seq(lib, mods, x, k, v, t):
    T = lambda a: lib.tensor(a)          # noqa: E731
    out = [mods["attn"](T(x), T(k), T(v))[0], mods["enc"](T(x)), mods["tf"](T(x), T(t)),
           mods["cell"](T(x[:, 0]))[0], mods["gru"](T(x[:, 0])), mods["rnn"](T(x[:, 0])),
           mods["up"](T(x))]
    return [o.detach().numpy() for o in out]


def test_attention_and_transformer_layers_have_twins_that_agree():
    x, k, v = RNG.standard_normal((2, 5, 8)), RNG.standard_normal((2, 7, 6)), \
        RNG.standard_normal((2, 7, 5))
    t = RNG.standard_normal((2, 3, 8))
    ours = _sequence_layers(nn).double()
    twin = to_torch(ours)
    assert {k: type(m).__name__ for k, m in twin.items()} == \
        {k: type(m).__name__ for k, m in ours.items()}
    for a, b in zip(_run_seq2seq(minidl, ours, x, k, v, t), _run_seq2seq(torch, twin, x, k, v, t)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    back = from_torch(twin)
    assert list(back.state_dict()) == list(ours.state_dict())
    for key, a in ours.state_dict().items():
        assert np.array_equal(a.numpy(), back.state_dict()[key].numpy()), key


def test_a_transformer_layer_with_a_custom_activation_asks_for_a_constructor():
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=lambda x: x * 2)
    with pytest.raises(TypeError, match="activation .* has no built-in twin"):
        to_torch(layer)
