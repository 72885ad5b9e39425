"""Python side effects inside compiled code (docs/architecture.md, "What runs only while
tracing"): print runs on every call with that call's values; a tensor kept past the trace
(appended to a list) gets its value on every call, also when it is returned; Python state the
trace changed (a module's counter, a global, a list) makes the next call trace again, so the
Python code runs per call, and a write that changes nothing does not."""

from __future__ import annotations

import builtins
import collections
import io
import sys
import threading
import warnings

import numpy as np
import pytest

import graphnet
from graphnet import nn
from graphnet._errors import TraceError

COMPILED = ("static", "plan")
_ROWS = ([1.0, 2.0], [-3.0, 0.5], [0.25, 0.125])


def _np(t):
    return np.asarray(t.detach()._value)


def _graphs(fn) -> int:
    return fn.explain()["graphs"]


def _printed(capsys, make, mode: str, calls=_ROWS):
    """(stdout, stderr, compiled handle or None) of `make()`'s step called on each row."""
    step = make()
    run = step if mode == "dynamic" else graphnet.compile(step, mode=mode)
    for row in calls:
        run(graphnet.tensor(row))
    out = capsys.readouterr()
    return out.out, out.err, None if mode == "dynamic" else run


# ---- print --------------------------------------------------------------------------------
def _many_prints():
    def step(x):
        total = x.sum()
        print("sum:", total)
        print(x, total * 2, sep=" | ", end="!\n")
        print()
        print("no tensors", 3, None, "graphnet.tensor(data) makes one")
        print([x, total], (total,), {"k": total})
        print(f"formatted {total}", file=sys.stderr, flush=True)
        return total
    return step


@pytest.mark.parametrize("mode", COMPILED)
def test_print_runs_on_every_call_with_its_values(capsys, mode):
    expected = _printed(capsys, _many_prints, "dynamic")[:2]
    out, err, run = _printed(capsys, _many_prints, mode)
    assert (out, err) == expected
    assert out.count("sum: tensor(") == 3 and "traced" not in out + err
    assert _graphs(run) == 1       # one program: the prints are part of it


@pytest.mark.parametrize("mode", COMPILED)
def test_print_in_a_training_step_shows_grad_fn_and_parameters_as_eager(capsys, mode):
    def make():
        graphnet.manual_seed(0)
        model = nn.Linear(2, 1)
        opt = graphnet.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = (model(x[None]) ** 2).mean()
            print("loss", loss, "weight", model.weight)
            loss.backward()
            opt.step()
            print(f"after {model.bias.detach()} {loss}")
            return loss
        return step
    expected = _printed(capsys, make, "dynamic")[0]
    assert "grad_fn=<MeanBackward0>" in expected and "requires_grad=True" in expected
    assert _printed(capsys, make, mode)[0] == expected


@pytest.mark.parametrize("mode", COMPILED)
def test_print_in_a_compiled_forward_under_no_grad(capsys, mode):
    class Printing(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2)

        def forward(self, x):
            hidden = self.linear(x)
            print("hidden", hidden)
            return hidden.relu()

    def make():
        graphnet.manual_seed(0)
        return Printing()
    with graphnet.no_grad():   # an inference graph: hoisted and split in two programs
        expected = _printed(capsys, make, "dynamic")[0]
        assert _printed(capsys, make, mode)[0] == expected


def test_a_program_without_print_has_no_print_output():
    run = graphnet.compile(lambda x: x * 2)
    run(graphnet.ones(2))
    artifact = run.compiled.artifacts[0]
    assert artifact.prints == [] and [o.role for o in artifact.graph.outputs] == ["out"]
    printing = graphnet.compile(lambda x: print(x.sum()))
    printing(graphnet.ones(2))
    assert "new print_0 <- %sum" in str(printing.graph)


def test_print_that_cannot_run_per_call_is_refused_and_print_is_restored(capsys):
    original = builtins.print

    def to_a_file(x):
        print(x, file=io.StringIO())
    lin = nn.Linear(2, 1)

    def weight_formatted_early(x):
        print(f"w {lin.weight}")        # formatted before any op read the weight
        return lin(x)

    def in_a_branch(x):
        return graphnet.cond(x.sum() > 0, lambda t: print(t) or t, lambda t: -t, x)
    cases = [(to_a_file, "cannot know which object `file` names"),
             (weight_formatted_early, "Pass the tensor to print as its own argument"),
             (in_a_branch, "inside a graphnet.cond / while_loop branch")]
    for fn, message in cases:
        with pytest.raises(TraceError, match=message):
            graphnet.compile(fn)(graphnet.ones(1, 2))
        assert builtins.print is original
    with pytest.raises(TypeError, match="sep must be None or a string, not int"):
        graphnet.compile(lambda x: print(x, sep=3))(graphnet.ones(2))
    assert builtins.print is original
    assert capsys.readouterr().out == ""


