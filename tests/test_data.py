"""graphnet.utils.data against torch.utils.data: same batches, same collation, and shuffles
that are repeatable under graphnet.manual_seed / graphnet.Generator."""

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import graphnet
from graphnet.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, SequentialSampler, Subset,
    SubsetRandomSampler, TensorDataset, default_collate, random_split,
)

torch = pytest.importorskip("torch")
tud = torch.utils.data


def plain(obj):
    """Tensors of either library -> (dtype name, numpy); containers kept, types compared."""
    if isinstance(obj, (graphnet.Tensor, torch.Tensor)):
        array = np.asarray(obj.detach()) if isinstance(obj, torch.Tensor) else \
            np.asarray(obj.detach()._value)
        return ("tensor", str(obj.dtype).split(".")[-1], array.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: plain(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [plain(v) for v in obj])
    return obj


def arrays(n=10):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)).astype(np.float32), rng.integers(0, 5, n)


def both_datasets(n=10):
    x, y = arrays(n)
    return (TensorDataset(graphnet.from_numpy(x), graphnet.from_numpy(y)),
            tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))


def test_tensor_dataset_items_and_len():
    gds, tds = both_datasets()
    assert len(gds) == len(tds) == 10
    for i in (0, 3, 9, -1):
        assert plain(gds[i]) == plain(tds[i])
    assert plain(gds[2:5]) == plain(tds[2:5])


def test_tensor_dataset_rejects_mismatched_sizes():
    import torch

    # torch's AssertionError, so code catching it (or its message) behaves the same
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        torch.utils.data.TensorDataset(torch.zeros(10), torch.zeros(9))
    with pytest.raises(AssertionError, match=r"Size mismatch between tensors.*\[10\], \[9\]"):
        TensorDataset(graphnet.zeros(10), graphnet.zeros(9))
    with pytest.raises(IndexError, match="no dimensions"):
        TensorDataset(graphnet.zeros(3), graphnet.tensor(1.0))
    assert TensorDataset().tensors == ()       # torch builds it too; len() then fails


def test_tensor_dataset_index_out_of_range():
    gds, _ = both_datasets()
    with pytest.raises(IndexError, match="out of bounds"):
        gds[10]


@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (5, False), (1, False)])
def test_sequential_batches_equal_torch(batch_size, drop_last):
    gds, tds = both_datasets()
    g = list(DataLoader(gds, batch_size=batch_size, drop_last=drop_last))
    t = list(tud.DataLoader(tds, batch_size=batch_size, drop_last=drop_last))
    assert len(DataLoader(gds, batch_size=batch_size, drop_last=drop_last)) == len(t) == len(g)
    assert plain(g) == plain(t)


def test_fast_tensor_path_equals_collating_samples():
    gds, _ = both_datasets()
    loader = DataLoader(gds, batch_size=4)
    slow = [default_collate([gds[i] for i in idx]) for idx in loader.batch_sampler]
    assert plain(list(loader)) == plain(slow)
    # the same through a Subset chain (random_split output)
    sub = Subset(Subset(gds, [9, 8, 7, 6, 5]), [4, 0, 2])
    assert plain(list(DataLoader(sub, batch_size=2))) == \
        plain([default_collate([sub[0], sub[1]]), default_collate([sub[2]])])


Point = namedtuple("Point", "x y")

COLLATE_CASES = {
    "tuples of numbers and strings": [(1, 2.0, "a"), (3, 4.0, "b")],
    "lists": [[1, 2], [3, 4]],
    "dicts of numpy": [{"a": np.array([1.0, 2.0]), "b": np.float32(3)},
                       {"a": np.array([5.0, 6.0]), "b": np.float32(4)}],
    "numpy int scalars": [np.int64(3), np.int64(4)],
    "bools": [True, False],
    "namedtuple": [Point(1, 2.5), Point(3, 4.5)],
    "nested": [{"ids": [1, 2], "w": (0.5, np.ones(2, np.float32))},
               {"ids": [3, 4], "w": (1.5, np.zeros(2, np.float32))}],
    "ordered dict": [OrderedDict(b=1, a=2), OrderedDict(b=3, a=4)],
}


@pytest.mark.parametrize("name", list(COLLATE_CASES))
def test_default_collate_equals_torch(name):
    batch = COLLATE_CASES[name]
    g, t = default_collate(batch), tud.default_collate(batch)
    if name == "namedtuple":
        assert type(g) is Point and type(t) is Point
    assert plain(g) == plain(t)


def test_default_collate_of_tensors_stacks():
    g = default_collate([(graphnet.ones(2), graphnet.tensor(0)), (graphnet.zeros(2),
                                                                  graphnet.tensor(1))])
    assert plain(g) == plain([torch.tensor([[1.0, 1.0], [0.0, 0.0]]), torch.tensor([0, 1])])


