"""The backward engine: accumulation, graph freeing, hooks, grad mode, deep graphs."""
import numpy as np
import pytest

import minidl
from minidl.autograd import grad


def f64(*values, requires_grad=True):
    return minidl.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def test_leaf_gradients_accumulate_across_backward_calls():
    x = f64(1.0, 2.0)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_later_gradients_are_added_in_place_as_in_pytorch():
    # a held .grad sees the sum, and stays the leaf's .grad (PyTorch's AccumulateGrad)
    x = f64(1.0, 2.0)
    (x * 2).sum().backward()
    held = x.grad
    (x * 3).sum().backward()
    assert x.grad is held
    np.testing.assert_array_equal(held.numpy(), [5.0, 5.0])
    # a graph that saved x.grad (a gradient penalty) raises once a later backward has added
    # into it, as PyTorch does: the in-place add moved its version
    x, w = f64(1.0, 2.0), f64(3.0, 4.0)
    (x * x * w).sum().backward(create_graph=True)            # x.grad = 2xw
    penalty = (x.grad * x.grad).sum()
    (x * 5).sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*version 1; "
                                           "expected version 0"):
        penalty.backward()
    # the penalty's own backward accumulates into the x.grad its graph saved, after the
    # node that saved it has run: no error, and PyTorch's values
    x, b = f64(1.0, 2.0), f64(0.5, 0.5)
    ((x + b) ** 2).sum().backward(create_graph=True)          # x.grad = b.grad = 2(x+b)
    ((x.grad ** 2).sum() + (b.grad ** 2).sum()).backward()
    for t in (x, b):                                          # 2(x+b) + 16(x+b)
        np.testing.assert_allclose(t.grad.detach().numpy(), [27.0, 45.0])


def test_a_gradient_that_cannot_be_written_gets_a_new_array():
    x = f64(1.0, 2.0)
    x.grad = minidl.tensor(np.broadcast_to(np.float64(1.0), (2,)))     # read-only
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_create_graph_gives_each_leaf_a_gradient_of_its_own():
    # PyTorch clones the first gradient under create_graph: neither the caller's gradient
    # nor another leaf's may be the same tensor, or zeroing one in place zeroes them all
    x, w = f64(1.0, 2.0), f64(3.0, 4.0)
    g = minidl.tensor([1.0, 1.0], dtype=minidl.float64)
    (x + w).backward(g, create_graph=True)
    assert x.grad is not g and w.grad is not g and x.grad is not w.grad
    minidl.optim.SGD([x, w], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])
    leaf = f64(1.0, 2.0)
    leaf.backward(g, create_graph=True)
    assert leaf.grad is not g


def test_shared_input_gets_the_sum_of_both_paths():
    x = f64(3.0)
    y = x * x + x          # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_non_leaf_grad_only_with_retain_grad():
    x = f64(1.0, 2.0)
    h = x * 2
    k = x * 3
    h.retain_grad()
    (h * k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), k.detach().numpy())
    assert k.grad is None
    assert h.retains_grad and not k.retains_grad
    assert h.is_leaf is False and x.is_leaf is True


def test_second_backward_without_retain_graph_raises():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_non_scalar_backward_needs_a_gradient():
    x = f64(1.0, 2.0)
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        y.backward()
    y.backward(minidl.tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_gradient_of_wrong_shape_is_rejected():
    x = f64(1.0, 2.0)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\(3,\).*\(2,\)"):
        (x * 2).backward(minidl.ones(3, dtype=minidl.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minidl.ones(2).sum().backward()


def test_chain_of_100000_ops_has_no_recursion_limit():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_no_grad_records_nothing_and_restores_mode():
    x = f64(1.0)
    with minidl.no_grad():
        y = x * 2
        assert not minidl.is_grad_enabled()
        with minidl.enable_grad():
            z = x * 2
    assert minidl.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_and_enable_grad_as_decorators():
    @minidl.no_grad()
    def off(x):
        return x * 2

    @minidl.enable_grad()
    def on(x):
        return x * 2

    x = f64(1.0)
    assert not off(x).requires_grad
    with minidl.no_grad():
        assert on(x).requires_grad


def test_set_grad_enabled_as_function_and_context():
    x = f64(1.0)
    minidl.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        minidl.set_grad_enabled(True)
    with minidl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_detach_cuts_the_graph_and_shares_data():
    x = f64(1.0, 2.0)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = (d * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_hook_on_leaf_can_replace_the_gradient():
    x = f64(1.0, 2.0)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])


def test_hook_on_intermediate_changes_what_flows_on():
    x = f64(1.0, 2.0)
    h = x * 2
    handle = h.register_hook(lambda g: g * 0)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_retained_grad_sees_hooked_gradient():
    x = f64(1.0)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 5)
    h.backward()
    assert h.grad.item() == 5.0
    assert x.grad.item() == 10.0


def test_grad_returns_gradients_without_touching_dot_grad():
    x = f64(1.0, 2.0)
    w = f64(3.0, 4.0)
    y = (x * w).sum()
    gx, gw = grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_intermediate_tensor():
    x = f64(2.0)
    h = x * x
    y = h * 3
    (gh,) = grad(y, h)
    assert gh.item() == 3.0


def test_grad_unused_input():
    x, z = f64(1.0), f64(1.0)
    with pytest.raises(RuntimeError, match="not\\s+used"):
        grad((x * 2).sum(), [x, z])
    gx, gz = grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None


def test_higher_order_gradients_through_create_graph():
    x = f64(2.0)
    y = x ** 3                          # y' = 3x^2 = 12, y'' = 6x = 12, y''' = 6
    (g1,) = grad(y, x, create_graph=True)
    (g2,) = grad(g1, x, create_graph=True)
    (g3,) = grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)


