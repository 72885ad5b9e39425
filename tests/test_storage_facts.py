"""What a tensor says about its memory (graphnet/_storage_facts.py) and nn.Buffer, against
torch 2.13: code that asks these stopped at an AttributeError before."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("lib", [torch, G])
def test_sizes_kinds_and_layout(lib):
    x = lib.randn(2, 3)
    assert (x.itemsize, x.nbytes, x[1:].nbytes, x.double().nbytes) == (4, 24, 12, 48)
    assert not (x.is_sparse or x.is_quantized or x.is_nested or x.is_mkldnn or x.is_pinned())
    assert x.layout is lib.strided and repr(x.layout) == f"{lib.__name__}.strided"
    assert lib.zeros(2, layout=lib.strided).tolist() == [0.0, 0.0]
    assert not x.is_shared() and x.share_memory_() is x and x.is_shared()


@pytest.mark.parametrize("lib", [torch, G])
def test_data_ptr_follows_storage(lib):
    x = lib.randn(2, 3)
    assert x.data_ptr() - x[1].data_ptr() == -12
    assert x[:, 2].data_ptr() - x.data_ptr() == 8
    same = [x.view(6), x.detach(), x.t(), x.data, x[0]]
    assert all(t.data_ptr() == x.data_ptr() for t in same)
    x.add_(1)
    assert x.view(6).data_ptr() == same[0].data_ptr()
    assert x.clone().data_ptr() != x.data_ptr()
    lin = lib.nn.Linear(3, 3)
    tied = lib.nn.Linear(3, 3)
    tied.weight = lin.weight
    assert tied.weight.data_ptr() == lin.weight.data_ptr() != lin.bias.data_ptr()


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (3,), ()])
def test_conjugate_transposes(shape):
    a = np.asarray(np.random.RandomState(0).randn(*shape), np.float32)
    for attr in ("H", "mH", "mT"):
        try:
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always")
                want = getattr(torch.tensor(a), attr)
            with pytest.warns(UserWarning) if warned else warnings.catch_warnings():
                got = getattr(G.tensor(a), attr)
        except RuntimeError as err:
            with pytest.raises(RuntimeError) as got:
                getattr(G.tensor(a), attr)
            assert str(got.value) == str(err)
            continue
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_pin_memory_without_an_accelerator_raises_as_torch():
    with pytest.raises(RuntimeError, match="Cannot access accelerator"):
        torch.ones(2).pin_memory()
    with pytest.raises(RuntimeError, match="Cannot access accelerator"):
        G.ones(2).pin_memory()


def _module(lib):
    class Stats(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Buffer(lib.full((2,), 3.0), persistent=False)
            self.shift = lib.nn.Buffer(lib.ones(2))
            self.lin = lib.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x * self.scale + self.shift)
    lib.manual_seed(0)
    return Stats()


def test_buffer_assignment_registers_as_torch():
    want, got = _module(torch), _module(G)
    assert list(got.state_dict()) == list(want.state_dict()) == ["shift", "lin.weight",
                                                                 "lin.bias"]
    assert [n for n, _ in got.named_buffers()] == ["scale", "shift"]
    assert isinstance(got.scale, G.nn.Buffer) and not isinstance(G.ones(1), G.nn.Buffer)
    assert G.nn.Buffer(G.ones(2, requires_grad=True)).requires_grad
    got.extra = G.nn.Buffer(G.zeros(1))
    assert "extra" in dict(got.named_buffers()) and "extra" in got.state_dict()
    got.load_state_dict({k: G.tensor(v.numpy()) for k, v in want.state_dict().items()},
                        strict=False)
    x = np.ones((1, 2), np.float32)
    eager = got(G.tensor(x)).detach().numpy()
    compiled = G.compile(got)(G.tensor(x)).detach().numpy()
    np.testing.assert_allclose(eager, want(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)
    assert isinstance(got.to(G.float64).shift, G.Tensor) and got.shift.dtype == G.float64
