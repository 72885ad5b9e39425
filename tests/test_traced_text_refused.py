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


def test_prints_and_plain_text_still_work(capsys):
    def step(x):
        y = (x * 2).sum()
        print(f"loss {y:.2f}")
        return y, "done", {"k": [1, "a"], "n": len("done") > 0}

    fast = gn.compile(step)
    first = fast(gn.tensor([1.0, 2.0]))
    second = fast(gn.tensor([1.0, 3.0]))
    assert float(first[0]) == 6.0 and float(second[0]) == 8.0
    assert first[1:] == second[1:] == ("done", {"k": [1, "a"], "n": True})
    assert capsys.readouterr().out == "loss 6.00\nloss 8.00\n"


@pytest.mark.parametrize("use", ["measured", "compared", "logged", "warned", "written"])
def test_text_that_goes_anywhere_but_print_is_refused(use, capsys):
    import io
    import logging
    import warnings

    stream = io.StringIO()

    def step(x):
        y = x.sum()
        text = f"{y:.1f}"
        if use == "measured":
            return x * len(text)          # the placeholder's length: 36, not 3
        if use == "compared":
            return x + (1.0 if text == "4.0" else 0.0)
        if use == "logged":
            logging.getLogger("graphnet-test").info("loss=%s", text)
        elif use == "warned":
            warnings.warn(f"loss={text}", stacklevel=2)
        else:
            stream.write(text)
        return y

    with pytest.raises(gn.TraceError, match=r"\(%sum\) went somewhere other than print\(\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gn.compile(step)(gn.tensor([1.0, 3.0]))
    assert stream.getvalue() in ("", "tensor(<traced %sum>, format=2e3166)")


def test_graphnets_own_messages_about_traced_values_are_not_refused():
    d = gn.distributions

    def step(low):      # validate_args builds its error text from the traced value
        return d.Uniform(low, low + 1.0, validate_args=True).log_prob(low + 0.5).sum()

    assert float(gn.compile(step)(gn.tensor([0.5, 1.0]))) == 0.0
