"""save of whole objects (a module, a tensor, a list) and load under PyTorch's weights_only
rules: the default refuses classes nobody allowed, naming them; add_safe_globals and
safe_globals allow them; weights_only=False loads anything."""
from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import serialization


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(2)
        self.steps = 7

    def forward(self, x):
        return self.bn(self.fc(x))


@pytest.fixture(autouse=True)
def no_leftover_safe_globals():
    yield
    serialization.clear_safe_globals()


def test_a_whole_module_round_trips_with_weights_only_false(tmp_path):
    minidl.manual_seed(0)
    net = TinyNet()
    net(minidl.randn(4, 3))                      # running stats move
    net.eval()
    minidl.save(net, tmp_path / "net.pt")
    back = minidl.load(tmp_path / "net.pt", weights_only=False)
    assert type(back) is TinyNet and back.steps == 7 and not back.training
    for (k, a), (k2, b) in zip(net.state_dict().items(), back.state_dict().items()):
        assert k == k2 and np.array_equal(a.numpy(), b.numpy()) and a.dtype is b.dtype
    assert isinstance(back.fc.weight, nn.Parameter) and back.fc.weight.requires_grad
    x = minidl.randn(5, 3)
    assert np.array_equal(net(x).detach().numpy(), back(x).detach().numpy())
    assert os.listdir(tmp_path) == ["net.pt"]     # atomic: no temporary file left


def test_weights_only_refuses_an_unknown_class_and_names_it(tmp_path):
    minidl.save(TinyNet(), tmp_path / "net.pt")
    with pytest.raises(pickle.UnpicklingError,
                       match=r"Weights only load failed.*GLOBAL .*TinyNet was not an allowed "
                             r"global.*add_safe_globals\(\[TinyNet\]\)"):
        minidl.load(tmp_path / "net.pt")         # weights_only defaults to True


def test_safe_globals_allow_a_class(tmp_path):
    minidl.save(TinyNet(), tmp_path / "net.pt")
    allowed = [TinyNet, nn.Linear, nn.BatchNorm1d]
    from collections import OrderedDict           # noqa: F401 (allowed by default)
    with serialization.safe_globals(allowed):
        try:
            back = minidl.load(tmp_path / "net.pt")
        except pickle.UnpicklingError as err:     # a module's other globals, named
            pytest.fail(str(err))
    assert type(back) is TinyNet
    assert serialization.get_safe_globals() == []  # the context restored the list
    serialization.add_safe_globals(allowed)
    assert type(minidl.load(tmp_path / "net.pt", weights_only=True)) is TinyNet


@pytest.mark.parametrize("obj", [
    minidl.arange(6.0).reshape(2, 3), [minidl.ones(2), 3, "x", None], (1.5, {"a": 2}),
    {2.5: minidl.zeros(1)}, {"c": np.zeros(2, np.complex64)}, {"s": np.array(["a"])},
    minidl.tensor([1, 2], dtype=minidl.int32), {True: {1, 2}}, minidl.Size([2, 3]),
])
def test_plain_values_round_trip_under_the_default_weights_only(obj, tmp_path):
    minidl.save(obj, tmp_path / "x.pt")
    back = minidl.load(tmp_path / "x.pt")
    assert type(back) is type(obj)
    assert repr(back) == repr(obj)


def test_tensors_keep_requires_grad_lose_their_graph_and_go_to_map_location(tmp_path):
    x = minidl.ones(2, requires_grad=True)
    y = x * 2
    minidl.save([x, y], tmp_path / "t.pt")
    a, b = minidl.load(tmp_path / "t.pt", map_location="cpu")
    assert a.requires_grad and b.requires_grad and b.is_leaf and b.grad_fn is None
    assert np.array_equal(b.detach().numpy(), [2.0, 2.0])


def test_plain_values_are_safetensors_and_the_rest_is_a_pickle(tmp_path):
    for obj, pickled in [(minidl.ones(2), False), ([minidl.ones(2), {"a": 1}], False),
                         (np.arange(3), False), (minidl.Size([2]), True), ({1.5: 2}, True)]:
        minidl.save(obj, tmp_path / "x.pt")
        head = (tmp_path / "x.pt").read_bytes()[:13]
        assert (head == b"MINIDL-PICKLE") == pickled, obj


def test_a_state_dict_is_still_safetensors_and_a_module_is_not(tmp_path):
    net = TinyNet()
    minidl.save(net.state_dict(), tmp_path / "sd.pt")
    minidl.save(net, tmp_path / "m.pt")
    assert (tmp_path / "m.pt").read_bytes().startswith(b"MINIDL-PICKLE")
    assert not (tmp_path / "sd.pt").read_bytes().startswith(b"MINIDL-PICKLE")
    assert set(minidl.load(tmp_path / "sd.pt")) == set(net.state_dict())


def test_a_truncated_pickle_is_a_clear_error(tmp_path):
    minidl.save(TinyNet(), tmp_path / "m.pt")
    raw = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match="cut.pt: a truncated or corrupt minidl pickle"):
        minidl.load(tmp_path / "cut.pt", weights_only=False)


def test_deepcopy_copies_leaves_with_their_grad_and_refuses_non_leaves():
    x = minidl.ones(2, requires_grad=True)
    x.grad = minidl.full((2,), 3.0)
    c = copy.deepcopy(x)
    assert c is not x and c.requires_grad and np.array_equal(c.grad.numpy(), [3.0, 3.0])
    c.array[0] = 9
    assert x.array[0] == 1
    with pytest.raises(RuntimeError, match="graph leaves.*MulBackward0"):
        copy.deepcopy(x * 2)
    net = TinyNet()
    twin = copy.deepcopy(net)
    assert twin.fc.weight is not net.fc.weight
    assert np.array_equal(twin.fc.weight.detach().numpy(), net.fc.weight.detach().numpy())
