"""Errors PyTorch raises that graphnet returned a result for, eager and compiled: addmm,
addmv, baddbmm and addbmm with an input of another dtype than their matrices (never
promoted), and a Python exponent that does not fit the tensor's dtype, or a negative one on
a bool tensor."""

import pytest
import torch

import graphnet

CONTRACTIONS = [
    ("addmm", lambda L: (L.zeros(2, 2, dtype=L.float64), L.ones(2, 2), L.ones(2, 2))),
    ("addmv", lambda L: (L.zeros(2, dtype=L.float64), L.ones(2, 2), L.ones(2))),
    ("addmv", lambda L: (L.zeros(2), L.ones(2, 2), L.ones(2, dtype=L.float64))),
    ("baddbmm", lambda L: (L.zeros(1, 2, 2, dtype=L.float64), L.ones(1, 2, 2),
                           L.ones(1, 2, 2))),
    ("addbmm", lambda L: (L.zeros(2, 2, dtype=L.float64), L.ones(1, 2, 2), L.ones(1, 2, 2))),
]

POWERS = [
    (lambda L: L.tensor([0, 3, 1], dtype=L.uint8), 300),
    (lambda L: L.tensor([1, 2], dtype=L.int8), 128),
    (lambda L: L.tensor([1, 2], dtype=L.int32), 2 ** 31),
    (lambda L: L.tensor([1.0, 2.0], dtype=L.float16), 1e5),
    (lambda L: L.tensor([1.0, 2.0], dtype=L.bfloat16), 1e39),
    (lambda L: L.tensor([True, False]), -3),
]

ALLOWED_POWERS = [
    (lambda L: L.tensor([1, 2], dtype=L.int8), 127),
    (lambda L: L.tensor([1, 2], dtype=L.uint8), 300.0),
    (lambda L: L.tensor([1.0, 2.0]), 1e39),
    (lambda L: L.tensor([True, False]), 300),
    (lambda L: L.tensor([1, 2], dtype=L.int32), 2.5),
]


def _torch_error(fn):
    with pytest.raises(RuntimeError) as caught:
        fn()
    return str(caught.value)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name, make", CONTRACTIONS)
def test_contractions_refuse_an_input_of_another_dtype(name, make, compiled):
    message = _torch_error(lambda: getattr(torch, name)(*make(torch)))
    fn = getattr(graphnet, name)
    with pytest.raises(RuntimeError) as caught:
        (graphnet.compile(fn) if compiled else fn)(*make(graphnet))
    assert message in str(caught.value)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("make, exponent", POWERS)
def test_an_exponent_that_does_not_fit_raises(make, exponent, compiled):
    message = _torch_error(lambda: make(torch) ** exponent)
    fn = (lambda x: x ** exponent)
    with pytest.raises(RuntimeError) as caught:
        (graphnet.compile(fn) if compiled else fn)(make(graphnet))
    assert message in str(caught.value)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("make, exponent", ALLOWED_POWERS)
def test_exponents_torch_accepts_still_run(make, exponent, compiled):
    want = make(torch) ** exponent
    fn = (lambda x: x ** exponent)
    got = (graphnet.compile(fn) if compiled else fn)(make(graphnet))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == want.tolist()


def test_same_dtype_contractions_still_run():
    got = graphnet.addmm(graphnet.ones(2, 2, dtype=graphnet.float64),
                         graphnet.ones(2, 2, dtype=graphnet.float64),
                         graphnet.ones(2, 2, dtype=graphnet.float64), beta=2)
    assert got.tolist() == [[4.0, 4.0], [4.0, 4.0]]
