"""DistributedSampler against torch.utils.data.DistributedSampler (PyTorch 2.13): the same
indices without shuffling, the same counts and partition rules with it (the shuffled order
itself is graphnet's generator, not PyTorch's)."""

import pytest
from parity import torch

import graphnet
from graphnet.utils.data import DataLoader, DistributedSampler, TensorDataset

CASES = [(10, 3, False), (10, 3, True), (7, 4, False), (7, 4, True), (12, 4, False),
         (12, 4, True), (2, 5, False), (2, 5, True), (1, 1, False), (5, 2, True)]


def _ours(n, replicas, rank, **kw):
    return DistributedSampler(range(n), num_replicas=replicas, rank=rank, **kw)


def _theirs(n, replicas, rank, **kw):
    return torch.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, **kw)


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_without_shuffle_the_indices_are_pytorchs(n, replicas, drop_last):
    for rank in range(replicas):
        ours = _ours(n, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = _theirs(n, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_shuffled_shares_partition_one_permutation(n, replicas, drop_last):
    shares = [list(_ours(n, replicas, r, seed=5, drop_last=drop_last)) for r in range(replicas)]
    counts = [len(_theirs(n, replicas, r, seed=5, drop_last=drop_last)) for r in range(replicas)]
    assert [len(s) for s in shares] == counts               # every rank the same count
    everything = [i for s in shares for i in s]
    if drop_last:      # distinct indices, only the tail of the permutation dropped
        assert len(set(everything)) == len(everything) == counts[0] * replicas
    else:              # every index, plus the first ones repeated as padding
        assert set(everything) == set(range(n))
        assert len(everything) - n == counts[0] * replicas - n


def test_the_shuffle_depends_on_seed_and_epoch_only():
    def epoch_order(seed, epoch, rank=0):
        sampler = _ours(100, 2, rank, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    graphnet.manual_seed(123)                    # the global generator plays no part
    first = epoch_order(0, 0)
    graphnet.manual_seed(7)
    assert epoch_order(0, 0) == first
    assert epoch_order(0, 1) != first            # set_epoch reshuffles
    assert epoch_order(1, 0) != first
    assert epoch_order(1, 0) == epoch_order(0, 1)   # seed + epoch, as in PyTorch
    sampler = _ours(100, 2, 1, seed=0)
    assert list(sampler) == list(sampler)        # iterating twice gives the same order
    assert sorted(epoch_order(0, 0) + epoch_order(0, 0, rank=1)) == list(range(100))


def test_it_feeds_a_dataloader():
    data = TensorDataset(graphnet.arange(10).float().reshape(10, 1))
    loader = DataLoader(data, batch_size=2, sampler=_ours(10, 3, 2, shuffle=False))
    assert [b[0].flatten().tolist() for b in loader] == [[2.0, 5.0], [8.0, 1.0]]


def test_a_rank_outside_the_group_is_refused_as_in_pytorch():
    for rank in (3, -1):
        with pytest.raises(ValueError) as ours:
            _ours(10, 3, rank)
        with pytest.raises(ValueError) as theirs:
            _theirs(10, 3, rank)
        assert str(ours.value) == str(theirs.value)


def test_without_a_process_group_the_defaults_are_refused_as_in_pytorch():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(10))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(10), num_replicas=2)
    assert len(DistributedSampler(range(10), num_replicas=2, rank=1)) == 5
