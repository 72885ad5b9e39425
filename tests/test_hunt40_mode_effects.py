"""Effects a compiled call must repeat or refuse as PyTorch does: a grad mode the code sets
without a `with` stays set after every call (it did after the traced call only), checkpoint's
argument check, and a warning once the same guard or argument has made several compiles."""
import warnings

import numpy as np
import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("compiled", [False, True])
def test_set_grad_enabled_called_as_a_function_stays_set(compiled):
    results = {}
    for lib in (torch, G):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)

        def evaluate(x, lib=lib, m=m):
            lib.set_grad_enabled(False)
            return m(x)

        run = G.compile(evaluate) if compiled and lib is G else evaluate
        seen = []
        for _ in range(3):
            run(lib.ones(2, 3))
            seen.append((lib.is_grad_enabled(), m(lib.ones(2, 3)).requires_grad))
            lib.set_grad_enabled(True)
        results[lib.__name__] = seen
    assert results["graphnet"] == results["torch"] == [(False, False)] * 3


def test_checkpoint_refuses_an_unknown_determinism_check():
    from graphnet.utils.checkpoint import checkpoint

    x = G.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(lambda t: t * 2, x, use_reentrant=False, determinism_check="strict")
    assert checkpoint(lambda t: t * 2, x, use_reentrant=False,
                      determinism_check="none").tolist() == [2.0, 2.0]


class Trainer:
    def __init__(self):
        self.model = G.nn.Linear(3, 2)
        self.global_step = 0

    def training_step(self, x):
        return self.model(x).sum()

    def log(self):     # names the counter: the step's object guard covers it
        return self.global_step


def _warnings(run, n):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(n)
    return [str(w.message) for w in caught if "for the same reason" in str(w.message)]


def test_a_guard_failing_on_every_call_warns_once():
    trainer = Trainer()
    step = G.compile(trainer.training_step)

    def run(n):
        for _ in range(n):
            step(G.ones(1, 3))
            trainer.global_step += 1

    found = _warnings(run, 7)
    assert len(found) == 1 and "Trainer.global_step" in found[0]
    assert step.explain()["graphs"] == 7


def test_a_new_dataclass_batch_every_call_warns_once():
    import dataclasses

    @dataclasses.dataclass
    class Batch:
        x: object

    model = G.nn.Linear(3, 2)
    step = G.compile(lambda b: model(b.x).sum())

    def run(n):
        for i in range(n):
            step(Batch(G.full((2, 3), float(i))))

    found = _warnings(run, 6)
    assert len(found) == 1 and "dataclass batch" in found[0]


def test_a_few_recompiles_do_not_warn():
    model = G.nn.Linear(3, 2)
    step = G.compile(lambda x: model(x).sum())

    def run(n):
        for rows in (4, 4, 3, 4, 2, 2):
            step(G.ones(rows, 3))

    assert _warnings(run, 0) == []
    assert np.isclose(float(step(G.zeros(1, 3))), float(model.bias.sum()))
