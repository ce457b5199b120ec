"""Optimizers and lr schedulers against PyTorch: trajectories, state and lr sequences."""
import math

import numpy as np
import pytest

import minidl
from minidl import optim

torch = pytest.importorskip("torch")

STEPS = 20
SHAPES = [(3, 4), (5,), ()]

SGD_CONFIGS = [
    {"lr": 0.1},
    {},                                                     # the default lr, 1e-3
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.05, "momentum": 0.7, "dampening": 0.1, "weight_decay": 0.2},
]
ADAM_CONFIGS = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.02, "betas": (0.3, 0.5)},                      # lerp weight > 0.5
    {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
]
ADAMW_CONFIGS = [
    {},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
    {"lr": 0.05, "maximize": True},
]
CASES = ([("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS]
         + [("AdamW", c) for c in ADAMW_CONFIGS])
# PyTorch's CPU kernels fuse `a + alpha * b` into one FMA where NumPy rounds twice, so
# values differ by a few ulps of their O(1) scale (more relative to an entry that cancels
# to near zero): the tolerances are relative plus absolute at that scale.
TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-6, atol=1e-6)}


def _initial(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def _grad(fixed, p, step, i):
    """The gradient of f(p) = fixed . p + |p|^2 / 4, except that parameter 2 has none on
    odd steps (optimizers skip a parameter whose grad is None)."""
    if i == 2 and step % 2:
        return None
    return np.asarray(fixed + 0.5 * p)


class _Runner:
    """Drive a minidl or a torch optimizer over the same gradient sequence."""

    def __init__(self, lib, name, config, params, groups=None):
        self.lib = lib
        if lib == "minidl":
            self.params = [minidl.tensor(p.copy(), requires_grad=True) for p in params]
            module = optim
        else:
            self.params = [torch.tensor(p.copy(), requires_grad=True) for p in params]
            module = torch.optim
            if name != "SGD":
                config = dict(config, foreach=False)      # PyTorch's single-tensor path
        spec = self.params if groups is None else [
            dict(g, params=[self.params[i] for i in g["params"]]) for g in groups]
        self.opt = getattr(module, name)(spec, **config)

    def arrays(self):
        return [p.detach().numpy().copy() for p in self.params]

    def step(self, grads, step):
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = _grad(g, p.detach().numpy(), step, i)
            if g is None:
                p.grad = None
            elif self.lib == "minidl":
                p.grad = minidl.tensor(g)
            else:
                p.grad = torch.from_numpy(g.copy())
        self.opt.step()


def _run_both(name, config, dtype, groups=None):
    params, grads = _initial(dtype)
    ours = _Runner("minidl", name, config, params, groups)
    theirs = _Runner("torch", name, config, params, groups)
    for step in range(STEPS):
        ours.step(grads[step], step)
        theirs.step(grads[step], step)
        for a, b in zip(ours.arrays(), theirs.arrays()):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **TOL[dtype], err_msg=f"step {step}")
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_trajectory_matches_torch(name, config, dtype):
    ours, theirs = _run_both(name, config, dtype)
    # the state matches too, entry for entry, in PyTorch's layout
    sd_ours, sd_theirs = ours.opt.state_dict(), theirs.opt.state_dict()
    assert sorted(sd_ours["state"]) == sorted(sd_theirs["state"])
    for index, state in sd_theirs["state"].items():
        assert sorted(sd_ours["state"][index]) == sorted(state)
        for key, value in state.items():
            mine = sd_ours["state"][index][key]
            if key == "step":
                assert mine == value.item()
            else:
                np.testing.assert_allclose(mine.numpy(), value.numpy(), **TOL[dtype])
    for g_ours, g_theirs in zip(sd_ours["param_groups"], sd_theirs["param_groups"]):
        assert g_ours["params"] == g_theirs["params"]
        for key, value in g_ours.items():
            if key != "params":
                assert g_theirs[key] == value, key


GROUPS = [{"params": [0], "lr": 0.1}, {"params": [1, 2], "lr": 0.02, "weight_decay": 0.1}]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,config", [("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True}),
                                         ("AdamW", {})])
