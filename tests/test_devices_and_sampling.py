"""`tensor.device` is a device object, `.to(device)` / `.cuda()` / factories' `device=`
place arrays with JAX (a clear error where JAX has no GPU), and the sampling functions
(`bernoulli`, `multinomial`, `poisson`, `Tensor.random_` ...) draw from the right
distributions with PyTorch's `generator=`, eagerly and compiled."""

import pickle

import jax
import numpy as np
import pytest
from parity import torch

import graphnet
from graphnet.utils.data import (
    ChainDataset, DataLoader, IterableDataset, StackDataset, WeightedRandomSampler,
    get_worker_info,
)

HAS_GPU = any(d.platform == "gpu" for d in jax.devices())


def test_device_object_reads_like_pytorchs():
    x = graphnet.ones(2)
    for ours, theirs in [(x.device, torch.ones(2).device),
                         (graphnet.device("cuda:1"), torch.device("cuda:1")),
                         (graphnet.device("cuda", 0), torch.device("cuda", 0))]:
        assert (str(ours), repr(ours), ours.type, ours.index) == \
            (str(theirs), repr(theirs).replace("torch.", ""), theirs.type, theirs.index)
    assert x.device == graphnet.device("cpu") and x.device != "cpu"   # PyTorch: never a str
    assert (x.is_cuda, x.is_cpu, x.get_device()) == (False, True, -1)
    assert pickle.loads(pickle.dumps(graphnet.device("cuda:1"))) == graphnet.device("cuda", 1)
    with pytest.raises(RuntimeError, match="Expected one of"):
        graphnet.device("gpu")


def test_to_and_factories_accept_devices_and_dtypes_together():
    x = graphnet.randn(2, 3, requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(graphnet.device("cpu")) is x
    y = x.to("cpu", graphnet.float64)
    assert y.dtype == graphnet.float64 and y.requires_grad
    assert x.to(graphnet.zeros(1, dtype=graphnet.float16)).dtype == graphnet.float16
    assert x.to("cpu", copy=True) is not x
    z = graphnet.zeros(3, device="cpu", dtype=graphnet.int32)
    assert z.dtype == graphnet.int32 and z.device.type == "cpu"
    for make in (lambda: graphnet.ones(2, device="cpu"), lambda: graphnet.arange(3, device="cpu"),
                 lambda: graphnet.randn(2, device=graphnet.device("cpu")),
                 lambda: graphnet.tensor([1.0], device="cpu"),
                 lambda: graphnet.zeros_like(x, device="cpu")):
        assert make().device == graphnet.device("cpu")


@pytest.mark.skipif(HAS_GPU, reason="checks the refusal on a machine without a GPU")
def test_asking_for_a_gpu_without_one_says_so():
    for ask in (lambda: graphnet.ones(2).cuda(), lambda: graphnet.ones(2).to("cuda"),
                lambda: graphnet.zeros(2, device="cuda:0"),
                lambda: graphnet.nn.Linear(2, 2).cuda(),
                lambda: graphnet.nn.Linear(2, 2).to(graphnet.device("cuda"))):
        with pytest.raises(RuntimeError, match="Found no CUDA device.*use device='cpu'"):
            ask()


@pytest.mark.skipif(not HAS_GPU, reason="needs a JAX GPU")
def test_cuda_moves_arrays_and_gradients_come_back():   # pragma: no cover (GPU machines)
    x = graphnet.randn(3, requires_grad=True)
    y = x.cuda()
    assert y.device == graphnet.device("cuda", 0) and y.is_cuda
    (y * 2).sum().backward()
    assert np.allclose(x.grad.numpy(), 2.0)
    m = graphnet.nn.Linear(3, 2).cuda()
    assert m.weight.device.type == "cuda" and m(y).device.type == "cuda"


def test_module_to_casts_and_keeps_parameter_objects():
    m = graphnet.nn.Linear(3, 2)
    w = m.weight
    assert m.to("cpu") is m and m.weight is w
    assert m.to(graphnet.device("cpu"), dtype=graphnet.float64).weight.dtype == graphnet.float64
    assert m.half().bias.dtype == graphnet.float16 and m.weight is w


def test_compiled_code_can_place_on_the_inputs_device():
    f = graphnet.compile(lambda t: graphnet.zeros(3, device=t.device) + t.to(t.device).sum())
    assert np.allclose(f(graphnet.ones(3)).numpy(), 3.0)


def test_factories_take_pytorchs_signatures():
    assert graphnet.randint(5, (3,)).shape == (3,) and graphnet.randint(2, 5, (3,)).max() < 5
    r = graphnet.randint_like(graphnet.zeros(2, 3), 10)
    assert r.dtype == graphnet.float32 and r.shape == (2, 3)
    assert graphnet.logspace(0, 2, 3).tolist() == torch.logspace(0, 2, 3).tolist()
    assert graphnet.range(1, 4).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert graphnet.scalar_tensor(3).dtype == graphnet.float32
    noisy = graphnet.normal(graphnet.zeros(3, requires_grad=True), graphnet.ones(3))
    assert noisy.shape == (3,) and noisy.requires_grad   # as PyTorch's: a zero gradient


def test_sampling_distributions():
    graphnet.manual_seed(0)
    p = graphnet.full((40000,), 0.3)
    assert abs(float(graphnet.bernoulli(p).mean()) - 0.3) < 0.01
    assert abs(float(graphnet.poisson(graphnet.full((40000,), 3.0)).mean()) - 3.0) < 0.05
    assert abs(float(graphnet.empty(40000).exponential_(2.0).mean()) - 0.5) < 0.02
    assert abs(float(graphnet.empty(40000).geometric_(0.25).mean()) - 4.0) < 0.1
    assert abs(float(graphnet.empty(40000).log_normal_(0.0, 0.5).log().std()) - 0.5) < 0.02
    assert sorted(set(graphnet.empty(2000).random_(2, 5).tolist())) == [2.0, 3.0, 4.0]
    assert graphnet.empty(100).bernoulli_(0.0).sum() == 0
    draws = graphnet.multinomial(graphnet.tensor([1.0, 0.0, 3.0]), 20000, replacement=True)
    counts = np.bincount(draws.numpy(), minlength=3) / 20000
    assert counts[1] == 0 and abs(counts[2] - 0.75) < 0.02
    rows = graphnet.multinomial(graphnet.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]), 2)
    assert rows.dtype == graphnet.int64 and set(rows[1].tolist()) == {1, 3}
    assert len(set(rows[0].tolist())) == 2   # without replacement: distinct categories
    with pytest.raises(RuntimeError, match="without replacement"):
        graphnet.multinomial(graphnet.ones(3), 4)


