"""Values a compiled function reads through classes, imported config modules, containers,
deep attribute chains, properties and NumPy arrays: changed between calls, the next call
traces again and computes with the new value, as the Python code would
(compiler/object_reads.py, compiler/guards.py)."""

import importlib
import sys

import graphnet as gt
import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore")


class Scales:
    s = 1.0


class Scaled(gt.nn.Module):
    factor = 1.0

    def forward(self, x):
        return x * self.factor


class Holder:
    def __init__(self):
        self.s = 1.0


class WithProperty:
    def __init__(self):
        self._s = 1.0

    @property
    def s(self):
        return self._s


class Node:
    pass


class TensorHolder:
    t = gt.tensor(1.0)


def _cases(config):
    chain = Node()
    chain.b = Node()
    chain.b.c = Node()
    chain.b.c.s = 1.0
    in_list, in_dict, prop = [Holder()], {"o": Holder()}, WithProperty()
    array, net = np.ones(1, np.float32), Scaled()
    big = np.ones(1 << 17, np.float32)   # over guards._ARRAY_BY_VALUE: kept as a copy
    return {
        "class attribute": (lambda x: x * Scales.s, lambda: setattr(Scales, "s", 2.0)),
        "module class attribute": (lambda x: net(x), lambda: setattr(Scaled, "factor", 2.0)),
        "config module": (lambda x: x * config.S, lambda: setattr(config, "S", 2.0)),
        "object in a list": (lambda x: x * in_list[0].s, lambda: setattr(in_list[0], "s", 2.0)),
        "object in a dict": (lambda x: x * in_dict["o"].s,
                             lambda: setattr(in_dict["o"], "s", 2.0)),
        "attribute chain": (lambda x: x * chain.b.c.s, lambda: setattr(chain.b.c, "s", 2.0)),
        "property": (lambda x: x * prop.s, lambda: setattr(prop, "_s", 2.0)),
        "numpy array changed in place": (lambda x: x * gt.tensor(array),
                                         lambda: array.__setitem__(0, 2.0)),
        "big numpy array changed in place": (lambda x: x * gt.tensor(big[:1]),
                                             lambda: big.__setitem__(0, 2.0)),
        "tensor class attribute": (lambda x: x * TensorHolder.t,
                                   lambda: setattr(TensorHolder, "t", gt.tensor(2.0))),
    }


@pytest.fixture
def config(tmp_path, monkeypatch):
    (tmp_path / "gn_test_config.py").write_text("S = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("gn_test_config")
    yield module
    sys.modules.pop("gn_test_config", None)


@pytest.mark.parametrize("name", list(_cases(None)))
def test_a_value_changed_between_calls_reaches_the_next_call(name, config, monkeypatch):
    monkeypatch.setattr(Scales, "s", 1.0)
    monkeypatch.setattr(Scaled, "factor", 1.0)
    monkeypatch.setattr(TensorHolder, "t", gt.tensor(1.0))
    fn, change = _cases(config)[name]
    f = gt.compile(fn)
    assert f(gt.ones(1)).item() == 1.0
    assert f(gt.ones(1)).item() == 1.0
    change()
    assert f(gt.ones(1)).item() == 2.0
    assert len(f.explain()["recompile_reasons"]) == 2
