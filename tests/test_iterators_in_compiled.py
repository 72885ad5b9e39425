"""`next(it)` (or a file's `readline()`) inside a compiled function runs while tracing only:
before, the program held the first item as a constant and gave it again on every call (a
DataLoader iterator read inside a compiled step trained on its first batch forever, without
a word). An iterator the function reaches that moved during the trace is now a change of
Python state: a warning, and the function is traced again on every call, so compiled calls
equal eager ones."""

from __future__ import annotations

import contextlib
import functools
import itertools

import numpy as np
import pytest

import graphnet
from graphnet.utils.data import DataLoader, TensorDataset


def _items():
    return [graphnet.full((2,), float(i)) for i in range(6)]


def _generator():
    for t in _items():
        yield t


def _loader_iter():
    data = TensorDataset(graphnet.arange(12.0).reshape(6, 2))
    return iter(DataLoader(data, batch_size=1))


SOURCES = {
    "list iterator": lambda: (lambda it: lambda x: x + next(it))(iter(_items())),
    "generator": lambda: (lambda it: lambda x: x + next(it))(_generator()),
    "DataLoader iterator": lambda: (lambda it: lambda x: x + next(it)[0][0])(_loader_iter()),
    "itertools.count": lambda: (lambda it: lambda x: x * next(it))(itertools.count(1)),
    "enumerate": lambda: (lambda it: lambda x: x * next(it)[0])(enumerate(_items())),
    "zip": lambda: (lambda it: lambda x: x + next(it)[1])(zip(_items(), _items())),
}


def _run(fn, calls=3):
    return [fn(graphnet.ones(2)).numpy() for _ in range(calls)]


@pytest.mark.parametrize("source", list(SOURCES))
def test_an_iterator_read_inside_a_compiled_function_gives_its_next_item(source):
    want = _run(SOURCES[source]())
    assert not all(np.array_equal(want[0], w) for w in want[1:])   # the items do differ
    with pytest.warns(UserWarning, match="gave items"):
        got = _run(graphnet.compile(SOURCES[source]()))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


class _Trainer:
    def __init__(self):
        graphnet.manual_seed(0)
        self.model = graphnet.nn.Linear(2, 1)
        self.opt = graphnet.optim.SGD(self.model.parameters(), lr=0.1)
        self.batches = _loader_iter()

    def step(self):
        (x,) = next(self.batches)
        self.opt.zero_grad()
        loss = ((self.model(x) - 1.0) ** 2).mean()
        loss.backward()
        self.opt.step()
        return loss.detach()


def test_a_trainer_step_that_fetches_its_own_batch_trains_on_each_batch():
    eager, compiled = _Trainer(), _Trainer()
    step = graphnet.compile(compiled.step)
    want = [eager.step().item() for _ in range(4)]
    with pytest.warns(UserWarning, match=r"self\.batches gave items"):
        got = [step().item() for _ in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(compiled.model.weight.detach().numpy(),
                               eager.model.weight.detach().numpy(), rtol=1e-6)


def test_an_iterator_the_function_reaches_but_does_not_advance_compiles_once():
    it = iter(_items())
    scale = 3.0

    def f(x):
        return x * scale if it is not None else x

    compiled = graphnet.compile(f)
    for _ in range(3):
        np.testing.assert_array_equal(compiled(graphnet.ones(2)).numpy(), [3.0, 3.0])
    assert compiled.explain()["graphs"] == 1, compiled.explain()["recompile_reasons"]
    assert next(it).numpy().tolist() == [0.0, 0.0]   # untouched by the traces


class _Counter:
    def __init__(self):
        self.n = 0


def _count(x, counter):
    counter.n += 1
    return x * counter.n


def _scaled(x, factors):
    return x * factors[0]


ARGUMENTS = {   # (function, a fresh argument, a change between calls or None)
    "iterator": (lambda x, it: x + next(it), lambda: iter(_items()), None),
    "generator": (lambda x, g: x + next(g), _generator, None),
    "numpy Generator": (lambda x, rng: x * float(rng.standard_normal()),
                        lambda: np.random.default_rng(0), None),
    "counter object": (_count, _Counter, None),
    "partial holding a list": (lambda x, fn: fn(x),
                               lambda: functools.partial(_scaled, factors=[1.0]),
                               lambda p: p.keywords["factors"].__setitem__(
                                   0, p.keywords["factors"][0] + 1)),
}


@pytest.mark.parametrize("case", list(ARGUMENTS))
def test_a_python_object_passed_in_is_not_frozen_at_its_first_call(case):
    """An argument that is not a tensor keys the cache by identity: the same iterator,
    generator, counter or partial passed again reused the program traced with it, which gave
    the first item, the first draw or the first count on every call."""
    fn, make, change = ARGUMENTS[case]
    results = []
    for run in (fn, graphnet.compile(fn)):
        arg, out = make(), []
        for _ in range(3):
            out.append(run(graphnet.ones(2), arg).numpy())
            if change is not None:
                change(arg)
        results.append(out)
    want, got = results
    assert not all(np.array_equal(want[0], w) for w in want[1:])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_a_file_read_or_written_inside_a_compiled_function_is_read_or_written_each_call(
        tmp_path):
    """A file is an iterator with a position: a log line written, or a line read, inside a
    compiled function happened only while tracing (one line of three; the first number on
    every call). It now traces again on every call, as a moved iterator does."""
    results = []
    for compiled in (False, True):
        data = tmp_path / f"data{compiled}.txt"
        data.write_text("1\n2\n3\n")
        log_path = tmp_path / f"log{compiled}.txt"
        with open(data) as numbers, open(log_path, "w") as log:
            def step(x):
                log.write("step\n")
                return x * float(numbers.readline())
            run = graphnet.compile(step) if compiled else step
            with pytest.warns(UserWarning, match="was read or written") if compiled \
                    else contextlib.nullcontext():
                got = [run(graphnet.ones(1)).item() for _ in range(3)]
        results.append((got, log_path.read_text().count("step")))
    assert results[1] == results[0] == ([1.0, 2.0, 3.0], 3)
