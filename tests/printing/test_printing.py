"""Tensors, shapes, dtypes and graph nodes print as PyTorch prints them, so a swapped program
prints what the PyTorch one prints: repr digit for digit (widths, wrapping, scientific
notation, summarizing, suffixes), torch.Size, torch.float32, grad_fn=<MulBackward0>."""
from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
import minidl.nn.functional as MF

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

_spec = importlib.util.spec_from_file_location("grad_fn_cases",
                                               Path(__file__).with_name("grad_fn_cases.py"))
grad_fn_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grad_fn_cases)


def both(array: np.ndarray, requires_grad=False):
    return (minidl.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


@pytest.fixture(autouse=True)
def default_print_options():
    yield
    minidl.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("values", [
    [1.0, 2.0], [0.5, -1.25, 3.0], [1e-5, 1.0], [1e9, 1.0], [1e3, 1e-2], [0.0, -0.0],
    [np.inf, -np.inf, np.nan, 1.5], [np.nan], [123456.5, 0.25], [1.0, 1e8], [3.0, 1e9],
    [[1.0, 2.5], [-30.0, 4.0]], [[[0.1234567]]], 7.0, -0.000123, [True, False], [1, -20, 300],
], ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_repr_of_chosen_values_is_pytorchs(values, dtype):
    a = np.asarray(values)
    if a.dtype.kind == "f":
        a = a.astype(dtype)
    ours, theirs = both(a)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


@given(shape=st.lists(st.integers(0, 7), min_size=0, max_size=3),
       scale=st.sampled_from([1e-6, 1e-2, 1.0, 1e3, 1e9]),
       integral=st.booleans(), dtype=st.sampled_from(["float32", "float64", "int64"]),
       requires_grad=st.booleans(), seed=st.integers(0, 2**16))
def test_repr_of_drawn_tensors_is_pytorchs(shape, scale, integral, dtype, requires_grad, seed):
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    if integral or dtype == "int64":
        a = np.round(a)
    a = a.astype(dtype)
    ours, theirs = both(a, requires_grad and dtype != "int64")
    assert repr(ours) == repr(theirs)


def test_long_and_large_tensors_wrap_and_summarize_as_pytorch():
    rng = np.random.default_rng(0)
    for shape in [(30,), (7, 40), (2000,), (40, 40), (3, 20, 30), (1001,)]:
        ours, theirs = both(rng.standard_normal(shape).astype(np.float32))
        assert repr(ours) == repr(theirs), shape


def test_suffixes_dtype_device_grad_fn_and_wrapping_are_pytorchs():
    a = np.arange(12.0).reshape(3, 4) / 7
    ours, theirs = both(a, requires_grad=True)     # float64: a dtype suffix
    assert repr(ours * 2) == repr(theirs * 2)
    assert repr(ours.sum()) == repr(theirs.sum())
    assert repr(minidl.zeros(0, 3)) == repr(torch.zeros(0, 3))
    assert repr(minidl.zeros(0, dtype=minidl.int64)) == repr(torch.zeros(0, dtype=torch.int64))
    assert repr(minidl.arange(5, dtype=minidl.int32)) == repr(torch.arange(5, dtype=torch.int32))
    assert repr(minidl.nn.Parameter(minidl.ones(2))) == repr(torch.nn.Parameter(torch.ones(2)))
    long_row = np.linspace(-1, 1, 9)                # 9 wide floats: the suffix wraps
    ours, theirs = both(long_row, requires_grad=True)
    assert repr(ours * 3) == repr(theirs * 3)


@pytest.mark.parametrize("options", [dict(precision=2), dict(precision=8), dict(sci_mode=True),
                                     dict(sci_mode=False), dict(linewidth=40),
                                     dict(threshold=10, edgeitems=2), dict(profile="short"),
                                     dict(profile="full"), dict(edgeitems=0, threshold=5)])
def test_set_printoptions_does_what_pytorchs_does(options):
    minidl.set_printoptions(**options)
    torch.set_printoptions(**options)
    rng = np.random.default_rng(1)
    for a in [rng.standard_normal((4, 30)), rng.standard_normal(3) * 1e-5, np.arange(20.0)]:
        ours, theirs = both(a.astype(np.float32))
        assert repr(ours) == repr(theirs), options
    assert minidl.get_printoptions()["precision"] == torch._tensor_str.PRINT_OPTS.precision


def test_set_printoptions_refuses_an_unknown_profile():
    with pytest.raises(ValueError, match="set_printoptions: profile must be one of"):
        minidl.set_printoptions(profile="long")


def test_size_is_a_tuple_that_prints_as_torch_size():
    x, y = minidl.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert repr(x.shape) == repr(y.shape) and str(x.size()) == str(y.size())
    assert repr(x.shape[1:]) == repr(y.shape[1:]) and x.shape[0] == 2
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert x.shape.numel() == y.shape.numel() == 24
    assert repr(x.shape + (5,)) == repr(y.shape + (5,))
    assert pickle.loads(pickle.dumps(x.shape)) == x.shape
    assert minidl.Size([2, 3]) == (2, 3)


def test_dtypes_are_single_objects_that_print_and_compare_as_pytorchs():
    x = minidl.zeros(2)
    assert x.dtype is minidl.float32 is minidl.float
    assert str(x.dtype) == str(torch.zeros(2).dtype) == "torch.float32"
    assert minidl.float64 is minidl.double and minidl.int64 is minidl.long
    assert x.dtype == np.float32 and x.dtype == np.dtype("float32") and x.dtype != minidl.float64
    assert np.zeros(2, dtype=minidl.float64).dtype == np.float64      # NumPy reads them
    assert {np.dtype("float32"): 1}[x.dtype] == 1                      # and hashes them alike
    assert minidl.float32.is_floating_point and not minidl.int64.is_floating_point
    assert minidl.float16.itemsize == 2 and minidl.int8.is_signed and not minidl.uint8.is_signed
    assert pickle.loads(pickle.dumps(minidl.float64)) is minidl.float64
    assert minidl.get_default_dtype() is minidl.float32
    assert minidl.finfo(minidl.float32).eps == torch.finfo(torch.float32).eps
    assert minidl.iinfo(minidl.int32).max == torch.iinfo(torch.int32).max
    with pytest.raises(TypeError, match="cannot create minidl.dtype"):
        minidl.dtype()


def test_grad_fn_names_are_pytorchs():
    ours = {k: f() for k, f in grad_fn_cases.cases(minidl, MF).items()}
    theirs = {k: f() for k, f in grad_fn_cases.cases(torch, TF).items()}
    differ = {}
    for k, t in theirs.items():
        name = type(t.grad_fn).__name__
        mine = ours[k].grad_fn.name() if ours[k].grad_fn is not None else "NoneType"
        if mine != name:
            differ[k] = (mine, name)
    assert not differ, differ


def test_grad_fn_repr_and_next_functions_are_pytorchs():
    x = minidl.ones(2, requires_grad=True)
    y = x * 2 + minidl.ones(2)
    assert repr(y.grad_fn).startswith("<AddBackward0 object at 0x")
    (mul, i), (none, j) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and i == 0 and none is None and j == 0
    (acc, _), _ = mul.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable is x


def test_views_made_under_no_grad_still_require_grad_as_in_pytorch():
    w, tw = both(np.ones((2, 3)), requires_grad=True)
    with minidl.no_grad(), torch.no_grad():
        pairs = [(w[:, 0], tw[:, 0]), (w.view(6), tw.view(6)), (w.t(), tw.t()),
                 (w[[0]], tw[[0]]), (w * 2, tw * 2)]
    for ours, theirs in pairs:
        assert ours.requires_grad == theirs.requires_grad and ours.grad_fn is None
        assert repr(ours) == repr(theirs)