def test_param_groups_match_torch(name, config, dtype):
    _run_both(name, config, dtype, GROUPS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizer_with_scheduler_matches_torch(dtype):
    params, grads = _initial(dtype)
    ours = _Runner("minidl", "Adam", {"lr": 0.1}, params)
    theirs = _Runner("torch", "Adam", {"lr": 0.1}, params)
    sched_ours = optim.lr_scheduler.CosineAnnealingLR(ours.opt, T_max=7, eta_min=0.01)
    sched_theirs = torch.optim.lr_scheduler.CosineAnnealingLR(theirs.opt, T_max=7, eta_min=0.01)
    for step in range(STEPS):
        ours.step(grads[step], step)
        theirs.step(grads[step], step)
        sched_ours.step()
        sched_theirs.step()
        assert sched_ours.get_last_lr() == sched_theirs.get_last_lr()
        for a, b in zip(ours.arrays(), theirs.arrays()):
            np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("name,config", [("SGD", {"lr": 0.05, "momentum": 0.9}),
                                         ("Adam", {"lr": 0.05, "amsgrad": True}),
                                         ("AdamW", {"lr": 0.05})])
def test_torch_state_dict_loads_into_minidl(name, config):
    """Half a run in PyTorch, the rest in minidl from PyTorch's state: the same end."""
    params, grads = _initial(np.float64)
    theirs = _Runner("torch", name, config, params)
    for step in range(STEPS // 2):
        theirs.step(grads[step], step)
    sd = theirs.opt.state_dict()
    sd = {"state": {k: {n: minidl.tensor(v.numpy().copy()) for n, v in s.items()}
                    for k, s in sd["state"].items()},
          "param_groups": sd["param_groups"]}
    ours = _Runner("minidl", name, config, theirs.arrays())
    ours.opt.load_state_dict(sd)
    for step in range(STEPS // 2, STEPS):
        ours.step(grads[step], step)
        theirs.step(grads[step], step)
    for a, b in zip(ours.arrays(), theirs.arrays()):
        np.testing.assert_allclose(a, b, **TOL[np.float64])


def _scheduler_pair(make):
    """make(module, optimizer) -> scheduler, for minidl and torch on two-group SGDs."""
    def groups(lib, params):
        return [{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.03}]
    ours_opt = optim.SGD(groups("minidl", [minidl.zeros(2, requires_grad=True)
                                           for _ in range(2)]), momentum=0.9)
    theirs_opt = torch.optim.SGD(groups("torch", [torch.zeros(2, requires_grad=True)
                                                  for _ in range(2)]), momentum=0.9)
    return make(optim.lr_scheduler, ours_opt), make(torch.optim.lr_scheduler, theirs_opt)


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=50),
    "CosineAnnealingLR-restarts": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e + math.sin(e) / 10),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
}


@pytest.mark.parametrize("kind", list(SCHEDULERS))
def test_scheduler_lrs_match_torch(kind):
    ours, theirs = _scheduler_pair(SCHEDULERS[kind])
    assert ours.get_last_lr() == theirs.get_last_lr()
    assert ours.base_lrs == theirs.base_lrs
    for epoch in range(50):
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()
        assert ours.last_epoch == theirs.last_epoch == epoch + 1
        assert ours.get_last_lr() == theirs.get_last_lr(), f"epoch {epoch + 1}"
        assert [g["lr"] for g in ours.optimizer.param_groups] == theirs.get_last_lr()


@pytest.mark.parametrize("kind", ["StepLR", "MultiStepLR", "ExponentialLR",
                                  "CosineAnnealingLR-restarts"])
def test_scheduler_closed_form_matches_torch(kind):
    ours, theirs = _scheduler_pair(SCHEDULERS[kind])
    for epoch in [3, 7, 12, 13, 31, 20]:
        with pytest.warns(UserWarning, match="epoch parameter"):
            ours.step(epoch)
        with pytest.warns(UserWarning):
            theirs.step(epoch)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)


@pytest.mark.parametrize("kind", ["StepLR", "MultiStepLR", "CosineAnnealingLR-restarts"])
def test_scheduler_state_dict_matches_torch_keys(kind):
    ours, theirs = _scheduler_pair(SCHEDULERS[kind])
    for _ in range(5):
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()
    mine, reference = ours.state_dict(), theirs.state_dict()
    for key in ("base_lrs", "last_epoch", "_step_count", "_last_lr"):
        assert mine[key] == reference[key], key
