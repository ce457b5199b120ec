"""The everyday API that PyTorch programs reach for: device queries, module paths, legacy
names, amp, DataParallel, set_default_device."""
import importlib

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import backend


def test_device_queries_are_truthful_without_a_gpu():
    has = backend.has_cupy()
    assert minidl.accelerator.is_available() is has and minidl.cuda.is_available() is has
    if not has:
        assert minidl.accelerator.current_accelerator() is None
        assert minidl.cuda.device_count() == 0
        with pytest.raises(RuntimeError, match="no CUDA device: CuPy"):
            minidl.cuda.synchronize()
        with pytest.raises(RuntimeError, match="CuPy"):
            minidl.set_default_device("cuda")
    assert minidl.backends.mps.is_available() is False
    minidl.backends.cudnn.benchmark = True        # programs set these flags
    minidl.cuda.manual_seed(0)


@pytest.mark.parametrize("path", ["minidl.utils.data.dataloader", "minidl.utils.data.dataset",
                                  "minidl.utils.data.sampler", "minidl.nn.parallel",
                                  "minidl.nn.modules.module", "minidl.nn.utils.rnn",
                                  "minidl.cuda.amp", "minidl.amp", "minidl.backends"])
def test_module_paths_import(path):
    importlib.import_module(path)


def test_utils_data_submodules_hold_the_same_objects():
    from minidl.utils.data.dataloader import DataLoader
    from minidl.utils.data.dataset import TensorDataset
    assert DataLoader is minidl.data.DataLoader and TensorDataset is minidl.data.TensorDataset


def test_set_default_device_cpu_and_back():
    minidl.set_default_device("cpu")
    try:
        assert minidl.zeros(2).device == "cpu" and minidl.get_default_device() is None
    finally:
        minidl.set_default_device(None)


def test_autocast_disabled_is_a_no_op_and_enabled_refuses():
    x = minidl.ones(2)
    with minidl.amp.autocast("cpu", enabled=False):
        assert (x * 2).dtype == minidl.float32
    with pytest.raises(NotImplementedError, match="enabled=False"):
        with minidl.amp.autocast("cpu", dtype=minidl.float16):
            pass


def test_grad_scaler_passes_through():
    model = nn.Linear(2, 1)
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    scaler = minidl.amp.GradScaler(enabled=False)
    before = model.weight.detach().numpy().copy()
    loss = model(minidl.ones(1, 2)).sum()
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 1.0
    assert not np.array_equal(before, model.weight.detach().numpy())


def test_data_parallel_wraps_and_prefixes_state_dict():
    inner = nn.Linear(3, 2)
    dp = nn.parallel.DataParallel(inner)
    x = minidl.randn(4, 3)
    np.testing.assert_array_equal(dp(x).detach().numpy(), inner(x).detach().numpy())
    assert list(dp.state_dict()) == ["module.weight", "module.bias"] and dp.module is inner


def test_small_helpers():
    x = minidl.arange(6.0).reshape(2, 3)
    assert minidl.is_tensor(x) and not minidl.is_tensor(np.ones(2)) and minidl.numel(x) == 6
    a = np.arange(3.0)
    assert minidl.as_tensor(a).array is a
    with minidl.inference_mode():
        assert not (minidl.ones(1, requires_grad=True) * 2).requires_grad
    assert minidl.allclose(x, x + 1e-9) and minidl.equal(x, x.clone())