def test_print_from_another_thread_during_a_trace_prints_at_once(capsys):
    def step(x):
        worker = threading.Thread(target=print, args=("from a thread",))
        worker.start()
        worker.join()
        assert capsys.readouterr().out == "from a thread\n"   # not part of the program
        return x + 1
    run = graphnet.compile(step)
    run(graphnet.ones(1))
    run(graphnet.ones(1))
    assert capsys.readouterr().out == ""


# ---- a kept tensor that is also returned --------------------------------------------------
@pytest.mark.parametrize("mode", COMPILED)
def test_appended_and_returned_tensor_gets_its_value_on_every_call(mode):
    def run_with(wrap):
        history = []

        def step(x):
            loss = (x * x).sum()
            history.append(loss)
            return loss
        run = wrap(step)
        return [run(graphnet.tensor(row)) for row in _ROWS], history
    expected, expected_history = run_with(lambda f: f)
    results, history = run_with(lambda f: graphnet.compile(f, mode=mode))
    assert len(history) == len(expected_history) == 3
    for got, kept, want in zip(results, history, expected):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6)
        np.testing.assert_allclose(_np(kept), _np(got), rtol=1e-6)


def test_returned_tensors_are_not_kept_tensors():
    Pair = collections.namedtuple("Pair", "total doubled")
    run = graphnet.compile(lambda x: (Pair(x.sum(), x * 2), {"x": [x + 1]}))
    for row in _ROWS:
        run(graphnet.tensor(row))
    assert _graphs(run) == 1    # nothing the trace returned is mistaken for a kept tensor


# ---- Python state ---------------------------------------------------------------------------
class _Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear, self.calls, self.flag, self.last_shape = nn.Linear(2, 2), 0, True, None

    def forward(self, x):
        self.calls += 1
        self.flag = True                    # the same value every call: no change
        self.last_shape = tuple(x.shape)    # changes on the first call only
        return self.linear(x)


