"""SGD, Adam and AdamW against NumPy transcriptions of PyTorch's documented algorithms."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
from minidl import optim

STEPS = 12


def _problem(shape=(3, 4), dtype=np.float64, seed=0):
    """A start point and a gradient sequence (fixed part + 0.3 * p, a quadratic)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape).astype(dtype),
            [rng.standard_normal(shape).astype(dtype) for _ in range(STEPS)])


def _run(make, p0, fixed, xp=np):
    p = minidl.tensor(xp.asarray(p0), requires_grad=True)
    opt = make([p])
    path = []
    for g in fixed:
        p.grad = minidl.tensor(xp.asarray(g) + 0.3 * p.array)
        opt.step()
        path.append(minidl.backend.to_numpy(p.array).copy())
    return path, opt, p


def sgd_reference(p, fixed, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False, maximize=False):
    """torch.optim.SGD's documented algorithm, line by line."""
    p, b, path = p.copy(), None, []
    for t, g in enumerate(fixed, start=1):
        g = g + 0.3 * p
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        path.append(p)
    return path


def adam_reference(p, fixed, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, maximize=False, decoupled=False):
    """torch.optim.Adam / AdamW's documented algorithm, with m-hat and v-hat."""
    (b1, b2), p, path = betas, p.copy(), []
    m = v = v_max = np.zeros_like(p)
    for t, g in enumerate(fixed, start=1):
        g = g + 0.3 * p
        g = -g if maximize else g
        if decoupled:
            p = p - lr * weight_decay * p
        elif weight_decay != 0:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(p)
    return path


def _assert_paths(path, expected, dtype=np.float64):
    tol = dict(rtol=1e-11, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    for t, (a, b) in enumerate(zip(path, expected)):
        np.testing.assert_allclose(a, b, **tol, err_msg=f"step {t + 1}")


@given(lr=st.floats(1e-3, 0.5), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       dampening=st.sampled_from([0.0, 0.2]), weight_decay=st.sampled_from([0.0, 0.1]),
       nesterov=st.booleans(), maximize=st.booleans())
def test_sgd_matches_the_documented_algorithm(lr, momentum, dampening, weight_decay,
                                               nesterov, maximize):
    if nesterov and (momentum == 0 or dampening != 0):
        return
    p0, fixed = _problem()
    config = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                  nesterov=nesterov, maximize=maximize)
    path, _, _ = _run(lambda ps: optim.SGD(ps, **config), p0, fixed)
    _assert_paths(path, sgd_reference(p0, fixed, **config))


@given(lr=st.floats(1e-3, 0.3), b1=st.sampled_from([0.0, 0.3, 0.9]),
       b2=st.sampled_from([0.5, 0.999]), weight_decay=st.sampled_from([0.0, 0.1]),
       amsgrad=st.booleans(), maximize=st.booleans(), decoupled=st.booleans())
def test_adam_matches_the_documented_algorithm(lr, b1, b2, weight_decay, amsgrad, maximize,
                                                decoupled):
    p0, fixed = _problem()
    config = dict(lr=lr, betas=(b1, b2), weight_decay=weight_decay, amsgrad=amsgrad,
                  maximize=maximize)
    path, _, _ = _run(lambda ps: optim.Adam(ps, decoupled_weight_decay=decoupled, **config),
                      p0, fixed)
    _assert_paths(path, adam_reference(p0, fixed, decoupled=decoupled, **config))


def test_adamw_is_adam_with_decoupled_weight_decay_and_its_default():
    p0, fixed = _problem()
    path, opt, _ = _run(lambda ps: optim.AdamW(ps, lr=0.05), p0, fixed)
    assert opt.defaults["weight_decay"] == 1e-2 and opt.defaults["decoupled_weight_decay"]
    _assert_paths(path, adam_reference(p0, fixed, lr=0.05, weight_decay=1e-2, decoupled=True))


def test_adam_first_step_moves_each_entry_by_lr():
    # m1 = (1-b1) g and v1 = (1-b2) g^2, so the bias-corrected step is lr * g / (|g| + eps)
    p0, fixed = _problem()
    p = minidl.tensor(p0, requires_grad=True)
    p.grad = minidl.tensor(fixed[0])
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(),
                               p0 - 0.1 * fixed[0] / (np.abs(fixed[0]) + 1e-8), rtol=1e-12)


def test_sgd_default_lr_is_pytorch_2():
    (a,) = [minidl.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)]
    a.grad = minidl.tensor([1.0, -1.0], dtype=np.float64)
    opt = optim.SGD([a])
    opt.step()
    assert opt.defaults["lr"] == 1e-3
    np.testing.assert_allclose(a.detach().numpy(), [1.0 - 1e-3, 2.0 + 1e-3], rtol=1e-15)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                                      weight_decay=0.1),
                                  lambda p: optim.Adam(p, lr=0.1, amsgrad=True),
                                  lambda p: optim.AdamW(p, lr=0.1)])
def test_float32_stays_float32(make):
    p0, fixed = _problem(dtype=np.float32)
    path, opt, p = _run(make, p0, fixed)
    assert p.dtype == np.float32 and all(x.dtype == np.float32 for x in path)
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, minidl.Tensor):
                assert value.dtype == np.float32
    path64, _, _ = _run(make, p0.astype(np.float64), [g.astype(np.float64) for g in fixed])
    _assert_paths(path, path64, np.float32)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
                                  lambda p: optim.Adam(p, lr=0.1, amsgrad=True,
                                                       weight_decay=0.1),
                                  lambda p: optim.AdamW(p, lr=0.1, maximize=True)])
def test_optimizers_run_on_every_array_module(make, xp):
    p0, fixed = _problem()
    path, opt, p = _run(make, p0, fixed, xp=xp)
    assert minidl.backend.get_array_module(p.array) is xp
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, minidl.Tensor):
                assert minidl.backend.get_array_module(value.array) is xp
    expected, _, _ = _run(make, p0, fixed)
    _assert_paths(path, expected)


def test_a_scalar_parameter_is_updated_in_place():
    p = minidl.tensor(1.5, dtype=np.float64, requires_grad=True)
    data = p.array
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        p.grad = minidl.tensor(2.0, dtype=np.float64)
        opt.step()
    assert p.array is data and p.shape == ()
    assert isinstance(opt.state[p]["momentum_buffer"].array, np.ndarray)
    np.testing.assert_allclose(p.item(), 1.5 - 0.1 * (2 + 3.8 + 5.42))


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True),
     "zero dampening, got momentum=0.9, dampening=0.1"),
    (lambda p: optim.Adam(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.Adam(p, betas=(1.5, 0.9)), "Invalid beta parameter at index 0: 1.5"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9,)), r"Invalid betas: expected a pair"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.AdamW(p, betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
])
def test_invalid_hyper_parameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make([minidl.zeros(2, requires_grad=True)])
