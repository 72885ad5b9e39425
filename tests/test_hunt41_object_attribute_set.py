"""An object of the user's own class gains, after compiling, an attribute the code may
read: an optional config field read with `getattr(cfg, name, default)`/`hasattr`, or a
method replaced on the instance. The guards covered only attributes held when traced, so
the program kept the traced default or the class's method, silently."""
import types

import pytest

import graphnet as G


class Config:
    def __init__(self):
        self.base = 3.0


class Augment:
    def scale(self, t):
        return t * 2


@pytest.mark.parametrize("read", [
    lambda cfg, x: x * getattr(cfg, "temperature", 1.0) + cfg.base,
    lambda cfg, x: x * (cfg.temperature if hasattr(cfg, "temperature") else 1.0) + cfg.base,
])
def test_a_new_optional_field_is_seen(read):
    cfg = Config()
    fn = G.compile(lambda x: read(cfg, x))
    x = G.ones(2)
    assert fn(x).tolist() == [4.0, 4.0]
    cfg.temperature = 5.0
    assert fn(x).tolist() == [8.0, 8.0]
    del cfg.temperature
    assert fn(x).tolist() == [4.0, 4.0]


def test_a_method_replaced_on_the_instance_is_seen():
    aug = Augment()
    fn = G.compile(lambda x: aug.scale(x))
    assert fn(G.ones(3)).tolist() == [2.0] * 3
    aug.scale = lambda t: t * 9
    assert fn(G.ones(3)).tolist() == [9.0] * 3
    aug.scale = types.MethodType(lambda self, t: t - 1, aug)
    assert fn(G.ones(3)).tolist() == [0.0] * 3


def test_an_unchanged_object_compiles_once():
    cfg = Config()
    fn = G.compile(lambda x: x * getattr(cfg, "temperature", 1.0) + cfg.base)
    for _ in range(3):
        fn(G.ones(2))
    assert len(fn.compiled.artifacts) == 1