@pytest.mark.parametrize("mode", COMPILED)
def test_a_counter_in_forward_counts_every_call_and_warns_once(mode):
    graphnet.manual_seed(0)
    model = _Counting()
    run = graphnet.compile(model, mode=mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for row in _ROWS * 2:
            run(graphnet.tensor([row]))
    assert model.calls == 6
    warned = [str(w.message) for w in caught if "Python state" in str(w.message)]
    assert len(warned) == 1 and "_Counting.calls: 1 -> 2" in warned[0]
    assert "register_buffer" in warned[0]
    assert run.explain()["recompile_reasons"][1] == (
        "the previous trace changed Python state (_Counting.calls: 0 -> 1; _Counting."
        "last_shape: None -> (1, 2))")
    # each retrace recorded the same graph: the first call's program runs, not compiled again
    assert [g["jax_lowering_s"] == g["xla_compile_s"] == 0
            for g in run.explain()["per_graph"]] == [False] + [True] * 5


def test_writes_that_change_nothing_do_not_retrace():
    class Steady(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.flag, self.last_shape = nn.Linear(2, 2), True, None

        def forward(self, x):
            self.flag = True
            self.last_shape = tuple(x.shape)
            nn.ReLU()(x)                    # a module built inside the step
            return self.linear(x)
    model = Steady()
    run = graphnet.compile(model)
    for row in _ROWS:
        run(graphnet.tensor([row]))
    # the first trace set last_shape (None -> (1, 2)); the retrace changed nothing
    assert _graphs(run) == 2 and model.last_shape == (1, 2)
    model.last_shape = (1, 2)
    pure = graphnet.compile(lambda x: model.linear(x))
    for row in _ROWS:
        pure(graphnet.tensor([row]))
    assert _graphs(pure) == 1


def test_a_buffer_counter_compiles_once():
    class Buffered(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", graphnet.zeros((), dtype=graphnet.int64))
            self.linear = nn.Linear(2, 2)

        def forward(self, x):
            self.calls += 1
            return self.linear(x)
    model = Buffered()
    run = graphnet.compile(model)
    for row in _ROWS:
        run(graphnet.tensor([row]))
    assert int(model.calls) == 3 and _graphs(run) == 1


_global_steps = 0


def _step_with_global(x):
    global _global_steps
    _global_steps += 1
    return x * _global_steps


def test_globals_closures_and_lists_run_on_every_call():
    global _global_steps
    _global_steps = 0
    run = graphnet.compile(_step_with_global)
    assert [_np(run(graphnet.ones(1))).item() for _ in range(3)] == [1.0, 2.0, 3.0]
    assert _global_steps == 3

    calls, shapes = 0, []

    def step(x):
        nonlocal calls
        calls += 1
        shapes.append(tuple(x.shape))
        return x + calls
    run = graphnet.compile(step)
    assert [_np(run(graphnet.zeros(1))).item() for _ in range(3)] == [1.0, 2.0, 3.0]
    assert calls == 3 and shapes == [(1,)] * 3

    class Seen(nn.Module):
        def __init__(self):
            super().__init__()
            self.seen = []

        def forward(self, x):
            self.seen.append(tuple(x.shape))
            return x * 2
    model = Seen()
    run = graphnet.compile(model)
    for _ in range(3):
        run(graphnet.ones(2))
    assert model.seen == [(2,)] * 3

    hooked = nn.Linear(2, 2)
    hooked.register_forward_hook(lambda module, args, out: shapes.append(tuple(out.shape)))
    run = graphnet.compile(nn.Sequential(hooked))
    for _ in range(2):
        run(graphnet.ones(1, 2))
    assert shapes[-2:] == [(1, 2), (1, 2)]


class _Progress:
    def __init__(self):
        self.step = 0


class _Trainer:
    """Accumulates gradients over 3 calls: its counter is held one level down."""

    def __init__(self):
        graphnet.manual_seed(0)
        self.model = nn.Linear(3, 2)
        self.opt = graphnet.optim.SGD(self.model.parameters(), lr=0.1)
        self.progress = _Progress()

    def train_step(self, x, y):
        loss = ((self.model(x) - y) ** 2).mean()
        loss.backward()
        self.progress.step += 1
        if self.progress.step % 3 == 0:
            self.opt.step()
            self.opt.zero_grad()
        return loss


_CONFIG = {"state": _Progress()}


def _step_with_config(x):
    _CONFIG["state"].step += 1
    return x * _CONFIG["state"].step


class _Tracked(nn.Module):
    def __init__(self):
        super().__init__()
        self.tracker = _Progress()

    def forward(self, x):
        self.tracker.step += 1
        return x + self.tracker.step


def test_counters_held_deeper_down_run_on_every_call():
    """A counter one level down, in an object the trainer, a global dict or a module holds,
    changed only while tracing: the optimizer never stepped (a trainer that steps every 3
    calls trained on its first loss forever) and the module's output stopped counting."""
    losses = {}
    for mode in ("dynamic", "static"):
        trainer = _Trainer()
        step = trainer.train_step if mode == "dynamic" else graphnet.compile(trainer.train_step)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses[mode] = [float(step(graphnet.ones(4, 3), graphnet.zeros(4, 2)))
                            for _ in range(7)]
        assert trainer.progress.step == 7
    np.testing.assert_allclose(losses["static"], losses["dynamic"], rtol=1e-6)
    assert losses["static"][3] < losses["static"][0]      # the optimizer stepped

    _CONFIG["state"].step = 0
    run = graphnet.compile(_step_with_config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [_np(run(graphnet.ones(1))).item() for _ in range(3)] == [1.0, 2.0, 3.0]
        model = _Tracked()
        run = graphnet.compile(model)
        assert [_np(run(graphnet.zeros(1))).item() for _ in range(3)] == [1.0, 2.0, 3.0]
    assert model.tracker.step == 3


def test_changing_python_state_inside_a_branch_is_refused():
    class Branching(nn.Module):
        def __init__(self):
            super().__init__()
            self.taken, self.flag = 0, True

        def forward(self, x):
            def positive(t):
                self.flag = True            # no change: allowed
                return t * 2

            def negative(t):
                self.taken += 1
                return -t
            return graphnet.cond(x.sum() > 0, positive, negative, x)
    with pytest.raises(TraceError, match=r"Branching.taken = \.\.\.` inside a graphnet.cond"):
        graphnet.compile(Branching())(graphnet.ones(2))
    log = []

    def step(x):
        return graphnet.cond(x.sum() > 0, lambda t: log.append(1) or t, lambda t: -t, x)
    with pytest.raises(TraceError, match="tracing a branch changed Python state"):
        graphnet.compile(step)(graphnet.ones(2))
