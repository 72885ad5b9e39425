"""A compiled function's return value may be an object of the user's own container class: an
HF-style `@dataclass class Output(OrderedDict)`, a defaultdict, a list subclass with its own
constructor, a dict subclass with attributes, a dataclass. Static mode rebuilds each one
(same class, same keys, attributes and items holding this call's tensors) without calling
its constructor, and compiles once. Before, `Output` came back with a generator in its first
field and its other fields lost, a defaultdict raised, a dataclass retraced every call."""

import warnings
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import graphnet
from graphnet import nn


@dataclass
class Output(OrderedDict):
    loss: Any = None
    logits: Any = None

    def __post_init__(self):
        for k in ("loss", "logits"):
            if getattr(self, k) is not None:
                self[k] = getattr(self, k)


@dataclass(frozen=True)
class Frozen:
    y: Any
    n: int = 3


@dataclass
class Config:
    width: int = 4


class Tagged(list):
    def __init__(self, items, tag):
        super().__init__(items)
        self.tag = tag


class Attributed(dict):
    pass


def _compiled_and_eager(make):
    graphnet.manual_seed(0)
    lin = nn.Linear(4, 3)
    fn = make(lin)
    return graphnet.compile(fn), fn


def test_hf_style_output_comes_back_whole_every_call():
    fast, eager = _compiled_and_eager(
        lambda lin: lambda x: Output(loss=lin(x).sum(), logits=lin(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no "traced and compiled again" warning
        for scale in (1.0, 2.0, -3.0):
            x = graphnet.ones(2, 4) * scale
            got, want = fast(x), eager(x)
            assert type(got) is Output and list(got.keys()) == ["loss", "logits"]
            assert got.loss is got["loss"] and got.logits is got["logits"]
            np.testing.assert_allclose(got.logits.detach().numpy(), want.logits.detach().numpy(), rtol=1e-6)
            assert got.loss.item() == pytest.approx(want.loss.item(), rel=1e-6)
    assert len(fast.compiled.artifacts) == 1


def test_loss_in_an_output_object_differentiates():
    graphnet.manual_seed(0)
    lin = nn.Linear(4, 3)
    fast = graphnet.compile(lambda x: Output(loss=(lin(x) ** 2).sum(), logits=lin(x)))
    fast(graphnet.ones(2, 4)).loss.backward()
    static_grad = lin.weight.grad.numpy().copy()
    lin.weight.grad = None
    (lin(graphnet.ones(2, 4)) ** 2).sum().backward()
    np.testing.assert_allclose(static_grad, lin.weight.grad.numpy(), rtol=1e-6)


def test_user_containers_keep_their_class_items_and_attributes():
    def make(lin):
        def f(x):
            d = Attributed(a=lin(x))
            d.extra = x * 3
            counts = defaultdict(list)
            counts["y"].append(x * 2)
            return d, counts, Tagged([x + 1], "t"), Frozen(y=x - 1), Config()
        return f
    fast, eager = _compiled_and_eager(make)
    x = graphnet.ones(2, 4) * 2
    (d, counts, tagged, frozen, config), want = fast(x), eager(x)
    assert type(d) is Attributed and d.extra.detach().tolist() == [[6.0] * 4] * 2
    np.testing.assert_allclose(d["a"].detach().numpy(), want[0]["a"].detach().numpy(), rtol=1e-6)
    assert type(counts) is defaultdict and counts["y"][0].detach().tolist() == [[4.0] * 4] * 2
    assert counts.default_factory is list and counts["new"] == []
    assert type(tagged) is Tagged and tagged.tag == "t" and tagged[0].detach().tolist() == [[3.0] * 4] * 2
    assert type(frozen) is Frozen and frozen.n == 3 and frozen.y.detach().tolist() == [[1.0] * 4] * 2
    assert config == Config()
    d2 = fast(graphnet.ones(2, 4))[0]
    assert d2 is not d and d2.extra.detach().tolist() == [[3.0] * 4] * 2
    assert len(fast.compiled.artifacts) == 1


def test_a_returned_object_without_tensors_is_the_object_itself():
    config = Config(7)
    fast = graphnet.compile(lambda x: (x * 2, config))
    assert fast(graphnet.ones(2))[1] is config
