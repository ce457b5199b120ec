"""Sequential, ModuleList, ModuleDict: construction, indexing, mutation, forward, repr."""
from collections import OrderedDict

import numpy as np
import pytest

import minidl
import minidl.nn as nn


def test_sequential_forward_is_the_composition():
    minidl.manual_seed(0)
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(a, nn.Tanh(), b)
    x = minidl.randn(5, 3)
    np.testing.assert_array_equal(seq(x).detach().numpy(), b(a(x).tanh()).detach().numpy())
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                      "2.bias"]


def test_sequential_ordered_dict_names_and_indexing():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU()),
                                     ("out", nn.Linear(3, 1))]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert seq[0] is seq.fc and seq[-1] is seq.out and len(seq) == 3
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["act", "out"]
    assert list(seq) == [seq.fc, seq.act, seq.out]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]


def test_sequential_append_insert_delete_setitem():
    seq = nn.Sequential(nn.ReLU())
    assert seq.append(nn.Tanh()) is seq
    seq.extend([nn.Sigmoid()])
    assert [type(m).__name__ for m in seq] == ["ReLU", "Tanh", "Sigmoid"]
    seq.insert(1, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["ReLU", "Identity", "Tanh", "Sigmoid"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"]
    seq[0] = nn.LeakyReLU()
    assert isinstance(seq[0], nn.LeakyReLU)


def test_module_list_registers_and_indexes():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    assert layers[-1] is layers[2]
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    layers.append(nn.ReLU())
    layers += [nn.Tanh()]
    layers.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in layers][:2] == ["Sigmoid", "Linear"]
    assert list(layers._modules) == [str(i) for i in range(6)]
    del layers[0]
    assert type(layers[0]).__name__ == "Linear"
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(3)


def test_module_list_repr_compresses_repeats_like_pytorch():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    assert repr(layers) == ("ModuleList(\n"
                            "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (2): ReLU()\n"
                            ")")
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_dict():
    d = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(d.keys()) == ["a", "b"] and "a" in d and len(d) == 2
    d["c"] = nn.Tanh()
    d.update([("e", nn.Sigmoid())])
    assert list(d) == ["a", "b", "c", "e"]
    assert isinstance(d.pop("b"), nn.ReLU) and "b" not in d
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(ValueError, match="pair"):
        d.update([1])
    d.clear()
    assert len(d) == 0
