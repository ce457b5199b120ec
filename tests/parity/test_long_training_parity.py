"""A long float64 training run stays on PyTorch's trajectory: 150 Adam steps of the
SimpleCNN on a stream of random batches, from the same weights, agree to rounding.

(The same check over 1500 steps of real Fashion-MNIST batches: losses within 4.4e-16 and
weights within 2.3e-13 of PyTorch's; see benchmarks/ACCURACY.md.)
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
from minidl.models import define_models  # noqa: E402


def test_150_adam_steps_track_pytorch_in_float64():
    torch.manual_seed(0)
    net_t = define_models(torch.nn).SimpleCNN(1, 28).double()
    net_m = define_models(minidl.nn).SimpleCNN(1, 28).double()
    net_m.load_state_dict({k: v.numpy() for k, v in net_t.state_dict().items()})
    opt_t = torch.optim.Adam(net_t.parameters(), lr=1e-3)
    opt_m = minidl.optim.Adam(net_m.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    templates = rng.random((10, 1, 28, 28))          # learnable: one noisy template a class
    for _ in range(150):
        y = rng.integers(0, 10, 32)
        x = templates[y] + 0.3 * rng.standard_normal((32, 1, 28, 28))
        loss_t = torch.nn.functional.cross_entropy(net_t(torch.tensor(x)), torch.tensor(y))
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        loss_m = minidl.nn.functional.cross_entropy(net_m(minidl.tensor(x)), minidl.tensor(y))
        opt_m.zero_grad()
        loss_m.backward()
        opt_m.step()
        assert abs(loss_t.item() - loss_m.item()) < 1e-10
    assert loss_m.item() < 0.5                        # it learned
    for (name, p_t), p_m in zip(net_t.named_parameters(), net_m.parameters()):
        np.testing.assert_allclose(p_m.detach().numpy(), p_t.detach().numpy(), rtol=0,
                                   atol=1e-10, err_msg=name)
