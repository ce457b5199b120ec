"""Optimizer base class: parameter groups, zero_grad, closures, state_dict / load_state_dict."""
import numpy as np
import pytest

import minidl
from minidl import optim


def _params(*shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [minidl.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
            for s in shapes]


def _set_grads(params, seed=1):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = minidl.tensor(rng.standard_normal(p.shape).astype(p.dtype))


# ---- construction and groups ----
def test_a_list_of_tensors_makes_one_group_with_the_defaults():
    a, b = _params(3, (2, 2))
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert group["params"][0] is a and group["params"][1] is b
    assert group["lr"] == 0.5 and group["momentum"] == 0.9 and group["nesterov"] is False
    assert opt.defaults["lr"] == 0.5


def test_groups_override_the_defaults():
    a, b, c = _params(2, 3, 4)
    opt = optim.Adam([{"params": [a]}, {"params": (b, c), "lr": 0.5, "betas": (0.5, 0.6)}],
                     lr=0.1)
    g0, g1 = opt.param_groups
    assert g0["lr"] == 0.1 and g0["betas"] == (0.9, 0.999)
    assert g1["lr"] == 0.5 and g1["betas"] == (0.5, 0.6)
    assert [p is q for p, q in zip(g1["params"], (b, c))] == [True, True]


def test_the_callers_group_dict_becomes_the_group_as_in_pytorch():
    a, b = _params(2, 3)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.5}]
    opt = optim.SGD(groups, lr=0.1)
    groups[1]["lr"] = 0.25
    assert opt.param_groups[1] is groups[1] and opt.param_groups[1]["lr"] == 0.25


def test_a_generator_of_parameters_is_accepted():
    params = _params(2, 3)
    opt = optim.SGD(p for p in params)
    assert len(opt.param_groups[0]["params"]) == 2


def test_add_param_group_takes_the_defaults_and_a_single_tensor():
    a, b = _params(2, 3)
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.01})
    group = opt.param_groups[1]
    assert group["params"][0] is b and group["lr"] == 0.01 and group["momentum"] == 0.5


def test_named_parameters_are_recorded_as_param_names():
    a, b = _params(2, 3)
    opt = optim.SGD([("fc.weight", a), ("fc.bias", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["fc.weight", "fc.bias"]
    assert opt.param_groups[0]["params"][0] is a
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["fc.weight", "fc.bias"]
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("w", a), b])


@pytest.mark.parametrize("params,error,match", [
    ([], ValueError, "empty parameter list"),
    (minidl.zeros(3, requires_grad=True), TypeError, "iterable of Tensors or dicts"),
    ([np.zeros(3)], TypeError, "can only optimize Tensors, but one of the params is ndarray"),
    ({minidl.zeros(3)}, TypeError, "ordered collections"),
])
def test_bad_params_raise(params, error, match):
    if isinstance(params, set):
        params = [{"params": params}]
    with pytest.raises(error, match=match):
        optim.SGD(params)


def test_a_non_leaf_tensor_cannot_be_optimized():
    (a,) = _params(3)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([a * 2])


def test_a_parameter_may_appear_only_once():
    a, b = _params(2, 3)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([a, b, a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}])
    opt = optim.SGD([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([b])
    assert len(opt.param_groups) == 1


def test_repr_lists_each_group_options():
    a, b = _params(2, 3)
    text = repr(optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "Parameter Group 1" in text and "    lr: 0.5" in text and text.endswith(")")
    assert "params" not in text


# ---- zero_grad, step, closure ----
def test_zero_grad_sets_to_none_by_default():
    params = _params(2, 3)
    _set_grads(params)
    opt = optim.SGD(params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_can_fill_with_zeros_in_place():
    params = _params(2, (3, 2))
    _set_grads(params)
    grads = [p.grad for p in params]
    optim.Adam(params).zero_grad(set_to_none=False)
    for p, g in zip(params, grads):
        assert p.grad is g
        np.testing.assert_array_equal(g.numpy(), np.zeros(p.shape))


def test_zero_grad_in_place_detaches_a_gradient_that_has_a_graph():
    (x,) = _params(3)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    optim.SGD([x]).zero_grad(set_to_none=False)
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.1)])
def test_parameters_without_grad_are_left_alone(make):
    a, b = _params(3, 4)
    before = b.detach().numpy().copy()
    a.grad = minidl.ones(3, dtype=np.float64)
    opt = make([a, b])
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), before)
    assert id(b) not in {id(k) for k in opt.state}
    assert id(a) in {id(k) for k in opt.state}


