"""LayerNorm, the activations past ReLU and the extra losses: values and gradients against
PyTorch, gradcheck and gradgradcheck over Hypothesis shapes, module defaults and errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl.testing import shapes  # noqa: E402
from minidl.testing.op_test import check_op  # noqa: E402

TF = torch.nn.functional
ACTIVATIONS = [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("elu", {}),
               ("elu", {"alpha": 0.5}), ("celu", {"alpha": 2.0}), ("selu", {}),
               ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 1.0}), ("mish", {}),
               ("hardtanh", {"min_val": -0.5, "max_val": 0.7}), ("relu6", {}),
               ("hardsigmoid", {}), ("hardswish", {}), ("logsigmoid", {}), ("softsign", {})]


@pytest.mark.parametrize("name,options", ACTIVATIONS)
@given(shape=shapes())
def test_activations(name, options, shape):
    # away from the kinks of the piecewise ones
    check_op(lambda x: getattr(F, name)(x, **options), [shape], low=-4, high=4, min_abs=0.05,
             torch_fn=lambda x: getattr(TF, name)(x, **options))


def test_activation_modules_match_pytorch_reprs_and_values():
    x = np.linspace(-3, 3, 7)
    for cls, args in (("GELU", ()), ("SiLU", ()), ("ELU", (0.3,)), ("Softplus", (2.0,)),
                      ("Mish", ()), ("ReLU6", ()), ("LogSigmoid", ()), ("Hardtanh", ())):
        ours, theirs = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
        np.testing.assert_allclose(ours(minidl.tensor(x)).cpu().numpy(),
                                   theirs(torch.tensor(x)).cpu().numpy(), rtol=1e-12, atol=1e-15)
    check_op(lambda x: F.glu(x, -1), [(3, 4)], torch_fn=lambda x: TF.glu(x, -1))


@given(shapes(min_dims=1), st.data())
def test_layer_norm(shape, data):
    k = data.draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - k:]
    check_op(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-5),
             [shape, normalized, normalized],
             torch_fn=lambda x, w, b: TF.layer_norm(x, normalized, w, b, 1e-5))


def test_layer_norm_module_defaults_and_error():
    ours, theirs = nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(ours.weight.detach().cpu().numpy(), np.ones((3, 4)))
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(minidl.tensor(x)).detach().cpu().numpy(),
                               theirs(torch.tensor(x)).detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size \[2, 3\]"):
        nn.LayerNorm(4)(minidl.zeros(2, 3))
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None


@pytest.mark.parametrize("fn,options", [
    ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5, "reduction": "sum"}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.7}),
    ("huber_loss", {"reduction": "none"})])
def test_regression_losses(fn, options):
    check_op(lambda x, t: getattr(F, fn)(x, t, **options), [(3, 4), (3, 4)], min_abs=0.0,
             torch_fn=lambda x, t: getattr(TF, fn)(x, t, **options))


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    rng = np.random.default_rng(1)
    logp = np.log(rng.dirichlet(np.ones(5), 3))
    target = rng.dirichlet(np.ones(5), 3)
    target = np.log(target) if log_target else target
    check_op(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
             [logp, target],
             torch_fn=lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target))


def test_distances_and_normalize():
    check_op(lambda a, b: F.cosine_similarity(a, b, dim=1), [(3, 4), (3, 4)],
             torch_fn=lambda a, b: TF.cosine_similarity(a, b, dim=1))
    check_op(lambda a, b: F.pairwise_distance(a, b), [(3, 4), (3, 4)],
             torch_fn=lambda a, b: TF.pairwise_distance(a, b))
    check_op(lambda a: F.normalize(a, dim=1), [(3, 4)],
             torch_fn=lambda a: TF.normalize(a, dim=1))


def test_loss_modules_and_unflatten():
    x, t = np.linspace(-2, 2, 6), np.linspace(1, -1, 6)
    for cls in ("SmoothL1Loss", "HuberLoss"):
        np.testing.assert_allclose(getattr(nn, cls)()(minidl.tensor(x), minidl.tensor(t)).item(),
                                   getattr(torch.nn, cls)()(torch.tensor(x),
                                                            torch.tensor(t)).item())
    assert nn.Unflatten(1, (2, 3))(minidl.zeros(4, 6)).shape == (4, 2, 3)
