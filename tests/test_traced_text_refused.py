"""Text made from a traced tensor (str, repr, an f-string) is only known when the compiled
program runs: returned or kept in Python state it is refused with a TraceError, never handed
back as the trace's placeholder (compiler/traced_text.py). print() shows each call's values."""

import pytest

import graphnet as gn
from graphnet._errors import TraceError

LOG = []


def _returns_fstring(x):
    y = (x * 2).sum()
    return f"{y:.3f}"


def _returns_repr_in_dict(x):
    y = (x * 2).sum()
    return y, {"text": repr(y)}


def _returns_str_in_list(x):
    return [str(x * 3)]


def _logs_to_global(x):
    y = (x * 2).sum()
    LOG.append(f"loss={y:.3f}")
    return y


class _Trainer:
    def __init__(self):
        self.history = []
        self.last = None

    def appends(self, x):
        y = (x * 2).sum()
        self.history.append(f"{y:.1f}")
        return y

    def sets(self, x):
        y = x.mean()
        self.last = str(y)
        return y


CASES = {
    "returned f-string": (_returns_fstring, "returned"),
    "returned repr in a dict": (_returns_repr_in_dict, "returned"),
    "returned str in a list": (_returns_str_in_list, "returned"),
    "global list": (_logs_to_global, "LOG"),
    "attribute list": (lambda x: _Trainer().appends(x), "history"),
    "attribute": (None, "last"),
}


@pytest.mark.parametrize("case", list(CASES), ids=str)
def test_text_of_a_traced_tensor_leaving_the_trace_is_refused(case):
    fn, where = CASES[case]
    if fn is None:
        fn = _Trainer().sets
    elif case == "attribute list":
        fn = _Trainer().appends
    LOG.clear()
    with pytest.raises(TraceError, match="text made from a traced tensor") as info:
        gn.compile(fn)(gn.tensor([1.0, 2.0]))
    assert where in str(info.value)
    assert "format it after the call" in str(info.value)


def test_the_same_code_runs_eagerly_with_the_values():
    LOG.clear()
    assert _returns_fstring(gn.tensor([1.0, 2.0])) == "6.000"
    _logs_to_global(gn.tensor([1.0, 3.0]))
    assert LOG == ["loss=8.000"]


def test_text_used_inside_and_prints_still_work(capsys):
    def step(x):
        y = (x * 2).sum()
        note = f"{y:.2f}"           # made and dropped: never seen outside
        print(f"loss {y:.2f}")
        return y, "done", {"k": [1, "a"], "n": len(note) > 0}

    fast = gn.compile(step)
    first = fast(gn.tensor([1.0, 2.0]))
    second = fast(gn.tensor([1.0, 3.0]))
    assert float(first[0]) == 6.0 and float(second[0]) == 8.0
    assert first[1:] == second[1:] == ("done", {"k": [1, "a"], "n": True})
    assert capsys.readouterr().out == "loss 6.00\nloss 8.00\n"
