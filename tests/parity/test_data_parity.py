"""minidl.data and minidl.metrics against torch.utils.data and the formulas torchvision uses."""
import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader as TorchLoader                  # noqa: E402
from torch.utils.data import TensorDataset as TorchTensorDataset        # noqa: E402
from torch.utils.data import default_collate as torch_collate           # noqa: E402
from torch.utils.data import random_split as torch_random_split         # noqa: E402

import minidl                                                            # noqa: E402
from minidl.data import transforms as T                                  # noqa: E402
from minidl.metrics import accuracy                                      # noqa: E402
from minidl.utils.data import (DataLoader, TensorDataset, default_collate,  # noqa: E402
                               random_split)


def _same(ours, theirs):
    """Recursively compare a minidl batch with a torch batch: structure, dtypes, values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, minidl.Tensor)
        assert ours.dtype == theirs.numpy().dtype and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.array, theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for key in theirs:
            _same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


def test_default_collate_matches_torch_structure_and_dtypes():
    Pair = collections.namedtuple("Pair", "a b")
    rng = np.random.default_rng(0)
    samples = [{"img": rng.random((2, 3)).astype(np.float32), "u8": np.arange(4, dtype=np.uint8),
                "label": int(i), "flag": bool(i % 2), "name": f"s{i}",
                "pair": Pair(np.float64(i), np.int32(i)), "seq": (i, [i, i + 1])}
               for i in range(3)]
    _same(default_collate(samples), torch_collate(samples))


def test_default_collate_python_floats_differ_from_torch_as_documented():
    ours, theirs = default_collate([0.1, 0.2]), torch_collate([0.1, 0.2])
    assert ours.dtype == np.float32 and theirs.dtype == torch.float64
    np.testing.assert_array_equal(ours.array, theirs.numpy().astype(np.float32))


def test_tensors_collate_like_torch_stack():
    items = [np.random.default_rng(i).random((3, 4)) for i in range(5)]
    ours = default_collate([minidl.tensor(x) for x in items])
    theirs = torch_collate([torch.tensor(x) for x in items])
    _same(ours, theirs)


@given(n=st.integers(1, 40), batch_size=st.integers(1, 9), drop_last=st.booleans())
def test_sequential_batches_and_len_match_torch(n, batch_size, drop_last):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    y = np.arange(n, dtype=np.int64) % 3
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = TorchLoader(TorchTensorDataset(torch.tensor(x), torch.tensor(y)),
                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    ours_list, theirs_list = list(ours), list(theirs)
    assert len(ours_list) == len(theirs_list)
    for a, b in zip(ours_list, theirs_list):
        _same(a, b)


@pytest.mark.parametrize("n,fractions", [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]),
                                         (101, [0.8, 0.1, 0.1]), (3, [0.1, 0.9])])
def test_random_split_fraction_sizes_match_torch(n, fractions):
    ours = [len(s) for s in random_split(list(range(n)), fractions, generator=0)]
    theirs = [len(s) for s in torch_random_split(list(range(n)), fractions,
                                                 generator=torch.Generator().manual_seed(0))]
    assert ours == theirs


def test_to_tensor_and_normalize_match_torchvision_formulas():
    rng = np.random.default_rng(1)
    hwc = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    # torchvision's to_tensor on an ndarray: channels first, to float, div(255).
    expected = torch.from_numpy(hwc.transpose(2, 0, 1).copy()).to(torch.float32).div(255)
    ours = T.ToTensor()(hwc)
    np.testing.assert_array_equal(ours.array, expected.numpy())
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    # torchvision's normalize: tensor.sub(mean[:, None, None]).div(std[:, None, None]).
    t_mean = torch.tensor(mean, dtype=torch.float32)[:, None, None]
    t_std = torch.tensor(std, dtype=torch.float32)[:, None, None]
    np.testing.assert_array_equal(T.Normalize(mean, std)(ours).array,
                                  expected.sub(t_mean).div(t_std).numpy())


def test_accuracy_matches_torch_argmax_formula():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((50, 7))
    target = rng.integers(0, 7, 50)
    expected = (torch.tensor(logits).argmax(1) == torch.tensor(target)).double().mean().item()
    assert accuracy(minidl.tensor(logits), target) == pytest.approx(expected, rel=1e-15)
