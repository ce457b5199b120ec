"""RMSprop, Adagrad, Adadelta and LBFGS follow PyTorch's trajectories."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402

RNG = np.random.default_rng(0)


def _loss(p):
    return (p ** 3).sum() + (p * p).sum()


@pytest.mark.parametrize("name,options", [
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"alpha": 0.9, "maximize": True, "lr": 1e-3}),
    ("Adagrad", {}), ("Adagrad", {"lr_decay": 0.01, "weight_decay": 0.1,
                                  "initial_accumulator_value": 0.5}),
    ("Adadelta", {}), ("Adadelta", {"rho": 0.5, "weight_decay": 0.1, "lr": 0.5})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trajectories_match(name, options, dtype):
    w0 = RNG.standard_normal(6).astype(dtype)
    ours = minidl.tensor(w0.copy(), requires_grad=True)
    theirs = torch.tensor(w0.copy(), requires_grad=True)
    opts = [getattr(minidl.optim, name)([ours], **options),
            getattr(torch.optim, name)([theirs], **options)]
    tol = 1e-5 if dtype == "float32" else 1e-12
    for _ in range(60):
        for p, opt in zip((ours, theirs), opts):
            opt.zero_grad()
            _loss(p).backward()
            opt.step()
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol,
                                   atol=tol)
    ours_state = opts[0].state_dict()["state"][0]
    theirs_state = opts[1].state_dict()["state"][0]
    assert set(ours_state) == set(theirs_state)


def test_invalid_hyperparameters_are_named():
    p = [minidl.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        minidl.optim.RMSprop(p, lr=-1)
    with pytest.raises(ValueError, match="Invalid rho value: 2"):
        minidl.optim.Adadelta(p, rho=2)
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        minidl.optim.LBFGS(p, line_search_fn="wolfe")


@pytest.mark.parametrize("options", [{}, {"lr": 0.5, "history_size": 3, "max_iter": 5},
                                     {"line_search_fn": "strong_wolfe"},
                                     {"line_search_fn": "strong_wolfe", "history_size": 2}])
def test_lbfgs_follows_pytorch(options):
    scale = np.array([1.0, 3.0, 10.0])

    def f(lib, p):
        return ((p - 0.5) ** 2 * lib.tensor(scale)).sum() + (p ** 4).sum()

    ours = minidl.tensor([-1.5, 2.0, 1.0], requires_grad=True, dtype=minidl.float64)
    theirs = torch.tensor([-1.5, 2.0, 1.0], requires_grad=True, dtype=torch.float64)
    opts = [minidl.optim.LBFGS([ours], **options), torch.optim.LBFGS([theirs], **options)]
    for _ in range(5):
        losses = []
        for lib, p, opt in ((minidl, ours, opts[0]), (torch, theirs, opts[1])):
            def closure():
                opt.zero_grad()
                loss = f(lib, p)
                loss.backward()
                return loss
            losses.append(float(opt.step(closure).detach()))
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert opts[0].state[ours]["func_evals"] == opts[1].state[theirs]["func_evals"]
