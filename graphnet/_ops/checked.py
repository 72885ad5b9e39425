"""`checked_parameters`: the identity, with PyTorch's check of the values it passes on (a
distribution's parameters, an integer divisor); `anomaly_checked`: the same for a backward
result under `detect_anomaly()`. Number arguments are checked in Python where
they are given; a tensor goes through this op so that its check runs wherever the op table's
value checks run: eagerly before the kernel, on a compiled call's inputs on the host, or
inside the program for a value it computes (compiler/checks.py)."""

from __future__ import annotations

from ._table import ValueCheck, defop


# rule -> (bad(x) over NumPy or JAX arrays, PyTorch's message)
PARAMETER_RULES = {
    "probability": (lambda x: (x < 0) | (x > 1) | (x != x),
                    "Expected p_in >= 0 && p_in <= 1 to be true, but got false."),
    "std": (lambda x: x < 0, "normal expects all elements of std >= 0.0"),
    "rate": (lambda x: (x < 0) | (x != x),
             "invalid Poisson rate, expected rate to be non-negative"),
    "divisor": (lambda x: x == 0, "ZeroDivisionError"),   # integer //, % and fmod
    "fweights": (lambda x: x < 0, "cov(): fweights cannot be negative"),
    "aweights": (lambda x: x < 0, "cov(): aweights cannot be negative"),
    "categories": (lambda x: (x < 0) | (x != x) | (abs(x) == float("inf")),
                   "probability tensor contains either `inf`, `nan` or element < 0"),
}
_NO_MASS = "invalid multinomial distribution (sum of probabilities <= 0)"


def _bad_parameters(x, *, rule):
    """(bad, (kind,)): kind 1 = an element breaks the rule; 2 = a multinomial row with no
    probability mass."""
    bad_element = PARAMETER_RULES[rule][0](x).any()
    if rule != "categories" or x.size == 0:
        return bad_element, (bad_element * 1,)
    no_mass = (x.reshape(-1, x.shape[-1]).sum(-1) <= 0).any()
    return bad_element | no_mass, (bad_element * 1 + (~bad_element & no_mass) * 2,)


def _parameters_error(facts, *, rule):
    return RuntimeError(_NO_MASS if facts[0] == 2 else PARAMETER_RULES[rule][1])


@defop("checked_parameters", "opaque", differentiable=False, function=None, method=None,
       check=ValueCheck(_bad_parameters, _parameters_error, values_from=0))
def checked_parameters(x, *, rule):
    """`x` unchanged: a distribution's parameters, checked as PyTorch checks them."""
    return x


def _has_nan(x, *, producer, index):
    bad = (x != x).any()
    return bad, (bad * 1,)


def _nan_error(facts, *, producer, index):
    return RuntimeError(f"Function '{producer}' returned nan values in its {index}th output.")


@defop("anomaly_checked", "opaque", differentiable=False, function=None, method=None,
       check=ValueCheck(_has_nan, _nan_error, values_from=0))
def anomaly_checked(x, *, producer, index):
    """`x` unchanged: a backward result that `detect_anomaly()` checks for NaN inside a
    compiled program, as eager mode's engine checks each node's results."""
    return x


def _bad_lambd(lambd, *, limit, dtype_name):
    value = lambd.reshape(()).astype("float64")
    bad = ~((value >= 0) & (value <= limit))     # NaN too
    return bad, (value.view("int64"),)           # the value's bits: its message shows it


def _lambd_error(facts, *, limit, dtype_name):
    import numpy as np

    value = np.array(facts[0], dtype=np.int64).view(np.float64)
    return RuntimeError(shrink_lambd_message(float(value), limit, dtype_name))


def shrink_lambd_message(value: float, limit: float, dtype_name: str) -> str:
    """PyTorch's error for softshrink's lambda outside [0, the input dtype's largest value]."""
    return f"lambda must be in range [0, {limit:g}] for input dtype {dtype_name}, but found " \
           f"{value:g}"


@defop("checked_shrink_lambd", "opaque", differentiable=False, function=None, method=None,
       check=ValueCheck(_bad_lambd, _lambd_error, values_from=0, reads="a threshold"))
def checked_shrink_lambd(lambd, *, limit, dtype_name):
    """`lambd` unchanged: softshrink's one-element threshold tensor, once it lies in [0, the
    input dtype's largest value], as PyTorch checks it."""
    return lambd
