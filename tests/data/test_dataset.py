"""TensorDataset, Subset, ConcatDataset and random_split."""
import numpy as np
import pytest

import minidl
from minidl.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


class Range(Dataset):
    def __init__(self, start: int, n: int) -> None:
        self.start, self.n = start, n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.start + i

    def __len__(self) -> int:
        return self.n


def test_tensor_dataset_items_and_batches():
    x = minidl.arange(12, dtype=minidl.float32).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert isinstance(xi, minidl.Tensor) and xi.tolist() == [8.0, 9.0] and yi.item() == 4
    bx, by = ds.get_batch(np.array([5, 0]))
    assert bx.tolist() == [[10.0, 11.0], [0.0, 1.0]] and by.tolist() == [5, 0]
    assert ds.tensors[1].array is y                   # wrapped, not copied


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match=r"size mismatch.*\(3, 2\), \(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_and_concat():
    a, b = Range(0, 3), Range(100, 4)
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 7
    assert [cat[i] for i in range(7)] == [0, 1, 2, 100, 101, 102, 103]
    assert cat[-1] == 103 and cat[-7] == 0
    with pytest.raises(IndexError, match="index 7 is out of range for length 7"):
        cat[7]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    sub = Subset(cat, [6, 0, 3])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [103, 0, 100]
    assert sub[[0, 2]] == [103, 100]


def test_random_split_lengths_and_fractions():
    ds = Range(0, 10)
    parts = random_split(ds, [3, 7], generator=0)
    assert [len(p) for p in parts] == [3, 7]
    items = sorted(p[i] for p in parts for i in range(len(p)))
    assert items == list(range(10))                                   # disjoint, covering
    perm = np.random.default_rng(0).permutation(10)                   # the documented draw
    assert parts[0].indices.tolist() == perm[:3].tolist()
    # Fractions: floors, then the remainder one at a time from the first part (PyTorch's rule).
    assert [len(p) for p in random_split(ds, [0.33, 0.33, 0.34], generator=0)] == [4, 3, 3]
    minidl.manual_seed(2)
    first = random_split(ds, [5, 5])[0].indices.tolist()
    minidl.manual_seed(2)
    assert random_split(ds, [5, 5])[0].indices.tolist() == first


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum of input lengths 9 does not equal the length of "
                                         "the input dataset 10"):
        random_split(Range(0, 10), [4, 5])
    with pytest.raises(ValueError, match="non-negative ints or fractions"):
        random_split(Range(0, 10), [12, -2])
    with pytest.raises(ValueError, match=r"fractions summing to 1, got \[0.5, 0.2\]"):
        random_split(Range(0, 10), [0.5, 0.2])


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError, match="Dataset must implement __getitem__"):
        Dataset()[0]
