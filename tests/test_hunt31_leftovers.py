"""Defects left open by the thirtieth session's hunt, fixed in the thirty-first: each test
compares graphnet with torch 2.13 (the reference) on the case that went wrong."""

import pytest
import torch

import graphnet as gn


class _DictConfig:
    """A config backed by a dict whose `__getattr__` raises KeyError (not AttributeError)."""

    def __init__(self, **values):
        self.d = dict(values)

    def __getattr__(self, name):
        try:
            return self.__dict__["d"][name]
        except KeyError:
            raise KeyError(name) from None


def test_compile_reads_a_config_whose_getattr_raises_keyerror():
    cfg = _DictConfig(scale=2.0)

    class Scaled(gn.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.cfg = c

        def forward(self, x):
            return x * self.cfg.scale

    module, fn = Scaled(cfg), gn.compile(lambda x: x * cfg.scale)
    static = gn.compile(module)
    x = gn.ones(2)
    assert fn(x).tolist() == [2.0, 2.0] and static(x).tolist() == [2.0, 2.0]
    cfg.d["scale"] = 3.0    # followed, as eagerly
    assert fn(x).tolist() == [3.0, 3.0] and static(x).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("call", [
    lambda lib, x, d: x.sum(d), lambda lib, x, d: x.softmax(d), lambda lib, x, d: x.cumsum(d),
    lambda lib, x, d: x.narrow(d, 1, 1), lambda lib, x, d: lib.cat([x, x], d),
    lambda lib, x, d: x.argmax(d), lambda lib, x, d: x.transpose(d, 2),
    lambda lib, x, d: x.select(d, 0), lambda lib, x, d: x.roll(1, d)])
def test_a_0d_integer_tensor_is_a_dim(call):
    expected = call(torch, torch.arange(24.).reshape(2, 3, 4), torch.tensor(1))
    got = call(gn, gn.arange(24.).reshape(2, 3, 4), gn.tensor(1))
    assert got.shape == tuple(expected.shape)
    assert got.numpy() == pytest.approx(expected.numpy(), rel=1e-6)


def test_sequences_with_a_0d_tensor_repeat_and_add_raises():
    t, expected = gn.tensor(2), torch.tensor(2)
    assert (slice(None),) * t == (slice(None),) * expected
    assert t * [1, 2] == [1, 2, 1, 2] and [1] * t == [1, 1]
    with pytest.raises(TypeError):
        t + (1,)


@pytest.mark.parametrize("expr", [
    "lib.linspace(0, 300, 5, dtype=lib.uint8)", "lib.linspace(-256, 3, 3, dtype=lib.uint8)",
    "lib.logspace(0, 300, 3, dtype=lib.uint8)", "lib.linspace(0, 1e40, 3, dtype=lib.float32)",
    "lib.linspace(0.5, float('nan'), 3, dtype=lib.int32)"])
def test_range_ends_past_the_dtype_raise(expr):
    with pytest.raises(RuntimeError, match="without overflow"):
        eval(expr, {"lib": torch})
    with pytest.raises(RuntimeError, match="without overflow"):
        eval(expr, {"lib": gn})


@pytest.mark.parametrize("expr", [
    "lib.linspace(-1, 3, 5, dtype=lib.uint8)", "lib.linspace(-255, 3, 3, dtype=lib.uint8)",
    "lib.linspace(-3.7, 3.9, 6, dtype=lib.int8)", "lib.linspace(0, float('inf'), 3)"])
def test_integer_linspace_wraps_its_ends_as_torch(expr):
    expected = eval(expr, {"lib": torch}).tolist()
    got = eval(expr, {"lib": gn}).tolist()
    assert str(got) == str(expected)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_reduce_takes_max_and_min_as_torch(reduce):
    index = [0, 0, 1]
    for include_self in (True, False):
        expected = torch.zeros(3).scatter_reduce(0, torch.tensor(index), torch.tensor(
            [1., -2, 3]), reduce, include_self=include_self)
        got = gn.zeros(3).scatter_reduce(0, gn.tensor(index), gn.tensor([1., -2, 3]), reduce,
                                         include_self=include_self)
        assert got.tolist() == expected.tolist()
    x = gn.zeros(3, requires_grad=True)    # PyTorch's backward refuses these names
    with pytest.raises(RuntimeError, match="Expected 'reduce'"):
        x.scatter_reduce(0, gn.tensor(index), gn.tensor([1., -2, 3]), reduce)


def test_module_share_memory():
    for lib in (torch, gn):
        m = lib.nn.BatchNorm1d(2)
        assert m.share_memory() is m
        assert m.weight.is_shared() and m.running_mean.is_shared()
