"""DataLoader, samplers and default_collate: batching, shuffling, seeding, resuming."""
import collections

import numpy as np
import pytest

import minidl
from minidl.data import (DataLoader, Dataset, RandomSampler, Sampler, Subset,
                         SubsetRandomSampler, TensorDataset, default_collate)


class Squares(Dataset):
    """Item i is (array [i, i*i] float64, int label i % 3); counts __getitem__ calls."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __getitem__(self, i):
        self.calls += 1
        return np.array([i, i * i], dtype=np.float64), i % 3

    def __len__(self) -> int:
        return self.n


def _order(loader) -> list:
    return np.concatenate([b[0].array[:, 0] for b in loader]).astype(int).tolist()


# ---- default_collate ----

def test_collate_stacks_and_keeps_array_dtypes():
    out = default_collate([np.ones((2, 3), np.uint8), np.zeros((2, 3), np.uint8)])
    assert isinstance(out, minidl.Tensor) and out.shape == (2, 2, 3) and out.dtype == np.uint8
    out = default_collate([minidl.tensor([1.0, 2.0], dtype=minidl.float64)] * 3)
    assert out.shape == (3, 2) and out.dtype == np.float64 and not out.requires_grad


def test_collate_numbers_strings_and_containers():
    assert default_collate([1, 2, 3]).dtype == np.int64
    assert default_collate([True, False]).dtype == np.bool_
    floats = default_collate([0.5, 1.5])
    assert floats.dtype == np.float32 and floats.tolist() == [0.5, 1.5]   # minidl's default
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float64
    assert default_collate([np.int32(1), np.int32(2)]).dtype == np.int32
    assert default_collate(["a", "b"]) == ["a", "b"]
    batch = default_collate([{"x": np.zeros(2), "y": 1}, {"x": np.ones(2), "y": 2}])
    assert set(batch) == {"x", "y"} and batch["x"].shape == (2, 2)
    assert batch["y"].tolist() == [1, 2]
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    nested = default_collate([(np.zeros(2), [1, "a"]), (np.ones(2), [2, "b"])])
    assert isinstance(nested, list) and nested[1][0].tolist() == [1, 2]
    assert nested[1][1] == ["a", "b"]


def test_collate_errors_name_the_problem():
    with pytest.raises(RuntimeError, match=r"equal size.*\(2,\) at entry 0 and \(3,\) at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="dtype <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="non-empty list"):
        default_collate([])


# ---- DataLoader basics ----

def test_len_batches_and_drop_last():
    ds = Squares(10)
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert _order(batches) == list(range(10))
    assert batches[0][1].tolist() == [0, 1, 2, 0] and batches[0][1].dtype == np.int64
    assert [b[0].shape[0] for b in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    assert len(list(DataLoader(ds))) == 10                           # batch_size=1


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size should be a positive integer.*0"):
        DataLoader(Squares(3), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Squares(3), shuffle=True, sampler=[0, 1, 2])
    with pytest.raises(TypeError, match="generator must be an int seed"):
        DataLoader(Squares(3), shuffle=True, generator="seed")
    with pytest.raises(ValueError, match="num_samples is only supported with replacement"):
        RandomSampler(Squares(3), num_samples=2)
    DataLoader(Squares(3), num_workers=2, pin_memory=True)      # PyTorch scripts pass these


def test_shuffle_follows_manual_seed_and_reshuffles_each_epoch():
    ds = Squares(50)
    minidl.manual_seed(7)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    first, second = _order(loader), _order(loader)
    assert sorted(first) == list(range(50)) and first != second
    minidl.manual_seed(7)
    again = DataLoader(ds, batch_size=8, shuffle=True)
    assert _order(again) == first and _order(again) == second
    # The documented draw: one default_generator().permutation(n) per iter().
    minidl.manual_seed(7)
    gen = minidl.creation.default_generator()
    assert gen.permutation(50).tolist() == first and gen.permutation(50).tolist() == second


def test_seeded_generator_is_its_own_stream():
    ds = Squares(30)
    loader = DataLoader(ds, batch_size=7, shuffle=True, generator=123)
    minidl.manual_seed(0)
    epochs = [_order(loader), _order(loader)]
    rng = np.random.default_rng(123)
    assert epochs == [rng.permutation(30).tolist(), rng.permutation(30).tolist()]
    rng = np.random.default_rng(5)
    loader = DataLoader(ds, batch_size=30, shuffle=True, generator=rng)
    assert _order(loader) == np.random.default_rng(5).permutation(30).tolist()


def test_custom_sampler_and_collate_fn():
    ds = Squares(6)
    seen = []

    def collate(items):
        seen.append(len(items))
        return [x[0] for x, _ in items]

    out = list(DataLoader(ds, batch_size=2, sampler=[5, 3, 1], collate_fn=collate))
    assert out == [[5.0, 3.0], [1.0]] and seen == [2, 1]

    class Evens(Sampler):
        def __iter__(self):
            return iter(range(0, 6, 2))

        def __len__(self):
            return 3

    assert _order(DataLoader(ds, batch_size=2, sampler=Evens())) == [0, 2, 4]
    sub = SubsetRandomSampler([4, 2, 0], generator=1)
    assert sorted(_order(DataLoader(ds, batch_size=3, sampler=sub))) == [0, 2, 4]
    repl = RandomSampler(ds, replacement=True, num_samples=20, generator=0)
    assert len(DataLoader(ds, batch_size=5, sampler=repl)) == 4
    assert set(_order(DataLoader(ds, batch_size=5, sampler=repl))) <= set(range(6))


class CountingTensorDataset(TensorDataset):
    calls = 0

    def __getitem__(self, i):
        CountingTensorDataset.calls += 1
        return super().__getitem__(i)


def test_fast_path_matches_per_item_path_and_skips_items():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20) % 4
    ds = CountingTensorDataset(x, y)
    fast = list(DataLoader(ds, batch_size=6, shuffle=True, generator=0))
    assert CountingTensorDataset.calls == 0
    slow = list(DataLoader(ds, batch_size=6, shuffle=True, generator=0,
                           collate_fn=lambda items: default_collate(items)))
    assert CountingTensorDataset.calls == 20
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.array, sx.array)
        np.testing.assert_array_equal(fy.array, sy.array)
        assert fx.dtype == sx.dtype == np.float32 and fy.dtype == sy.dtype == y.dtype
    sub = Subset(ds, [3, 1, 4])
    (sx, sy), = list(DataLoader(sub, batch_size=3))
    assert sx.array[:, 0].tolist() == [6.0, 2.0, 8.0] and CountingTensorDataset.calls == 20
    (px, py), = list(DataLoader(Subset(Squares(9), [8, 2]), batch_size=2))   # no get_batch
    assert px.array[:, 1].tolist() == [64.0, 4.0] and py.tolist() == [2, 2]


# ---- resuming mid-epoch ----

def test_resume_mid_epoch_with_own_generator_matches_uninterrupted_run():
    ds = Squares(23)
    full = DataLoader(ds, batch_size=5, shuffle=True, generator=11)
    reference = [_order([b]) for b in full] + [_order([b]) for b in full]
    run = DataLoader(ds, batch_size=5, shuffle=True, generator=11)
    it = iter(run)
    got = [_order([next(it)]) for _ in range(2)]
    state = run.state_dict()
    assert state["batches_yielded"] == 2 and sorted(state["indices"]) == list(range(23))
    resumed = DataLoader(ds, batch_size=5, shuffle=True, generator=999)   # seed is restored
    resumed.load_state_dict(state)
    got += [_order([b]) for b in resumed]          # rest of the interrupted epoch
    got += [_order([b]) for b in resumed]          # the next epoch draws as before
    assert got == reference


def test_resume_with_global_generator_and_rng_state():
    ds = Squares(17)
    minidl.manual_seed(4)
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    reference = [_order(loader), _order(loader)]
    minidl.manual_seed(4)
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    it = iter(loader)
    head = _order([next(it)])
    state, rng = loader.state_dict(), minidl.get_rng_state()
    assert state["generator_state"] is None
    minidl.manual_seed(1234)                        # a fresh process
    resumed = DataLoader(ds, batch_size=4, shuffle=True)
    resumed.load_state_dict(state)
    minidl.set_rng_state(rng)
    assert head + _order(resumed) == reference[0]
    assert _order(resumed) == reference[1]


def test_state_of_a_finished_epoch_starts_a_new_one():
    loader = DataLoader(Squares(6), batch_size=2, shuffle=True, generator=0)
    first = _order(loader)
    state = loader.state_dict()
    assert state["batches_yielded"] == 3
    loader.load_state_dict(state)
    second = _order(loader)
    assert sorted(second) == list(range(6)) and second != first


def test_load_state_dict_checks_its_input():
    loader = DataLoader(Squares(4), batch_size=2)
    with pytest.raises(ValueError, match="outside the dataset of length 4"):
        loader.load_state_dict({"indices": np.array([0, 9]), "batches_yielded": 0})
    with pytest.raises(ValueError, match="built without a generator"):
        loader.load_state_dict({"indices": np.arange(4), "batches_yielded": 0,
                                "generator_state": {"x": 1}})
    assert loader.state_dict()["indices"].shape == (0,)
