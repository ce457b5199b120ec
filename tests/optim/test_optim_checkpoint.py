"""A checkpoint taken mid-run (minidl.save / minidl.load) resumes the run bit for bit."""
import numpy as np
import pytest

import minidl
from minidl import optim

STEPS, SPLIT = 16, 7
OPTIMIZERS = {
    "SGD": lambda groups: optim.SGD(groups, lr=0.05, momentum=0.9, nesterov=True,
                                    weight_decay=0.01),
    "SGD-dampening": lambda groups: optim.SGD(groups, lr=0.05, momentum=0.5, dampening=0.5),
    "Adam": lambda groups: optim.Adam(groups, lr=0.05, amsgrad=True),
    "AdamW": lambda groups: optim.AdamW(groups, lr=0.05, betas=(0.8, 0.9)),
}


def _model(values):
    params = {name: minidl.tensor(v.copy(), requires_grad=True) for name, v in values.items()}
    groups = [{"params": [params["w"]]},
              {"params": [params["b"], params["s"]], "lr": 0.01}]
    return params, groups


def _train(params, opt, grads, steps):
    for t in steps:
        for name, p in params.items():
            # "s" gets no gradient on odd steps: its state lags behind the others'
            p.grad = None if (name == "s" and t % 2) else minidl.tensor(
                grads[t][name] + 0.5 * p.array)
        opt.step()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(kind, dtype, tmp_path):
    rng = np.random.default_rng(0)
    shapes = {"w": (4, 3), "b": (4,), "s": ()}
    start = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    grads = [{k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
             for _ in range(STEPS)]

    params, groups = _model(start)
    opt = OPTIMIZERS[kind](groups)
    _train(params, opt, grads, range(STEPS))

    params1, groups1 = _model(start)
    opt1 = OPTIMIZERS[kind](groups1)
    _train(params1, opt1, grads, range(SPLIT))
    path = tmp_path / "checkpoint.safetensors"
    minidl.save({"model": {k: p.detach() for k, p in params1.items()},
                 "optimizer": opt1.state_dict(), "epoch": SPLIT}, path)
    del params1, opt1

    checkpoint = minidl.load(path)
    assert checkpoint["epoch"] == SPLIT
    params2, groups2 = _model({k: t.numpy() for k, t in checkpoint["model"].items()})
    opt2 = OPTIMIZERS[kind](groups2)
    opt2.load_state_dict(checkpoint["optimizer"])
    _train(params2, opt2, grads, range(checkpoint["epoch"], STEPS))

    for name in shapes:
        assert params2[name].dtype == dtype
        np.testing.assert_array_equal(params2[name].detach().numpy(),
                                      params[name].detach().numpy(), err_msg=name)
    for p, p2 in zip(params.values(), params2.values()):
        state, state2 = opt.state[p], opt2.state[p2]
        assert state.keys() == state2.keys()
        for key in state:
            mine = state2[key].numpy() if key != "step" else state2[key]
            np.testing.assert_array_equal(mine, state[key].numpy() if key != "step"
                                          else state[key])


def test_state_dict_in_memory_round_trip():
    rng = np.random.default_rng(1)
    start = {"w": rng.standard_normal((2, 2)), "b": rng.standard_normal(2),
             "s": rng.standard_normal(())}
    grads = [{k: rng.standard_normal(np.shape(v)) for k, v in start.items()}
             for _ in range(STEPS)]
    params, groups = _model(start)
    opt = OPTIMIZERS["Adam"](groups)
    _train(params, opt, grads, range(STEPS))

    params1, groups1 = _model(start)
    opt1 = OPTIMIZERS["Adam"](groups1)
    _train(params1, opt1, grads, range(SPLIT))
    opt2 = OPTIMIZERS["Adam"](groups1)          # a new optimizer on the same parameters
    opt2.load_state_dict(opt1.state_dict())
    _train(params1, opt2, grads, range(SPLIT, STEPS))
    for name in start:
        np.testing.assert_array_equal(params1[name].detach().numpy(),
                                      params[name].detach().numpy())