def test_step_updates_data_in_place():
    (a,) = _params((2, 3))
    array = a.array
    a.grad = minidl.ones(2, 3, dtype=np.float64)
    optim.Adam([a], lr=0.1).step()
    assert a.array is array


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    (w,) = _params(3)
    opt = optim.SGD([w], lr=0.1)
    start = w.detach().numpy().copy()

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minidl.no_grad():
        loss = opt.step(closure)
    np.testing.assert_allclose(loss.item(), (start ** 2).sum())
    np.testing.assert_allclose(w.detach().numpy(), start - 0.1 * 2 * start)
    assert opt.step() is None


# ---- state_dict ----
def test_state_dict_has_pytorch_layout():
    a, b, c = _params(2, 3, 4)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    _set_grads([a, c])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sorted(sd["state"]) == [0, 2]                    # b had no gradient
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    assert sd["state"][2]["exp_avg"].shape == (4,)
    # the groups in the dict are copies: editing them leaves the optimizer alone
    sd["param_groups"][0]["lr"] = 99.0
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_restores_options_and_state():
    params = _params(2, 3)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    _set_grads(params)
    opt.step()
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.25

    fresh = _params(2, 3)
    other = optim.SGD(fresh, lr=0.5)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.25 and other.param_groups[0]["momentum"] == 0.9
    assert [p is q for p, q in zip(other.param_groups[0]["params"], fresh)] == [True, True]
    buf = other.state[fresh[0]]["momentum_buffer"]
    loaded = buf.numpy().copy()
    np.testing.assert_array_equal(loaded, opt.state[params[0]]["momentum_buffer"].numpy())
    # a private copy: the source optimizer's later steps do not leak into this one
    opt.step()
    assert not np.array_equal(opt.state[params[0]]["momentum_buffer"].numpy(), loaded)
    np.testing.assert_array_equal(buf.numpy(), loaded)


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    params64 = _params(3)
    opt = optim.Adam(params64)
    _set_grads(params64)
    opt.step()
    params32 = _params(3, dtype=np.float32)
    opt32 = optim.Adam(params32)
    opt32.load_state_dict(opt.state_dict())
    state = opt32.state[params32[0]]
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg_sq"].dtype == np.float32
    assert state["step"] == 1 and isinstance(state["step"], int)


def test_load_state_dict_accepts_a_tensor_step_as_pytorch_stores_it():
    params = _params(3)
    opt = optim.Adam(params)
    _set_grads(params)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = minidl.tensor(1.0)
    opt.load_state_dict(sd)
    assert opt.state[params[0]]["step"] == 1
    opt.step()
    assert opt.state[params[0]]["step"] == 2


def test_load_state_dict_rejects_mismatched_groups():
    a, b, c = _params(2, 3, 4)
    sd = optim.SGD([{"params": [a]}, {"params": [b, c]}]).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups: 2 saved, "
                                         "the optimizer has 1"):
        optim.SGD([a, b, c]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group: group 1 "
                                         "has 2 saved parameters, the optimizer's has 1"):
        optim.SGD([{"params": [a]}, {"params": [c]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.SGD([a]).load_state_dict({"state": {}})


def test_adamw_stays_decoupled_after_loading_an_adam_state():
    params = _params(3)
    sd = optim.Adam(params).state_dict()
    opt = optim.AdamW(_params(3))
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
