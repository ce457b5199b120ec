"""LBFGS(line_search_fn="strong_wolfe") takes PyTorch's steps: on the Rosenbrock valley,
where the search brackets and zooms, and on a small network; the cubic step is exact on a
quadratic."""
import numpy as np
import pytest

import minidl
from minidl.optim.line_search import cubic_minimum


def _rosenbrock(lib, start, max_iter, history_size=100):
    x = lib.tensor(start, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], lr=1, max_iter=max_iter, history_size=history_size,
                          line_search_fn="strong_wolfe")
    losses = []

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        losses.append(loss.item())
        return loss

    opt.step(closure)
    return x.detach().numpy(), losses, opt.state[x]["func_evals"], opt.state[x]["n_iter"]


def test_strong_wolfe_solves_rosenbrock():
    x, losses, evals, iters = _rosenbrock(minidl, [-1.5, 2.0], max_iter=100)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-5)    # stopped by tolerance_change
    assert evals > iters          # some iterations needed more than one evaluation


@pytest.mark.parametrize("start", [[-1.5, 2.0], [0.0, 0.0], [2.0, -1.0]])
def test_strong_wolfe_takes_pytorchs_steps(start):
    torch = pytest.importorskip("torch")
    ours = _rosenbrock(minidl, start, max_iter=40, history_size=5)
    theirs = _rosenbrock(torch, start, max_iter=40, history_size=5)
    assert ours[2:] == theirs[2:]                   # the same evaluations and iterations
    # The losses first differ by one rounding (about 1e-16, around the 7th evaluation) and
    # the valley amplifies it: 1e-8 relative by the 46th. Every evaluation is compared.
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-7)


def test_strong_wolfe_on_a_network_in_float32_and_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, W1, W2 = rng.standard_normal((32, 5)), rng.standard_normal((5, 8)) * 0.5, \
        rng.standard_normal((8, 1)) * 0.5
    Y = np.sin(X.sum(1, keepdims=True))

    def run(lib, dtype):
        dt = getattr(lib, dtype)
        w1, w2 = (lib.tensor(w, dtype=dt, requires_grad=True) for w in (W1, W2))
        x, y = lib.tensor(X, dtype=dt), lib.tensor(Y, dtype=dt)
        opt = lib.optim.LBFGS([w1, w2], max_iter=4, history_size=10,
                              line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((lib.tanh(x @ w1) @ w2 - y) ** 2).mean()
            loss.backward()
            return loss
        return [opt.step(closure).item() for _ in range(3)] + [closure().item()]

    for dtype, rtol in (("float64", 1e-10), ("float32", 1e-5)):
        np.testing.assert_allclose(run(minidl, dtype), run(torch, dtype), rtol=rtol,
                                   err_msg=dtype)


def test_cubic_step_is_exact_on_a_quadratic_and_bounded():
    # f(x) = x^2 - 2x: f(0) = 0, f'(0) = -2; f(3) = 3, f'(3) = 4; the minimum is at 1
    assert cubic_minimum(0.0, 0.0, -2.0, 3.0, 3.0, 4.0) == pytest.approx(1.0, abs=1e-15)
    assert cubic_minimum(3.0, 3.0, 4.0, 0.0, 0.0, -2.0) == pytest.approx(1.0, abs=1e-15)
    assert cubic_minimum(0.0, 0.0, -2.0, 3.0, 3.0, 4.0, bounds=(1.5, 2.0)) == 1.5


def test_unknown_line_search_is_refused():
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        minidl.optim.LBFGS([minidl.zeros(2, requires_grad=True)], line_search_fn="armijo")
