"""DistributedSampler: disjoint shares of equal length, as PyTorch's (issue 20)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidl.distributed import DistributedSampler

torch = pytest.importorskip("torch")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), replicas=st.integers(1, 6), drop_last=st.booleans())
def test_unshuffled_shares_equal_pytorchs(n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert len(ours) == len(theirs)
        assert list(ours) == list(theirs)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), replicas=st.integers(1, 5), epoch=st.integers(0, 3))
def test_shuffled_shares_cover_the_epoch_disjointly(n, replicas, epoch):
    shares = []
    for rank in range(replicas):
        s = DistributedSampler(range(n), replicas, rank, shuffle=True, seed=3)
        s.set_epoch(epoch)
        shares.append(list(s))
    assert len({len(x) for x in shares}) == 1                  # the same number of batches
    flat = [i for share in shares for i in share]
    assert set(flat) == set(range(n))                          # every sample, padded
    if n % replicas == 0:
        assert sorted(flat) == list(range(n))                  # disjoint when it divides


def test_epochs_reshuffle_and_ranks_agree_on_the_order():
    a = DistributedSampler(range(20), 2, 0, seed=1)
    b = DistributedSampler(range(20), 2, 1, seed=1)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    b.set_epoch(1)
    assert not set(a) & set(b)


def test_bad_rank_is_refused():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