def test_generators_replay_and_sampling_compiles():
    gen = graphnet.Generator(device="cpu").manual_seed(3)
    a = graphnet.bernoulli(graphnet.full((50,), 0.5), generator=gen)
    gen.manual_seed(3)
    assert (a == graphnet.bernoulli(graphnet.full((50,), 0.5), generator=gen)).all()
    step = graphnet.compile(lambda x: graphnet.bernoulli(x))
    first, second = step(graphnet.full((200,), 0.5)), step(graphnet.full((200,), 0.5))
    assert set(first.unique().tolist()) == {0.0, 1.0} and not (first == second).all()


class _Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return (graphnet.tensor([float(i)]) for i in range(self.n))

    def __len__(self):
        return self.n


def test_iterable_datasets_and_friends_load_like_pytorch():
    loader = DataLoader(_Count(5) + _Count(2), batch_size=3)
    assert [b.reshape(-1).tolist() for b in loader] == [[0, 1, 2], [3, 4, 0], [1]]
    assert len(loader) == 3 and isinstance(_Count(1) + _Count(1), ChainDataset)
    assert [b.tolist() for b in DataLoader(_Count(3), batch_size=2, drop_last=True)] == [[[0.0],
                                                                                            [1.0]]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(_Count(3), shuffle=True)
    assert StackDataset([1, 2], [3, 4])[1] == (2, 4)
    assert StackDataset(x=[1], y=[2])[0] == {"x": 1, "y": 2}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset([1], [1, 2])
    assert get_worker_info() is None
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], 50)
    picks = list(sampler)
    assert len(sampler) == 50 and 0 not in picks and set(picks) == {1, 2}
