"""`graphnet.testing.assert_close` decides and words its verdicts as torch.testing's does:
integers exactly (int64 values past 2**53 compared as float64 passed), None pairs, mixed
dtypes with check_dtype=False at the looser dtype's tolerance, check_stride, a callable msg,
the item of a nested input that failed. Also: finfo/iinfo of the wrong kind of dtype and
`ints &= 1.5` raise torch's exception types."""

import numpy as np
import pytest
import torch

import graphnet


def _verdict(lib, actual, expected, **options):
    try:
        lib.testing.assert_close(actual, expected, **options)
        return "pass"
    except (AssertionError, TypeError, ValueError) as error:
        text = str(error).replace("torch.", "").replace("graphnet.", "")
        return f"{type(error).__name__}: {text}"


def _nan():
    return float("nan")


CASES = {
    "big ints": lambda T: (T.tensor([2**53 + 1]), T.tensor([2**53])),
    "ints": lambda T: (T.tensor([1, 2, 3]), T.tensor([1, 2, 4])),
    "bools": lambda T: (T.tensor([True, False]), T.tensor([True, True])),
    "floats": lambda T: (T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 2.5, 3.0])),
    "2-d": lambda T: (T.ones(2, 3), T.ones(2, 3).index_fill(1, T.tensor([2]), 1.5)),
    "0-d": lambda T: (T.tensor(1.0), T.tensor(1.1)),
    "nan": lambda T: (T.tensor([_nan()]), T.tensor([_nan()])),
    "shape": lambda T: (T.ones(2), T.ones(3)),
    "dtype": lambda T: (T.ones(2), T.ones(2, dtype=T.float64)),
    "None pair": lambda T: (None, None),
    "one None": lambda T: (None, T.tensor([1.0])),
    "nested": lambda T: ([T.tensor(1.0), {"w": T.tensor([1.0, 2.0])}],
                         [T.tensor(1.0), {"w": T.tensor([1.0, 2.5])}]),
    "keys": lambda T: ({"a": 1}, {"b": 1}),
    "lengths": lambda T: ([1, 2], [1]),
    "python floats": lambda T: (1.0, 1.1),
    "python ints": lambda T: (1, 2),
    "int and float": lambda T: (1, 1.0),
    "booleans": lambda T: (True, False),
    "strings": lambda T: ("a", "a"),
    "arrays": lambda T: (np.array([1.0, 2.0]), np.array([1.0, 3.0])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_verdicts_and_messages_match_torch(case):
    assert _verdict(graphnet, *CASES[case](graphnet)) == _verdict(torch, *CASES[case](torch))


OPTIONS = {
    "mixed dtypes": (dict(check_dtype=False),
                     lambda T: (T.tensor([1.0004]), T.tensor([1.0], dtype=T.float16))),
    "int beside float": (dict(check_dtype=False), lambda T: (T.tensor([1]), T.tensor([1.000001]))),
    "strides": (dict(check_stride=True), lambda T: (T.ones(2, 3).t(), T.ones(3, 2))),
    "callable msg": (dict(msg=lambda m: "mine: " + m), lambda T: (T.tensor([1.0]), T.tensor([2.0]))),
    "string msg": (dict(msg="plain"), lambda T: ([T.tensor([1.0])], [T.tensor([2.0])])),
    "equal nan": (dict(equal_nan=True), lambda T: (T.tensor([_nan()]), T.tensor([_nan()]))),
    "tolerances": (dict(rtol=0.0, atol=0.6), lambda T: (T.tensor([1.0]), T.tensor([1.5]))),
    "rtol alone": (dict(rtol=0.1), lambda T: (T.tensor([1.0]), T.tensor([1.0]))),
}


@pytest.mark.parametrize("case", sorted(OPTIONS))
def test_options_match_torch(case):
    options, make = OPTIONS[case]
    assert _verdict(graphnet, *make(graphnet), **options) == \
        _verdict(torch, *make(torch), **options)


def test_a_tensor_beside_a_number_is_no_comparison_pair():
    with pytest.raises(TypeError, match="No comparison pair"):
        graphnet.testing.assert_close(graphnet.tensor(1.0), 1.0)


@pytest.mark.parametrize("make", [lambda T: T.finfo(T.int32), lambda T: T.finfo(T.bool),
                                  lambda T: T.iinfo(T.float32), lambda T: T.iinfo(T.bool)])
def test_info_of_the_wrong_kind_of_dtype_is_a_type_error(make):
    with pytest.raises(TypeError) as want:
        make(torch)
    with pytest.raises(TypeError) as got:
        make(graphnet)
    assert str(got.value) == str(want.value)
    assert graphnet.iinfo(graphnet.uint8).max == 255


@pytest.mark.parametrize("op", ["__iand__", "__ior__", "__ixor__", "__ilshift__",
                                "__irshift__", "bitwise_and_"])
@pytest.mark.parametrize("other", [lambda T: 1.5, lambda T: T.tensor([1.5, 2.0])])
def test_bitwise_in_place_with_a_float_is_refused_for_the_cast(op, other):
    for T in (torch, graphnet):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the "
                                               "desired output type Long"):
            getattr(T.tensor([1, 2]), op)(other(T))
    with pytest.raises(NotImplementedError):
        graphnet.tensor([1.0]).__iand__(1)
