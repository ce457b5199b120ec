"""In-place ops on views, and backward(inputs=...), as PyTorch has them (issue 17).

Each scenario is one function of the library (`minidl` or `torch`), run on both: the
values and gradients it returns must agree. Before views recorded their base, an in-place
op on a view under grad mode left the base unchanged (`h[0].mul_(0); h.sum()` gave 3.0
where PyTorch gives 2.0), and backward ignored `inputs`.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl

torch = pytest.importorskip("torch")


def _np(t):
    return None if t is None else t.detach().numpy()


def _w(lib):
    return lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)


def view_mul_reaches_base(lib):
    w = _w(lib)
    h = w * 1
    h[0].mul_(0)
    s = h.sum()
    s.backward()
    return s, h, w.grad


def base_change_reaches_view(lib):
    w = _w(lib)
    h = w * 2
    v = h[1:]
    h.mul_(3)
    (v * v).sum().backward()
    return v, w.grad


def sibling_view_sees_change(lib):
    w = _w(lib)
    h = w * 1
    a, b = h[0:2], h[1:3]
    a.add_(10)
    (b * b).sum().backward()
    return b, h, w.grad


def view_of_view(lib):
    w = lib.arange(12.0, dtype=lib.float64).reshape(3, 4).requires_grad_()
    h = w * 1
    h.t()[1:, 0].mul_(w[0, 1:] * 2)
    (h ** 2).sum().backward()
    return h, w.grad


def setitem_with_grad(lib):
    w = _w(lib)
    h = w * 1
    h[1] = w[0] * 5
    h[w.detach() > 2] = w[1:2] * 7     # a bool mask: an advanced index
    (h * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
    return h, w.grad


def buffer_filled_by_views(lib):
    w = _w(lib)
    buf = lib.zeros(2, 3, dtype=lib.float64)
    buf[0].copy_(w * 2)
    buf[1, 1:].copy_(w[:2].exp())
    (buf * buf).sum().backward()
    return buf, w.grad


def fill_and_zero_on_views(lib):
    w = _w(lib)
    h = w * 1
    h[0].zero_()
    h[2:].fill_(4.0)
    (h * w).sum().backward()
    return h, w.grad


def transposed_view_in_place(lib):
    w = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
    h = w * 0.5
    h.t()[0].sigmoid_()
    h.sum().backward()
    return h, w.grad


def backward_inputs_only(lib):
    x = _w(lib)
    w = _w(lib)
    (x * w).sum().backward(inputs=[w])
    return x.grad, w.grad


def backward_inputs_non_leaf(lib):
    x = _w(lib)
    w = _w(lib)
    h = x * 2
    (h * w).sum().backward(inputs=[h])
    return h.grad, x.grad, w.grad


def view_under_no_grad_changes_values_only(lib):
    w = _w(lib)
    h = w * 1
    with lib.no_grad():
        h[0].mul_(0)
    h.sum().backward()
    return h, w.grad


SCENARIOS = [view_mul_reaches_base, base_change_reaches_view, sibling_view_sees_change,
             view_of_view, setitem_with_grad, buffer_filled_by_views, fill_and_zero_on_views,
             transposed_view_in_place, backward_inputs_only, backward_inputs_non_leaf,
             view_under_no_grad_changes_values_only]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_in_place_on_views_as_pytorch(scenario):
    ours, theirs = scenario(minidl), scenario(torch)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if b is None:
            assert a is None, f"result {k}: minidl gives {a}, PyTorch None"
            continue
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, err_msg=f"result {k}")


@pytest.mark.parametrize("lib", [minidl, torch], ids=["minidl", "torch"])
def test_a_saved_output_changed_through_a_view_raises_in_both(lib):
    w = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
    h = w.exp()                       # exp's backward reads its output
    h.t()[0].sigmoid_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()


def test_a_view_of_a_leaf_that_requires_grad_refuses_in_place():
    w = minidl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0].mul_(2)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w.reshape(3, 1)[1:].add_(1)


def test_unbind_outputs_refuse_in_place_under_grad_mode():
    h = minidl.ones(3, 2, requires_grad=True) * 1
    from minidl.ops.rnn_cell import unbind0
    rows = unbind0(h)
    with pytest.raises(RuntimeError, match="returns multiple views"):
        rows[0].mul_(2)
    with minidl.no_grad():
        rows[1].mul_(2)                     # values only, as in PyTorch
    assert h.detach().numpy()[1].tolist() == [2.0, 2.0]


def test_view_refuses_incompatible_strides_and_reshape_copies():
    a = minidl.ones(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible.*Use .reshape"):
        a.view(6)
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).t().view(6)
    r = a.reshape(6)
    r.add_(1)
    assert float(a.sum()) == 6.0            # reshape copied: a is unchanged
    assert a.view(3, 2).shape == (3, 2)     # a view that the strides allow


def test_in_place_result_of_the_wrong_shape_is_refused():
    x = minidl.zeros(3)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        x.add_(minidl.ones(2, 3))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        minidl.zeros(1).expand(3).add_(1)


def test_flip_copies_as_pytorch():
    x = minidl.arange(3.0)
    y = x.flip(0)
    y.add_(10)
    assert x.tolist() == [0.0, 1.0, 2.0]


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_random_slices_changed_in_place_match_pytorch(shape, data):
    index = tuple(data.draw(st.one_of(
        st.integers(0, n - 1),
        st.builds(slice, st.integers(0, n - 1), st.integers(1, n), st.integers(1, 2))))
        for n in shape)
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape)

    def run(lib):
        w = lib.tensor(w0, requires_grad=True)
        h = w * 1.5
        v = h[index]
        v.mul_(v.detach() * 0 + 3.0).add_(w.sum())
        (h * h).sum().backward()
        return h, w.grad

    for a, b in zip(run(minidl), run(torch)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-12)


def test_the_usual_in_place_layers_still_train():
    # ReLU(inplace=True) after a conv, a BatchNorm and a Linear, a ResNet's `out += identity`
    # after a BatchNorm, in-place LeakyReLU, Dropout, Hardtanh and SiLU: PyTorch runs
    # these, so writing through memory must not make minidl raise on them
    nn = minidl.nn
    conv, bn, bn2 = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.BatchNorm2d(4)
    lin, ln, gn = nn.Linear(4 * 8 * 8, 5), nn.LayerNorm(5), nn.GroupNorm(2, 4)
    x = minidl.full((2, 3, 8, 8), 0.1, requires_grad=True)
    out = conv(x)
    identity = out
    out = nn.ReLU(inplace=True)(bn(out))
    out = bn2(out)
    out += identity
    out = nn.ReLU(inplace=True)(out)
    out = nn.Dropout(0.5, inplace=True)(nn.LeakyReLU(inplace=True)(gn(out)))
    y = ln(nn.ReLU(inplace=True)(lin(out.flatten(1))))
    y = nn.SiLU(inplace=True)(nn.Hardtanh(inplace=True)(nn.ELU()(y)))
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and np.abs(x.grad.numpy()).sum() > 0
