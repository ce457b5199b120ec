"""The CuPy-shaped test double (minidl.testing.device_double) and minidl "on the device":
ops, layers, losses and optimizers give on the double what they give on NumPy with the
plain-NumPy kernels (the kernels a CuPy array takes), a SimpleCNN training step makes no
host round trip, and mixing devices raises naming both."""
import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.models import SimpleCNN
from minidl.testing import device_double

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# name -> (function of tensors, input arrays); each runs forward and backward
OPS = {
    "elementwise": (lambda a, b: ((a * b + 1).tanh() - a.exp() / (1 + b * b)).sigmoid(),
                    [_arr(3, 4), _arr(4)]),
    "reductions": (lambda a: a.sum(0) + a.mean(1, keepdim=True).squeeze(1)[:4].sum()
                   + a.amax(1).sum() + a.var(), [_arr(4, 5)]),
    "matmul": (lambda a, b: (a @ b).relu(), [_arr(2, 3, 4), _arr(4, 5)]),
    "indexing": (lambda a: a[1:, [0, 2, 2]] * a[0, 1] + a.gather(1, minidl.tensor(
        np.array([[0], [1], [3]]), device="cuda")).sum(), [_arr(3, 4)]),
    "shape": (lambda a: minidl.cat([a.t(), a.t() * 2], 0).reshape(-1, 2).flip(0)[::2],
              [_arr(3, 4)]),
    "softmax": (lambda a: F.log_softmax(a, 1) + F.softmax(a, 0), [_arr(3, 5)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
               [_arr(2, 3, 7, 7), _arr(4, 3, 3, 3), _arr(4)]),
    "pooling": (lambda x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), [_arr(2, 3, 6, 6)]),
    "linear": (lambda x, w, b: F.gelu(F.linear(x, w, b)), [_arr(5, 4), _arr(3, 4), _arr(3)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (4,), w, b), [_arr(3, 4), _arr(4), _arr(4)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, minidl.tensor(np.array([1, 0, 2]),
                                                                 device="cuda")), [_arr(3, 4)]),
    "mse": (lambda a, b: F.mse_loss(a, b) + F.smooth_l1_loss(a, b), [_arr(3, 4), _arr(3, 4)]),
}


