"""`Tensor.data` as PyTorch has it (a Tensor sharing memory, no graph, untracked writes),
`Tensor.array` as the raw array, and `.grad` assignment checks."""
import numpy as np
import pytest

import minidl


def test_data_is_a_tensor_sharing_memory_with_no_graph():
    w = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = w.data
    assert isinstance(d, minidl.Tensor) and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.array, w.array) and d.array is w.array
    assert isinstance(w.array, np.ndarray)


def test_data_in_place_idioms_write_through():
    w = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    w.data.add_(w.grad.data, alpha=-0.5)          # the manual SGD step of old tutorials
    np.testing.assert_array_equal(w.array, [0.0, 0.0, 0.0])
    w.grad.data.zero_()
    np.testing.assert_array_equal(w.grad.array, [0.0, 0.0, 0.0])
    out = (w + 1).data.cpu().numpy()
    np.testing.assert_array_equal(out, [1.0, 1.0, 1.0])


def test_writes_through_data_are_not_counted_as_in_pytorch():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = minidl.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()                 # saves w and x
    before = w._version
    w.data.mul_(2.0)                  # PyTorch: no error at backward (untracked write)
    assert w._version == before
    y.backward()
    np.testing.assert_array_equal(x.grad.array, [2.0, 4.0])


def test_detach_writes_are_counted():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    x = minidl.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    w.detach().mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_setting_data_replaces_values_shape_and_dtype():
    p = minidl.nn.Parameter(minidl.zeros(2, 3))
    p.data = minidl.ones(4, dtype=minidl.float64)
    assert p.shape == (4,) and p.dtype == minidl.float64 and p.requires_grad
    p.data = np.arange(3.0)
    np.testing.assert_array_equal(p.array, [0.0, 1.0, 2.0])


def test_grad_assignment_is_checked_as_in_pytorch():
    w = minidl.zeros(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match="Tensor or None"):
        w.grad = np.zeros((2, 3), np.float32)
    with pytest.raises(RuntimeError, match=r"different size: \[3\] .* \[2, 3\]"):
        w.grad = minidl.zeros(3)
    with pytest.raises(RuntimeError, match="different type"):
        w.grad = minidl.zeros(2, 3, dtype=minidl.float64)
    w.grad = minidl.ones(2, 3)
    assert w.grad.shape == (2, 3)
    w.grad = None
    assert w.grad is None


def test_parity_with_pytorch_on_data_idioms():
    torch = pytest.importorskip("torch")
    results_by_lib = []
    for lib in (torch, minidl):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        x = lib.tensor([0.5, 0.25, 2.0], requires_grad=True)
        y = (w * x).sum()
        w.data.mul_(10.0)             # untracked in both: backward runs with the old x
        y.backward()
        w.data.add_(w.grad.data, alpha=-0.1)
        results_by_lib.append((w.detach().numpy().copy(), x.grad.detach().numpy().copy()))
    np.testing.assert_allclose(results_by_lib[0][0], results_by_lib[1][0], rtol=1e-6)
    np.testing.assert_allclose(results_by_lib[0][1], results_by_lib[1][1], rtol=1e-6)

