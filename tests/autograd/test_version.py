"""Version counters: a backward whose saved values were changed in place raises, as in
PyTorch, instead of computing a gradient from values its forward never saw."""
import gc

import numpy as np
import pytest

import minidl
from minidl.autograd import version

MODIFIED = "modified by an inplace operation"


def test_each_in_place_change_counts_once_as_in_pytorch():
    t = minidl.zeros(3)
    assert t._version == 0
    t.add_(1)
    t.mul_(2)
    t[0] = 5
    t.zero_()
    assert t._version == 4                     # torch: 4
    t + 1                                       # an out-of-place op changes nothing
    assert t._version == 4


def test_views_and_detach_share_the_count_of_their_memory():
    base = minidl.zeros(4)
    view, flat, detached = base[:2], base.reshape(2, 2), base.detach()
    base.add_(1)
    assert view._version == flat._version == detached._version == base._version == 1
    view.zero_()                                # through the view: the base's count moves
    assert base._version == 2
    assert minidl.zeros(4)._version == 0        # a copy has a count of its own


def test_optimizer_step_between_forward_and_backward_raises():
    # a hidden layer's weight is needed for the input's gradient of the layer above
    minidl.manual_seed(0)
    model = minidl.nn.Sequential(minidl.nn.Linear(3, 4), minidl.nn.Tanh(),
                                 minidl.nn.Linear(4, 2))
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    loss = model(minidl.ones(5, 3)).pow(2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match=f"AddmmBackward0: .*{MODIFIED}: \\[float32 tensor of "
                                           f"shape \\[2, 4\\]\\] is at version 2; expected "
                                           f"version 1 instead"):
        loss.backward()


def test_a_weight_no_gradient_reads_is_not_saved_so_changing_it_is_fine():
    # PyTorch saves a first layer's weight only when its input needs a gradient; so does
    # minidl (Linear, matmul, mul and conv2d), so this PyTorch loop runs here too
    layer = minidl.nn.Linear(3, 2)
    opt = minidl.optim.Adam(layer.parameters())
    loss = layer(minidl.ones(4, 3)).pow(2).sum()
    loss.backward(retain_graph=True)
    first = layer.weight.grad.numpy().copy()
    opt.step()
    layer.zero_grad()
    loss.backward()                             # the same graph: its x and its output
    np.testing.assert_array_equal(layer.weight.grad.numpy(), first)
    conv = minidl.nn.Conv2d(1, 2, 3)
    loss = conv(minidl.ones(1, 1, 5, 5)).relu().sum()
    with minidl.no_grad():
        conv.weight.mul_(2)
    loss.backward()
    assert conv.weight.grad is not None


def test_in_place_change_of_a_saved_tensor_under_no_grad_raises():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y                                   # saves y
    with minidl.no_grad():
        y.add_(1)                               # writes into y's array
    with pytest.raises(RuntimeError, match=f"MulBackward0: .*{MODIFIED}.*which is output 0 of MulBackward0"):
        z.sum().backward()


def test_a_saved_output_changed_in_place_raises():
    x = minidl.tensor([1.0, -2.0], requires_grad=True)
    y = minidl.sigmoid(x)                       # saves its output
    with minidl.no_grad():
        y.zero_()
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_a_saved_leaf_that_an_in_place_op_changes_raises():
    # x needs no grad; x.add_(w) writes x + w into x's memory and gives x a history: the
    # MulFn that saved x would read the new values (PyTorch: raises, naming output 0 of Add)
    x = minidl.ones(3)
    w = minidl.ones(3, requires_grad=True)
    y = x * w
    x.add_(w)
    with pytest.raises(RuntimeError, match=f"{MODIFIED}.*output 0 of AddBackward0.*is at "
                                           f"version 1; expected version 0"):
        y.sum().backward()


def test_zero_grad_in_place_raises_for_a_graph_that_saved_the_gradient():
    for zero_grad in ("module", "optimizer"):
        layer = minidl.nn.Linear(2, 1)
        x = minidl.ones(3, 2, requires_grad=True)
        layer(x).sum().backward(create_graph=True)
        penalty = (layer.weight.grad ** 2).sum()            # saves weight.grad
        if zero_grad == "module":
            layer.zero_grad(set_to_none=False)
        else:
            minidl.optim.SGD(layer.parameters(), lr=0.1).zero_grad(set_to_none=False)
        assert not layer.weight.grad.requires_grad
        np.testing.assert_array_equal(layer.weight.grad.numpy(), 0)
        with pytest.raises(RuntimeError, match=MODIFIED):
            penalty.backward()


@pytest.mark.parametrize("change", ["load_state_dict", "init", "batch_norm"])
def test_other_in_place_writers_move_the_count(change):
    model = minidl.nn.BatchNorm1d(3) if change == "batch_norm" else minidl.nn.Linear(3, 3)
    target = model.running_mean if change == "batch_norm" else model.weight
    before = target._version
    if change == "load_state_dict":
        model.load_state_dict(model.state_dict())
    elif change == "init":
        minidl.nn.init.zeros_(model.weight)
    else:
        model(minidl.ones(4, 3))
    assert target._version == before + 1


