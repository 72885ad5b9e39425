"""Differential fuzzing of random module graphs (tests/fuzz_graphs.py): for each seed, a small
random network (convs, norms in train and eval mode, activations, residual adds, channel
concatenation, shared modules, pooling, reshapes, dropout) must give the same forward output,
parameter gradients, and parameters + buffers after two optimizer steps in graphnet's dynamic
mode, in static mode (a compiled forward, forward + backward, and whole training step) and in
PyTorch.

The test id is the seed; a failure prints the model as code and every value that differs.
`python -m tests.fuzz_graphs --n 300` runs many more and prints the figures."""

import pytest
from fuzz_graphs import Case, Layer, generate, report, run_case

import graphnet

pytest.importorskip("torch")

DEFAULT_SEEDS = range(12)   # `pytest -m slow` runs 300 more (SLOW_SEEDS)
SLOW_SEEDS = range(1000, 1300)


def _check(case: Case) -> None:
    problems, _ = run_case(case)
    assert not problems, report(case, problems)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("seed", DEFAULT_SEEDS, ids=str)
def test_random_graph_agrees_with_torch(seed):
    _check(generate(seed))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("seed", SLOW_SEEDS, ids=str)
def test_many_random_graphs_agree_with_torch(seed):
    _check(generate(seed))


def test_the_fuzzer_reports_a_planted_error_of_one_in_a_thousand(monkeypatch):
    case = Case(seed=0, input_shape=(4, 3, 8, 8), train=True, loss="cross_entropy",
                loss_kwargs={}, target=("classes", 3), optimizer="SGD", opt_kwargs={"lr": 0.1},
                layers=[Layer("Conv2d", (3, 4, 3)), Layer("BatchNorm2d", (4,)), Layer("SiLU"),
                        Layer("Flatten"), Layer("Linear", (144, 3))])
    assert run_case(case)[0] == []
    silu = graphnet.nn.functional.silu
    monkeypatch.setattr(graphnet.nn.functional, "silu", lambda x, inplace=False: silu(x) * 1.001)
    problems, _ = run_case(case)
    for mode in ("dynamic", "static"):
        for check in ("inference output", "forward backward: output", "grad of 4.weight",
                      "after 2 steps: 0.weight"):
            assert any(p.startswith(mode) and check in p for p in problems), (mode, check)
