"""The flexibility matrix of `graphnet compare`: every cell comes from running a program, so
changing a program changes its cells, and the classifier sees a silent difference."""

import numpy as np
import pytest

import graphnet
from graphnet.runtime.compare._axis import Context
from graphnet.runtime.compare.flex_programs import FEATURES
from graphnet.runtime.compare.flexibility import (
    MODES, OUTCOMES, Feature, build_matrix, difference, measure, remedy_of,
)
from graphnet.runtime.compare.schema import AXES, _check

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)

# NOTE: silent differences measured in the built-in matrix: none. print, a list appended to
# and a counter in forward differed under compile until print became part of the program and
# changed Python state made the next call trace again (docs/architecture.md, "What runs only
# while tracing"). A new silent difference fails this test at once.
KNOWN_SILENT_DIFFERENCES: set = set()


@pytest.fixture(scope="module")
def matrix():
    labels = []
    result = measure(Context(preset="quick", progress=labels.append))
    assert labels == [f"flexibility: {f.name}" for f in FEATURES]
    return result


def _cells(matrix, outcome=None):
    return {(f["name"], mode): cell for f in matrix["features"]
            for mode, cell in f["cells"].items() if outcome in (None, cell["outcome"])}


def test_builtin_matrix_follows_the_schema_and_covers_every_mode(matrix):
    _check(matrix, AXES["flexibility"], "axes.flexibility")
    assert matrix["modes"] == list(MODES)
    assert len(matrix["features"]) == len(FEATURES) >= 9
    for (name, mode), cell in _cells(matrix).items():
        assert cell["outcome"] in OUTCOMES, (name, mode)
        assert cell["detail"], (name, mode)
        if mode == "dynamic":
            assert cell["outcome"] == "runs" and cell["compiles"] == 0, (name, cell)


def test_builtin_matrix_has_no_silent_difference_beyond_the_known_ones(matrix):
    differs = set(_cells(matrix, "differs"))
    assert differs == KNOWN_SILENT_DIFFERENCES, _cells(matrix, "differs")


def test_every_refusal_says_the_way_out(matrix):
    refused = _cells(matrix, "refused")
    assert {name for name, _ in refused} >= {"python if on a value", "boolean mask", ".item()"}
    for key, cell in refused.items():
        assert cell["remedy"], key
    assert "graphnet.cond" in refused["python if on a value", "static"]["remedy"]


def test_builtin_cells_are_measured(matrix):
    cells = _cells(matrix)
    assert cells["graphnet.cond", "static"]["detail"] == "3 calls, 1 graph"
    shapes = cells["varying input shapes", "static"]
    assert shapes["outcome"] == "recompiles" and shapes["compiles"] == 3
    assert shapes["detail"].startswith("3 graphs for 4 calls: input 0 shape [2,3] -> [3,3]")
    # an optimizer's first step creates state and is traced once more: warm-up, not a recompile
    assert cells["change the learning rate", "static"]["outcome"] == "runs"
    assert cells["change the learning rate", "static"]["compiles"] == 2
    for mode in ("static", "plan"):
        # print runs on every call inside the one program; Python side effects retrace
        assert cells["print", mode] == {"outcome": "runs", "detail": "3 calls, 1 graph",
                                        "remedy": None, "compiles": 1}
        for feature, why in (("counter", "changed Python state (Counting.calls: 0 -> 1)"),
                             ("append to a list", "created new state")):
            cell = cells[feature, mode]
            assert cell["outcome"] == "recompiles" and cell["compiles"] == 3, cell
            assert why in cell["detail"], cell


def _branch_with_if(wrap):
    def step(x):
        return x * 2 if x.sum() > 0 else -x
    run = wrap(step)
    return {"results": [run(graphnet.tensor(v)) for v in ([1.0, 2.0], [-3.0, 1.0])]}


def _branch_with_cond(wrap):
    def step(x):
        return graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, x)
    run = wrap(step)
    return {"results": [run(graphnet.tensor(v)) for v in ([1.0, 2.0], [-3.0, 1.0])]}


def test_rewriting_a_program_with_cond_turns_refused_into_runs():
    before, after = build_matrix([Feature("branch", "", _branch_with_if)], ["static"]), \
        build_matrix([Feature("branch", "", _branch_with_cond)], ["static"])
    cell = before["features"][0]["cells"]["static"]
    assert cell["outcome"] == "refused" and "graphnet.cond" in cell["remedy"]
    assert after["features"][0]["cells"]["static"] == {
        "outcome": "runs", "detail": "2 calls, 1 graph", "remedy": None, "compiles": 1}


def _off_by_one_when_compiled(wrap):
    def step(x):
        return x + 1 if graphnet.tracing() else x   # a deliberate static-only difference
    run = wrap(step)
    return {"results": [run(graphnet.ones(2)) for _ in range(3)]}


def _counts_shapes(wrap):
    run = wrap(lambda x: x.sum())
    return {"results": [run(graphnet.ones(n)) for n in (1, 2, 3)]}


def test_the_classifier_sees_a_static_only_difference_and_recompiles():
    matrix = build_matrix([Feature("injected", "", _off_by_one_when_compiled),
                           Feature("shapes", "", _counts_shapes)], ["dynamic", "static"])
    injected, shapes = (f["cells"] for f in matrix["features"])
    assert injected["dynamic"]["outcome"] == "runs"
    assert injected["static"]["outcome"] == "differs"
    assert injected["static"]["detail"] == "no error, but results[0]: off by up to 1; no warning"
    assert shapes["static"]["outcome"] == "recompiles"
    assert shapes["static"]["detail"] == ("3 graphs for 3 calls: input 0 shape [1] -> [2]; "
                                          "input 0 shape [2] -> [3]")


def test_a_program_that_fails_as_plain_python_is_not_a_reference():
    def broken(wrap):
        raise RuntimeError("no")
    with pytest.raises(ValueError, match="'broken' fails as plain Python"):
        build_matrix([Feature("broken", "", broken)], ["static"])


def test_difference_and_remedy_in_words():
    assert difference({"a": [np.ones(2)]}, {"a": [np.ones(2)]}) is None
    assert difference({"a": [1, 2]}, {"a": [1]}) == "a: 1 item (plain Python: 2)"
    assert difference({"n": 3}, {"n": 1}) == "n: 1 (plain Python: 3)"
    assert difference([np.ones(2)], [np.ones(3)]) == "result[0]: shape [3] (plain Python: [2])"
    assert remedy_of("boolean-mask indexing cannot be traced; use graphnet.where(m, x, y) "
                     "instead") == "use graphnet.where(m, x, y) instead"
    assert remedy_of("first line\n  - run it dynamically;\n  - or not") == \
        "run it dynamically; or not"
    assert remedy_of("something broke; sorry") is None