def test_no_false_alarm_in_a_training_loop_or_a_retained_graph():
    minidl.manual_seed(0)
    model = minidl.nn.Sequential(minidl.nn.Conv2d(1, 2, 3), minidl.nn.ReLU(),
                                 minidl.nn.Flatten(), minidl.nn.Linear(18, 2))
    opt = minidl.optim.Adam(model.parameters())
    x, y = minidl.ones(4, 1, 5, 5), minidl.tensor([0, 1, 0, 1])
    for _ in range(3):
        opt.zero_grad()
        loss = minidl.nn.functional.cross_entropy(model(x), y)
        loss.backward(retain_graph=True)
        loss.backward()                         # twice, nothing changed in between
        opt.step()


def test_an_in_place_op_on_a_saved_non_leaf_raises_as_pytorch():
    # y.add_(1) writes into y's memory, which z's MulFn saved: its backward would read
    # values the forward never saw, so it raises, as PyTorch's does
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match=f"{MODIFIED}.*is at version 1; expected version 0"):
        z.sum().backward()


def test_a_count_goes_with_its_array():
    gc.collect()                     # arrays of earlier tests, freed now, not mid-test
    before = len(version._counts)
    t = minidl.zeros(5)
    t.add_(1)
    assert len(version._counts) == before + 1
    del t
    gc.collect()
    assert len(version._counts) == before


def test_a_freed_graph_lets_go_of_the_arrays_it_saved():
    x = minidl.ones(3, requires_grad=True)
    y = x * x
    node = y.grad_fn
    assert node._saved_data
    y.sum().backward()
    assert node._saved_data == ()


def _outcome(fn, lib):
    try:
        return fn(lib)
    except RuntimeError as exc:
        assert "modified by an inplace operation" in str(exc)
        return "raises"


def _hidden_layer_step(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    loss = model(lib.ones(5, 3)).pow(2).sum()
    loss.backward(retain_graph=True)
    lib.optim.SGD(model.parameters(), lr=0.1).step()
    loss.backward()


def _first_layer_step(lib):
    layer = lib.nn.Linear(3, 2)
    loss = layer(lib.ones(4, 3)).pow(2).sum()
    loss.backward(retain_graph=True)
    lib.optim.Adam(layer.parameters()).step()
    loss.backward()


def _no_grad_write(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    with lib.no_grad():
        y.add_(1)
    z.sum().backward()


def _detached_write(lib):
    w = lib.ones(3, requires_grad=True)
    y = (w * w).sum()
    w.detach().zero_()
    y.backward()


def _leaf_rebound(lib):
    x, w = lib.ones(3), lib.ones(3, requires_grad=True)
    y = x * w
    x.add_(w)
    y.sum().backward()


def _load_between(lib):
    layer = lib.nn.Linear(3, 2)
    loss = layer(lib.ones(4, 3)).sum()
    layer.load_state_dict(layer.state_dict())
    loss.backward()


def _penalty_after_accumulation(lib):
    x, w = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
    (x * x * w).sum().backward(create_graph=True)
    penalty = (x.grad * x.grad).sum()
    (x * 5).sum().backward()
    penalty.backward()


def _counts(lib):
    t = lib.zeros(4)
    view = t[1:3]
    t.add_(1)
    view.mul_(2)
    t[0] = 3
    return (t._version, view._version, t.detach()._version)


def _first_layer_step_through_div(lib):
    w = lib.ones(3, 2, requires_grad=True)
    loss = (lib.ones(4, 3) @ (w / 2.0)).pow(2).sum()     # w / 2 keeps no copy of w
    loss.backward(retain_graph=True)
    lib.optim.SGD([w], lr=0.1).step()
    loss.backward()


def _copied_then_zeroed(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    buf = lib.zeros(3)
    buf.copy_(h)
    with lib.no_grad():
        buf.zero_()                             # buf's own memory: h keeps its values
    (h * h).sum().backward()
    return x.grad.tolist(), h.tolist()


def _where_mask_changed(lib):
    a = lib.ones(3, requires_grad=True)
    mask = lib.tensor([True, False, True])
    y = lib.where(mask, a, a * 0)
    mask[1] = True
    y.sum().backward()


def _target_changed(lib):
    x = lib.ones(2, 3, requires_grad=True)
    target = lib.tensor([0, 1])
    loss = lib.nn.functional.cross_entropy(x, target)
    target[0] = 2
    loss.backward()


def _index_changed(lib):
    a = lib.ones(3, requires_grad=True)
    index = lib.tensor([0, 1])
    y = a[index]
    index[0] = 2
    y.sum().backward()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("case", [_hidden_layer_step, _first_layer_step, _no_grad_write,
                                  _detached_write, _leaf_rebound, _load_between,
                                  _penalty_after_accumulation, _counts,
                                  _first_layer_step_through_div, _copied_then_zeroed,
                                  _where_mask_changed, _target_changed, _index_changed])
def test_raises_where_pytorch_raises(case):
    torch = pytest.importorskip("torch")
    assert _outcome(case, minidl) == _outcome(case, torch)


def test_loaded_tensors_have_memory_and_counts_of_their_own(tmp_path):
    path = tmp_path / "two.safetensors"
    minidl.save({"x": minidl.ones(4, 3), "y": minidl.ones(4)}, path)
    loaded = minidl.load(path)
    x, y = loaded["x"], loaded["y"]
    assert x.array.base is None and y.array.base is None
    w = minidl.zeros(3, requires_grad=True)
    pred = x @ w                                # saves x
    with minidl.no_grad():
        y.mul_(2)
    assert (x._version, y._version) == (0, 1)
    ((pred - y) ** 2).sum().backward()          # x untouched: no error