def _run(fn, arrays, device):
    leaves = [minidl.tensor(a, device=device, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.sum().backward()
    return [minidl.backend.to_numpy(out.detach().array)] + \
        [minidl.backend.to_numpy(t.grad.array) for t in leaves]


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_on_the_double_equal_the_numpy_kernels(name):
    fn, arrays = OPS[name]
    with minidl.kernels.use_numba(False), device_double.installed():
        device = _run(fn, arrays, "cuda")
    cpu_fn = OPS[name][0]
    with minidl.kernels.use_numba(False):
        # the same function on the CPU: "cuda" tensors built inside it go to the CPU
        original = minidl.tensor

        def on_cpu(data, *args, device=None, **kwargs):
            return original(data, *args, **kwargs)
        minidl.tensor = on_cpu
        try:
            host = _run(cpu_fn, arrays, "cpu")
        finally:
            minidl.tensor = original
    for d, h in zip(device, host):
        np.testing.assert_allclose(d, h, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_simplecnn_training_step_makes_no_host_round_trip(optimizer):
    x, y = _arr(8, 1, 28, 28), RNG.integers(0, 10, 8)

    def train(device, fake=None):
        minidl.manual_seed(0)
        model = SimpleCNN(1, 28).to(device)
        make = minidl.optim.Adam if optimizer == "adam" else minidl.optim.SGD
        opt = make(model.parameters(), lr=1e-2)
        xs, ys = minidl.tensor(x, device=device), minidl.tensor(y, device=device)
        if fake is not None:
            fake.transfers.update(to_device=0, to_host=0)
        for _ in range(3):
            loss = F.cross_entropy(model(xs), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
        moved = dict(fake.transfers) if fake is not None else None
        return moved, {k: minidl.backend.to_numpy(v.array) for k, v in model.state_dict().items()}

    with minidl.kernels.use_numba(False):
        with device_double.installed() as fake:
            moved, on_device = train("cuda", fake)
        _, on_host = train("cpu")
    assert moved == {"to_device": 0, "to_host": 0}, moved
    for key in on_host:
        np.testing.assert_allclose(on_device[key], on_host[key], rtol=1e-5, atol=1e-6,
                                   err_msg=key)


def test_module_to_moves_parameters_and_buffers_and_back():
    with device_double.installed():
        net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).to("cuda")
        assert {str(p.device) for p in net.parameters()} == {"cuda:0"}
        assert {str(b.device) for b in net.buffers()} == {"cuda:0"}
        back = net.to("cpu")
        assert all(type(p.array) is np.ndarray for p in back.parameters())


def test_the_double_refuses_implicit_host_conversion():
    with device_double.installed() as fake:
        x = minidl.ones(3, device="cuda")
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
            np.asarray(x.array)
        with pytest.raises(TypeError, match="host array"):
            fake.add(np.ones(3), np.ones(3))          # CuPy's ufuncs refuse host arrays too
        assert fake.asnumpy(x.array).tolist() == [1.0, 1.0, 1.0]
        assert fake.transfers["to_host"] == 1


def test_mixing_devices_in_one_op_names_both():
    with device_double.installed():
        a, b = minidl.ones(3, device="cuda"), minidl.ones(3)
        with pytest.raises(RuntimeError, match="AddBackward0: Expected all tensors to be on "
                                               "the same device.*cuda:0 and cpu"):
            a + b
        with pytest.raises(RuntimeError, match="same device"):
            F.linear(b.reshape(1, 3), a.reshape(1, 3))
        assert (a * minidl.tensor(2.0)).device == minidl.device("cuda")   # a 0-d CPU scalar


def test_a_planted_host_round_trip_is_counted():
    class Leaky(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            scale = float(np.abs(x.detach().cpu().numpy()).max())   # to the host and back
            return self.fc(x / scale)

    with device_double.installed() as fake:
        model = Leaky().to("cuda")
        x = minidl.tensor(_arr(3, 4), device="cuda")
        fake.transfers.update(to_device=0, to_host=0)
        model(x).sum().backward()
        assert fake.transfers["to_host"] == 1


@pytest.mark.parametrize("make", [
    lambda d: minidl.zeros(2, 3, device=d), lambda d: minidl.ones(4, device=d),
    lambda d: minidl.full((2,), 7, device=d), lambda d: minidl.eye(3, 2, device=d),
    lambda d: minidl.arange(0, 1, 0.1, device=d), lambda d: minidl.linspace(0, 1, 7, device=d),
    lambda d: minidl.zeros_like(minidl.empty(0, device=d).new_zeros(3)),
    lambda d: minidl.full_like(minidl.zeros(2, device=d, dtype=minidl.float64), 0.5)],
    ids=["zeros", "ones", "full", "eye", "arange", "linspace", "zeros_like", "full_like"])
def test_deterministic_factories_build_on_the_device(make):
    host = make("cpu")
    with device_double.installed() as fake:
        made = make("cuda")
        assert fake.transfers == {"to_device": 0, "to_host": 0}
        assert made.device == minidl.device("cuda") and made.dtype == host.dtype
        np.testing.assert_array_equal(fake.asnumpy(made.array), host.numpy())


def test_set_default_device_applies_to_tensor_and_the_factories():
    with device_double.installed():
        minidl.set_default_device("cuda")
        try:
            made = [minidl.tensor([1.0, 2.0]), minidl.zeros(2), minidl.randn(2),
                    minidl.arange(3)]
            assert {str(t.device) for t in made} == {"cuda:0"}
        finally:
            minidl.set_default_device(None)
    assert minidl.tensor([1.0]).device == minidl.device("cpu")
