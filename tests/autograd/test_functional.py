"""autograd.functional: jacobian, hessian, vjp, jvp, hvp against PyTorch and closed forms."""
import numpy as np
import pytest

import minidl
from minidl.autograd import functional as AF


def t64(a, requires_grad=False):
    return minidl.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_jacobian_of_elementwise_is_diagonal():
    x = t64([0.1, 0.2, 0.3])
    jac = AF.jacobian(lambda v: v.exp(), x)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.exp([0.1, 0.2, 0.3])))


def test_hessian_of_cubic():
    x = t64([1.0, 2.0])
    np.testing.assert_allclose(AF.hessian(lambda v: (v ** 3).sum(), x).numpy(),
                               np.diag([6.0, 12.0]))


def test_vjp_jvp_hvp_closed_forms():
    x = t64([1.0, 2.0])
    v = t64([1.0, -1.0])
    _, vjp = AF.vjp(lambda a: a * a, x, v)
    np.testing.assert_allclose(vjp.numpy(), [2.0, -4.0])
    _, jvp = AF.jvp(lambda a: a * a, x, v)
    np.testing.assert_allclose(jvp.numpy(), [2.0, -4.0])
    _, hvp = AF.hvp(lambda a: (a ** 3).sum(), x, v)
    np.testing.assert_allclose(hvp.numpy(), [6.0, -12.0])


def test_jacobian_and_hessian_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal(4), rng.standard_normal((4, 3))

    def fm(x, w):
        return (x @ w).tanh()

    def ft(x, w):
        return torch.tanh(x @ w)

    jm = AF.jacobian(fm, (t64(a), t64(w)))
    jt = torch.autograd.functional.jacobian(ft, (torch.tensor(a), torch.tensor(w)))
    for m, t in zip(jm, jt):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)

    hm = AF.hessian(lambda x: (fm(x, t64(w)) ** 2).sum(), t64(a))
    ht = torch.autograd.functional.hessian(lambda x: (ft(x, torch.tensor(w)) ** 2).sum(),
                                           torch.tensor(a))
    np.testing.assert_allclose(hm.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)
