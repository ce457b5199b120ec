"""Learning-rate schedulers against their closed forms; bookkeeping and errors."""
import math

import numpy as np
import pytest

import minidl
from minidl import optim
from minidl.optim import lr_scheduler


def _optimizer(lrs=(0.1, 0.03)):
    return optim.SGD([{"params": [minidl.zeros(2, requires_grad=True)], "lr": lr}
                      for lr in lrs], momentum=0.9)


def _lrs(scheduler, epochs):
    """The learning rates at epochs 0..epochs (epoch 0 is set by the constructor)."""
    out = [scheduler.get_last_lr()]
    for _ in range(epochs):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return out


CLOSED_FORMS = {
    "StepLR": (lambda o: lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
               lambda base, t: base * 0.5 ** (t // 4)),
    "MultiStepLR": (lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 7, 7], gamma=0.1),
                    lambda base, t: base * 0.1 ** ((t >= 3) + 2 * (t >= 7))),
    "ExponentialLR": (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
                      lambda base, t: base * 0.9 ** t),
    "CosineAnnealingLR": (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
                          lambda base, t: 1e-3 + (base - 1e-3) * (1 + math.cos(math.pi * t / 10))
                          / 2),
    "LambdaLR": (lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t)),
                 lambda base, t: base / (1 + t)),
}


@pytest.mark.parametrize("kind", list(CLOSED_FORMS))
def test_schedule_follows_its_closed_form(kind):
    make, formula = CLOSED_FORMS[kind]
    scheduler = make(_optimizer())
    for t, lrs in enumerate(_lrs(scheduler, 35)):
        expected = [formula(base, t) for base in (0.1, 0.03)]
        np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=1e-15,
                                   err_msg=f"epoch {t}")


def test_constructor_records_initial_lr_and_sets_epoch_zero():
    opt = _optimizer()
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]
    assert scheduler.base_lrs == [0.1, 0.03] and scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.1, 0.03]
    opt.param_groups[0]["lr"] = 0.5                # initial_lr is kept, not overwritten
    lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_step_sets_the_groups_lr():
    opt = _optimizer()
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    scheduler.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.015] == scheduler.get_last_lr()
    assert scheduler.last_epoch == 1


def test_cosine_continues_past_t_max_without_restart():
    scheduler = lr_scheduler.CosineAnnealingLR(_optimizer((1.0,)), T_max=4)
    lrs = [lr[0] for lr in _lrs(scheduler, 8)]
    np.testing.assert_allclose(lrs, [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)],
                               atol=1e-15)
    assert lrs[4] == pytest.approx(0.0, abs=1e-15) and lrs[8] == pytest.approx(1.0)


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match=r"initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.StepLR(_optimizer(), step_size=2, last_epoch=3)


@pytest.mark.parametrize("make,error,match", [
    (lambda o: lr_scheduler.StepLR(object(), 2), TypeError, "object is not an Optimizer"),
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, "step_size must be a positive int, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), ValueError, "T_max must be positive"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda t: 1.0]), ValueError,
     "Expected 2 lr_lambdas, but got 1"),
])
def test_bad_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make(_optimizer())


@pytest.mark.parametrize("kind", list(CLOSED_FORMS))
def test_checkpoint_mid_schedule_resumes_identically(kind, tmp_path):
    make, _ = CLOSED_FORMS[kind]
    reference = make(_optimizer())
    expected = _lrs(reference, 30)

    opt = _optimizer()
    scheduler = make(opt)
    first = _lrs(scheduler, 12)
    path = tmp_path / "ckpt.safetensors"
    minidl.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, path)

    checkpoint = minidl.load(path)
    opt2 = _optimizer()
    scheduler2 = make(opt2)
    opt2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    rest = _lrs(scheduler2, 18)
    assert first + rest[1:] == expected


def test_lambda_lr_state_dict_keeps_callable_objects_state_only():
    class Warmup:
        def __init__(self):
            self.length = 5

        def __call__(self, t):
            return min(1.0, (t + 1) / self.length)

    warmup = Warmup()
    scheduler = lr_scheduler.LambdaLR(_optimizer(), [warmup, lambda t: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"length": 5}, None] and "optimizer" not in state
    state["lr_lambdas"][0]["length"] = 10
    scheduler.load_state_dict(state)
    assert warmup.length == 10 and state["lr_lambdas"][0] == {"length": 10}
