"""Python and NumPy random generators a compiled step draws from give new numbers on every
call, as eagerly: one held in a dict, in a module's list or two attributes down
(`AUG["rng"]`, `self.rngs[0]`, `self.aug.rng`) was not watched, and one made inside the step
from the operating system's entropy (`np.random.default_rng()`, `random.Random()`) was
created during the trace where no watch could see it: both repeated the traced draw on every
call, silently. Either now traces again on every call (with a warning), as a watched
generator does; a generator seeded inside the step draws the same numbers every call and
compiles once."""

import random
import warnings

import numpy as np
import pytest

import graphnet

_X = graphnet.tensor([[1.0], [0.0]])


def _mix(x, lam):
    return lam * x + (1 - lam) * x.flip(0)


class _Aug:
    def __init__(self):
        self.rng = random.Random(0)


class _Trainer:
    def __init__(self):
        self.aug = _Aug()

    def step(self, x):
        return _mix(x, self.aug.rng.random())


class _Mixup(graphnet.nn.Module):
    def __init__(self):
        super().__init__()
        self.rngs = [random.Random(0)]

    def forward(self, x):
        return _mix(x, self.rngs[0].random())


_AUG = {}


def _dict_held(x):
    return _mix(x, float(_AUG["rng"].beta(0.4, 0.4)))


def _fresh_dict():
    _AUG["rng"] = np.random.default_rng(0)
    return _dict_held


_HOLDERS = {
    "dict_global": _fresh_dict,
    "module_list": _Mixup,
    "trainer_attribute": lambda: _Trainer().step,
}


def _draws(fn, n=3):
    return [float(fn(_X)[0, 0]) for _ in range(n)]


@pytest.mark.parametrize("holder", sorted(_HOLDERS))
def test_held_generator_draws_anew_each_call(holder):
    eager = _draws(_HOLDERS[holder]())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        static = _draws(graphnet.compile(_HOLDERS[holder]()))
    assert len(set(eager)) == 3
    np.testing.assert_allclose(static, eager, rtol=1e-6)


def _unseeded_numpy(x):
    return _mix(x, float(np.random.default_rng().beta(0.4, 0.4)))


def _unseeded_python(x):
    return x * random.Random().uniform(0.8, 1.2)


def _unseeded_legacy(x):
    return x * float(np.random.RandomState().uniform(0.8, 1.2))


@pytest.mark.parametrize("fn", [_unseeded_numpy, _unseeded_python, _unseeded_legacy])
def test_generator_seeded_from_the_system_inside_the_step(fn):
    compiled = graphnet.compile(fn)
    with pytest.warns(UserWarning, match="seeded from the operating system"):
        first = [float(compiled(_X)[0, 0]) for _ in range(4)]
    assert len(set(first)) == 4   # eagerly each call draws anew; so does the compiled step


def test_generator_seeded_inside_the_step_compiles_once():
    def step(x):
        return x * random.Random(7).uniform(0.8, 1.2) \
            * float(np.random.default_rng(3).uniform(0.5, 1.5))
    compiled = graphnet.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [float(compiled(_X)[0, 0]) for _ in range(3)]
    assert got == [float(step(_X)[0, 0])] * 3
    assert len(compiled.compiled.recompile_reasons) == 1


@pytest.mark.parametrize("size", [(2,), [2], (2, 2, 2)])
def test_interpolate_size_length_checked(size):
    import torch

    for T in (torch, graphnet):
        with pytest.raises(ValueError, match="same number of spatial dimensions"):
            T.nn.functional.interpolate(T.ones(1, 3, 4, 4), size=size, mode="bilinear")
    assert tuple(graphnet.nn.functional.interpolate(graphnet.ones(1, 3, 4, 4), size=2).shape) \
        == (1, 3, 2, 2)
