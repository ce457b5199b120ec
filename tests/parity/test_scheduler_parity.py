"""Every learning-rate scheduler gives PyTorch's lr sequence (and momentum, where it
cycles it) step for step, and resumes from its state_dict as if never stopped."""
import numpy as np
import pytest

import minidl

torch = pytest.importorskip("torch")

STEPS = 120


def _opt(lib, name="SGD", **kw):
    p = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(1))]
    groups = [{"params": [p[0]]}, {"params": [p[1]], "lr": 0.05}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9, **kw)
    return lib.optim.Adam(groups, lr=0.1, **kw)


SCHEDULERS = {
    "multiplicative": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97),
    "constant": lambda S, o: S.ConstantLR(o, factor=0.3, total_iters=17),
    "linear": lambda S, o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40),
    "polynomial": lambda S, o: S.PolynomialLR(o, total_iters=70, power=1.7),
    "onecycle_cos": lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS + 1),
    "onecycle_linear_3phase": lambda S, o: S.OneCycleLR(
        o, max_lr=0.8, epochs=11, steps_per_epoch=11, anneal_strategy="linear",
        three_phase=True, div_factor=10, final_div_factor=100, pct_start=0.25),
    "warm_restarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2,
                                                                 eta_min=0.001),
    "cyclic_triangular": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.2,
                                                 step_size_up=9),
    "cyclic_tri2": lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.3,
                                           step_size_up=5, step_size_down=8,
                                           mode="triangular2"),
    "cyclic_exp": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.3, step_size_up=6,
                                          mode="exp_range", gamma=0.98),
    "sequential": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=10),
                                                  S.ExponentialLR(o, 0.95)], milestones=[10]),
    "chained": lambda S, o: S.ChainedScheduler([S.StepLR(o, 13, 0.5),
                                                S.ExponentialLR(o, 0.99)]),
}


def _run(lib, name, steps=STEPS, optimizer="SGD"):
    opt = _opt(lib, optimizer)
    sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
    seq = []
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append([(g["lr"], g.get("momentum", g.get("betas", (None,))[0]))
                    for g in opt.param_groups])
    return seq, sched, opt


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_the_lr_sequence_is_pytorchs(name, optimizer):
    ours, sched, _ = _run(minidl, name, optimizer=optimizer)
    theirs, tsched, _ = _run(torch, name, optimizer=optimizer)
    np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


def test_reduce_lr_on_plateau_follows_a_scripted_metric_as_pytorch():
    metrics = [1.0, 0.9, 0.9, 0.95, 0.9, 0.91, 0.92, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.6] * 6
    for kw in [{}, dict(mode="max", patience=2, factor=0.5),
               dict(threshold_mode="abs", threshold=0.05, patience=1, cooldown=2),
               dict(patience=0, min_lr=[0.02, 0.01], factor=0.3, eps=1e-3)]:
        seqs = []
        for lib in (minidl, torch):
            opt = _opt(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            seq = []
            for m in metrics:
                sched.step(m)
                seq.append([g["lr"] for g in opt.param_groups])
            seqs.append(seq)
        np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-12, err_msg=str(kw))
    with pytest.raises(ValueError, match="mode"):
        minidl.optim.lr_scheduler.ReduceLROnPlateau(_opt(minidl), mode="median")


def _resumed(lib, name):
    """25 steps, state_dicts saved, a new optimizer and scheduler loaded, 35 more steps."""
    first, sched, opt = _run(lib, name, steps=25)
    state, opt_state = sched.state_dict(), opt.state_dict()
    opt2 = _opt(lib)
    opt2.load_state_dict(opt_state)
    sched2 = SCHEDULERS[name](lib.optim.lr_scheduler, opt2)
    sched2.load_state_dict(state)
    rest = []
    for _ in range(35):
        opt2.step()
        sched2.step()
        rest.append([(g["lr"], g.get("momentum")) for g in opt2.param_groups])
    return np.array(first + rest, dtype=float)


@pytest.mark.parametrize("name", ["onecycle_cos", "warm_restarts", "cyclic_tri2", "sequential",
                                  "chained"])
def test_resuming_from_a_state_dict_is_pytorchs(name):
    ours = _resumed(minidl, name)
    np.testing.assert_allclose(ours, _resumed(torch, name), rtol=1e-12)
    if name != "sequential":
        # as if never stopped; PyTorch's SequentialLR is not: building its schedulers again
        # resets the lr that load_state_dict then leaves as it is (minidl does the same)
        whole, _, _ = _run(minidl, name, steps=60)
        np.testing.assert_allclose(ours, np.array(whole, dtype=float), rtol=1e-12)


def test_onecycle_refuses_to_step_past_its_total():
    opt = _opt(minidl)
    sched = minidl.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):                # steps 1..3 of 3 (construction was step 0)
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()
