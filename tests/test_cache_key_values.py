"""What a compiled call's cache key tells apart (runtime/cache_key.py `key_part`, and the
tensor part in runtime/compiled.py). Objects equal by their own `__eq__` can still trace
other programs: a frozen dataclass holding -0.0 instead of 0.0, or 3.0 instead of 3, and a
tensor argument with history instead of a leaf. Each reused the first program, silently."""

import dataclasses

import numpy as np
from parity import torch

import graphnet


@dataclasses.dataclass(frozen=True)
class Cfg:
    eps: float
    scale: float


class ByValue:
    """A user class comparing and hashing by its value."""

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return isinstance(other, ByValue) and other.v == self.v

    def __hash__(self):
        return hash(self.v)


def _step(lib, a, cfg):
    return a.new_ones(2) / cfg.eps, a.long() * cfg.scale


def test_a_frozen_dataclass_is_keyed_by_its_fields_bits_and_types():
    compiled = graphnet.compile(lambda a, c: _step(graphnet, a, c))
    for cfg in (Cfg(0.0, 3), Cfg(-0.0, 3.0), Cfg(0.0, 3)):
        got = compiled(graphnet.tensor([1, 2]), cfg)
        want = _step(torch, torch.tensor([1, 2]), cfg)
        for g, w in zip(got, want):
            assert g.dtype.name == str(w.dtype).split(".")[1]
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    # a fresh but equal config hits the program traced for its twin
    assert compiled.explain()["recompile_reasons"] == [
        "first call", "input 1 changed: Cfg(eps=0.0, scale=3) -> Cfg(eps=-0.0, scale=3.0)"]


def test_a_class_with_its_own_equality_is_keyed_by_identity():
    compiled = graphnet.compile(lambda a, c: a * c.v)
    assert compiled(graphnet.tensor([1, 2]), ByValue(2)).dtype == graphnet.int64
    assert compiled(graphnet.tensor([1, 2]), ByValue(2.0)).dtype == graphnet.float32


def test_a_branch_on_whether_an_argument_is_a_leaf():
    def scaled(a):
        return a.detach() * (2 if a.grad_fn is None else 3) + (10 if a.is_leaf else 20)
    compiled = graphnet.compile(scaled)
    x = np.ones((2, 2), np.float32)
    leaf = graphnet.tensor(x, requires_grad=True)
    assert compiled(leaf).numpy().tolist() == [[12.0] * 2] * 2
    assert compiled(leaf * 1).numpy().tolist() == [[23.0] * 2] * 2
    assert compiled(leaf).numpy().tolist() == [[12.0] * 2] * 2
    assert compiled.explain()["recompile_reasons"] == [
        "first call", "input 0 is no leaf now (grad_fn set)"]