def test_backward_with_create_graph_builds_a_differentiable_grad():
    x = f64(1.5)
    (x.sin() * x).backward(create_graph=True)
    g = x.grad                      # sin x + x cos x
    assert g.requires_grad
    (gg,) = grad(g, x)               # 2 cos x - x sin x
    assert gg.item() == pytest.approx(2 * np.cos(1.5) - 1.5 * np.sin(1.5))


def test_leaf_grad_is_a_fresh_array_not_shared_between_leaves():
    a, b = f64(1.0), f64(1.0)
    (a + b).backward()
    a.grad.array *= 5           # clipping a gradient in place must not touch b's
    assert b.grad.item() == 1.0


def test_gradient_keeps_input_dtype_across_mixed_precision():
    x = minidl.ones(3, requires_grad=True)                      # float32
    w = minidl.ones(3, dtype=minidl.float64, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == minidl.float32 and w.grad.dtype == minidl.float64


def test_broadcast_gradients_are_summed_to_input_shape():
    a = minidl.tensor(np.ones((3, 1, 4)), requires_grad=True)
    b = minidl.tensor(np.ones((2, 4)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1, 4) and b.grad.shape == (2, 4)
    np.testing.assert_allclose(a.grad.numpy(), 2.0)
    np.testing.assert_allclose(b.grad.numpy(), 3.0)


def test_inplace_update_under_no_grad_keeps_identity():
    p = f64(1.0, 2.0)
    (p * p).sum().backward()
    before = p
    with minidl.no_grad():
        p -= 0.5 * p.grad
    assert p is before and not p.requires_grad is False
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])


def test_inplace_on_leaf_requiring_grad_raises():
    p = f64(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p += 1


def test_inplace_on_non_leaf_is_differentiable():
    x = f64(1.0, 2.0)
    h = x * 2
    h += x                   # h = 3x
    h[0] = 0.0               # overwritten element gets no gradient
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 3.0])


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy's, wanted here
def test_anomaly_mode_names_the_op_that_made_nan_in_backward():
    x = f64(0.0, 1.0)
    with minidl.set_detect_anomaly(True):
        y = x.sqrt()              # backward divides by 2 sqrt(0) -> inf
        with pytest.raises(RuntimeError, match="SqrtBackward0.*backward") as info:
            y.sum().backward()
    assert "y = x.sqrt()" in str(info.value)     # the forward call site


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy's, wanted here
def test_anomaly_mode_catches_nan_in_forward():
    x = f64(-1.0)
    with minidl.set_detect_anomaly(True):
        with pytest.raises(RuntimeError, match="LogBackward0.*nan.*forward"):
            x.log()
    assert np.isnan(x.log().item())      # off again: no check


class _FreshGradient(minidl.autograd.Function):
    """y = 2x, whose backward returns a new array and records its id."""
    made = []

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        out = minidl.tensor(np.full(g.shape, 2.0, g.dtype))
        _FreshGradient.made.append(id(out.array))
        return out


def test_a_gradient_nothing_else_holds_becomes_grad_without_a_copy():
    x = minidl.ones(4, requires_grad=True)
    _FreshGradient.apply(x).sum().backward()
    assert id(x.grad.array) == _FreshGradient.made[-1]         # stolen, as PyTorch does
    np.testing.assert_array_equal(x.grad.numpy(), 2.0)


def test_a_gradient_held_elsewhere_is_copied_into_grad():
    kept = []
    x = minidl.ones(3, requires_grad=True)
    x.register_hook(lambda g: kept.append(g))                 # a hook keeps the gradient
    p, q = minidl.ones(3, requires_grad=True), minidl.ones(3, requires_grad=True)
    w = minidl.ones(2, 3, requires_grad=True)
    (x * 3).sum().backward()
    (p + q).sum().backward()                                  # one gradient, two leaves
    w.sum().backward()                                        # a broadcast view of ones
    assert not np.shares_memory(x.grad.array, kept[0].array)
    assert not np.shares_memory(p.grad.array, q.grad.array)
    for leaf in (x, p, q, w):
        leaf.grad.array += 1                                   # each .grad is its own
    np.testing.assert_array_equal(kept[0].numpy(), 3.0)
    np.testing.assert_array_equal(p.grad.numpy() + q.grad.numpy(), 4.0)
    np.testing.assert_array_equal(w.grad.numpy(), 2.0)


def test_a_detached_factor_saved_beside_its_source_stays_a_constant():
    # x and x.detach() hold one array; the factor saved for x's gradient is the detached
    # one, so the second derivative of sum(x * x.detach()) is 0 (PyTorch: 0)
    x = f64(1.0, 2.0)
    (g,) = grad((x * x.detach()).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [1.0, 2.0])
    assert not g.requires_grad                  # it was x itself: d/dx sum(g) came out 1
