"""The building blocks of parity cases: input makers (rng -> np.ndarray) and `Case`.

tests/op_parity_cases.py and every tests/op_cases_<family>.py import these; a family's file
defines its own `CASES` (and `ELSEWHERE`) dicts, which op_parity_cases.py merges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

F = "nn.functional"


def randn(*shape):
    return lambda rng: rng.standard_normal(shape).astype(np.float32)


def positive(*shape):   # in [0.5, 2]: inside the domain of log, sqrt, reciprocal ...
    return lambda rng: rng.uniform(0.5, 2.0, shape).astype(np.float32)


def unit(*shape):       # in (0.05, 0.95): probabilities
    return lambda rng: rng.uniform(0.05, 0.95, shape).astype(np.float32)


def ints(low, high, *shape):
    return lambda rng: rng.integers(low, high, shape).astype(np.int64)


def bools(*shape):
    return lambda rng: rng.random(shape) < 0.5


def fixed(values, dtype=np.float32):
    return lambda rng: np.array(values, dtype)


@dataclass(frozen=True)
class Case:
    call: Callable                       # call(T, *inputs), T = torch or graphnet
    inputs: tuple = ()                   # input makers above: rng -> np.ndarray
    torch_call: Callable | None = None   # PyTorch's spelling, when it differs
    no_grad: tuple = ()                  # float inputs that get no gradient (targets, stats)
    atol: float = 1e-5
    rtol: float = 1e-5
    names: bool = False                  # also check the table's method and in-place names
    static: bool = True                  # False: the output shape depends on the values, so a
                                         # compiled call must raise a TraceError naming the op


def _f(T, name):
    return getattr(T.nn.functional, name)