def test_default_collate_errors_name_the_problem():
    with pytest.raises(RuntimeError, match=r"sample 0 has shape \[2\] but sample 1 has shape"):
        default_collate([graphnet.ones(2), graphnet.ones(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


class MyDataset(Dataset):
    """The seed 003 example: a list wrapped as a Dataset yielding dicts."""

    def __init__(self, my_list):
        super().__init__()
        self.my_list = my_list

    def __getitem__(self, idx):
        return {"input_ids": self.my_list[idx]}

    def __len__(self):
        return len(self.my_list)


def test_custom_dataset_of_dicts():
    data = [np.arange(i, i + 3) for i in range(5)]
    g = list(DataLoader(MyDataset(data), batch_size=2))
    t = list(tud.DataLoader([{"input_ids": d} for d in data], batch_size=2))
    assert plain(g) == plain(t)


def test_num_workers_is_accepted_and_loads_in_process():
    gds, tds = both_datasets()
    g = list(DataLoader(gds, batch_size=4, num_workers=2))
    assert plain(g) == plain(list(tud.DataLoader(tds, batch_size=4)))


def test_batch_size_none_converts_samples():
    data = [np.float32(1.5), np.array([1, 2])]
    g = list(DataLoader(data, batch_size=None))
    t = list(tud.DataLoader(data, batch_size=None))
    assert plain(g) == plain(t)


def epoch_orders(loader, epochs=2):
    return [[int(v) for _, y in loader for v in y.tolist()] for _ in range(epochs)]


def test_shuffle_is_repeatable_under_manual_seed():
    n = 20
    ds = TensorDataset(graphnet.zeros(n, 1), graphnet.arange(n))
    loader = DataLoader(ds, batch_size=6, shuffle=True)
    graphnet.manual_seed(3)
    first = epoch_orders(loader)
    graphnet.manual_seed(3)
    assert epoch_orders(loader) == first
    for order in first:
        assert sorted(order) == list(range(n))
    assert first[0] != first[1], "each epoch draws a new order"
    assert first[0] != list(range(n))


def test_shuffle_with_generator_ignores_global_seed():
    n = 16
    ds = TensorDataset(graphnet.arange(n), graphnet.arange(n))

    def orders(seed, global_seed):
        graphnet.manual_seed(global_seed)
        gen = graphnet.Generator().manual_seed(seed)
        return epoch_orders(DataLoader(ds, batch_size=5, shuffle=True, generator=gen))

    assert orders(7, 0) == orders(7, 1)
    assert orders(7, 0) != orders(8, 0)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    gen = graphnet.Generator().manual_seed(0)
    drawn = list(RandomSampler(range(5), num_samples=12, generator=gen))
    assert len(drawn) == 12 and sorted(drawn[:5]) == list(range(5))
    with_replacement = list(RandomSampler(range(3), replacement=True, num_samples=50,
                                          generator=gen))
    assert set(with_replacement) == {0, 1, 2}
    assert sorted(SubsetRandomSampler([10, 20, 30], generator=gen)) == [10, 20, 30]
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(5), 0, False)


def test_dataloader_option_errors_match_torch():
    gds, _ = both_datasets()
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(gds, shuffle=True, sampler=[1, 2])
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(gds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(gds, batch_size=0)


def test_batch_sampler_and_custom_collate():
    gds, tds = both_datasets()
    batches = [[3, 1], [0, 2, 4]]
    assert plain(list(DataLoader(gds, batch_sampler=batches))) == \
        plain(list(tud.DataLoader(tds, batch_sampler=batches)))
    loader = DataLoader(list(range(6)), batch_size=4, collate_fn=lambda b: sum(b))
    assert list(loader) == [6, 9]


def test_random_split_lengths_and_repeatability():
    ds = list(range(11))
    parts = random_split(ds, [0.5, 0.5], generator=graphnet.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [len(p) for p in tud.random_split(ds, [0.5, 0.5])]
    assert sorted(list(parts[0]) + list(parts[1])) == ds
    again = random_split(ds, [0.5, 0.5], generator=graphnet.Generator().manual_seed(1))
    assert [list(p) for p in again] == [list(p) for p in parts]
    graphnet.manual_seed(5)
    a = [list(p) for p in random_split(ds, [3, 8])]
    graphnet.manual_seed(5)
    assert [list(p) for p in random_split(ds, [3, 8])] == a
    with pytest.raises(ValueError, match="sum to 6, but the dataset has 11 samples"):
        random_split(ds, [3, 3])


def test_subset_and_concat():
    gds, _ = both_datasets()
    sub = Subset(gds, [4, 2])
    assert len(sub) == 2 and plain(sub[1]) == plain(gds[2])
    both = ConcatDataset([list(range(3)), list(range(10, 12))])
    assert len(both) == 5 and [both[i] for i in range(5)] == [0, 1, 2, 10, 11]
    assert both[-1] == 11
    assert isinstance(MyDataset([1]) + MyDataset([2]), ConcatDataset)


def test_loader_feeds_a_compiled_training_step():
    """Batches from the loader drive a static-mode step exactly like the dynamic one."""
    x, y = arrays(12)
    results = []
    for compiled in (False, True):
        graphnet.manual_seed(0)
        model = graphnet.nn.Linear(3, 5)
        opt = graphnet.optim.SGD(model.parameters(), lr=0.1)

        def step(xb, yb):
            opt.zero_grad()
            loss = graphnet.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            return loss

        run = graphnet.compile(step) if compiled else step
        gen = graphnet.Generator().manual_seed(2)
        loader = DataLoader(TensorDataset(graphnet.from_numpy(x), graphnet.from_numpy(y)),
                            batch_size=4, shuffle=True, generator=gen)
        results.append([run(xb, yb).item() for xb, yb in loader])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)


@pytest.mark.parametrize("fractions", [[-0.5, 1.5], [1.2, -0.2], [0.5, 0.7, -0.2]])
def test_random_split_refuses_fractions_outside_zero_one_as_torch_does(fractions):
    with pytest.raises(ValueError) as want:
        torch.utils.data.random_split(range(10), fractions)
    with pytest.raises(ValueError, match=str(want.value)):
        graphnet.utils.data.random_split(range(10), fractions)
