"""Everyday calls with bad arguments raise what PyTorch raises, in its words, where graphnet
once returned plausible results (a split whose sections do not add up dropped the rest, a
flatten past the last dimension flattened everything, a repeat with too few sizes padded
them, a convolution over an input smaller than its kernel returned an empty tensor) or
raised another type (chunk(0) divided by zero)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

CASES = {
    "split sections short": lambda lib: lib.ones(2, 3).split([1, 1], 1),
    "split sections long": lambda lib: lib.ones(2, 3).split([2, 2], 1),
    "split negative section": lambda lib: lib.ones(2, 3).split([2, -1, 2], 1),
    "split size 0": lambda lib: lib.ones(2, 3).split(0, 1),
    "split size negative": lambda lib: lib.ones(2, 3).split(-1, 1),
    "split dim": lambda lib: lib.ones(2, 3).split(2, 3),
    "chunk 0": lambda lib: lib.ones(2, 3).chunk(0),
    "chunk negative": lambda lib: lib.ones(2, 3).chunk(-2),
    "chunk dim": lambda lib: lib.ones(2, 3).chunk(2, -3),
    "flatten start": lambda lib: lib.ones(2, 3).flatten(2),
    "flatten order": lambda lib: lib.ones(2, 3, 4).flatten(2, 1),
    "flatten 0-d": lambda lib: lib.tensor(1.0).flatten(1),
    "repeat too few": lambda lib: lib.ones(2, 3).repeat(2),
    "conv2d small input": lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 4, 2),
                                                               lib.ones(2, 3, 3, 3)),
    "conv2d dilated": lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 4, 4),
                                                           lib.ones(2, 3, 3, 3), dilation=2),
    "conv1d small input": lambda lib: lib.nn.functional.conv1d(lib.ones(1, 3, 2),
                                                               lib.ones(2, 3, 3)),
}


def _errors(call):
    """(torch's exception, graphnet's) for `call(lib)`; graphnet's is of torch's type."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(graphnet)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value), type(theirs.value))
    return theirs.value, ours.value


@pytest.mark.parametrize("name", list(CASES))
def test_bad_arguments_raise_torchs_error(name):
    theirs, ours = _errors(CASES[name])
    assert str(theirs).splitlines()[0] in str(ours)


FINE = {
    "split sections": lambda lib: lib.ones(2, 3).split([1, 2], -1),
    "split size": lambda lib: lib.ones(7).split(3),
    "split empty": lambda lib: lib.ones(2, 0).split(1, 1),
    "split empty sections": lambda lib: lib.ones(2, 0).split([0, 0], 1),
    "split empty by 0": lambda lib: lib.ones(2, 0).split(0, 1),
    "chunk uneven": lambda lib: lib.ones(6).chunk(4),
    "chunk more than size": lambda lib: lib.ones(7).chunk(10),
    "chunk empty": lambda lib: lib.ones(2, 0).chunk(3, 1),
    "flatten 0-d": lambda lib: lib.tensor(1.0).flatten(-1, 0),
    "flatten one dim": lambda lib: lib.ones(2, 3).flatten(0, 0),
    "repeat more": lambda lib: lib.ones(2, 3).repeat(2, 1, 3),
    "conv2d padded": lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 4, 2),
                                                          lib.ones(2, 3, 3, 3), padding=1),
}


@pytest.mark.parametrize("name", list(FINE))
def test_the_same_calls_within_bounds_give_torchs_shapes(name):
    def shapes(result):
        return [tuple(r.shape) for r in result] if isinstance(result, tuple) \
            else tuple(result.shape)
    assert shapes(FINE[name](graphnet)) == shapes(FINE[name](torch))


def test_a_shape_error_is_a_runtime_error_as_in_torch():
    """Code written for PyTorch catches shape mistakes with `except RuntimeError`."""
    layer = graphnet.nn.Linear(3, 2)
    with pytest.raises(RuntimeError):
        layer(graphnet.ones(2, 4))
    with pytest.raises(graphnet.ShapeError, match="Linear"):
        layer(graphnet.ones(2, 4))


# integer-only inputs given floats: PyTorch raises a RuntimeError (an IndexError for x[idx]);
# graphnet's DtypeError says which op and how to fix it, and is a TypeError and RuntimeError
DTYPE_CASES = {
    "embedding float indices": lambda lib: lib.nn.functional.embedding(lib.tensor([0.0, 1.0]),
                                                                       lib.ones(3, 2)),
    "cross_entropy float labels": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(4, 3), lib.tensor([0.0, 1.0, 2.0, 0.0])),
    "nll_loss float labels": lambda lib: lib.nn.functional.nll_loss(
        lib.ones(4, 3), lib.tensor([0.0, 1.0, 2.0, 0.0])),
    "one_hot float": lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0])),
    "index with a float tensor": lambda lib: lib.ones(3)[lib.tensor([0.0])],
    "index with a 0-d float tensor": lambda lib: lib.ones(3)[lib.tensor(0.0)],
    "assign at a float tensor": lambda lib: lib.ones(3).__setitem__(lib.tensor([0.0]), 1.0),
}


@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_float_indices_and_labels_raise_torchs_exception_type(name):
    theirs, ours = _errors(DTYPE_CASES[name])
    if isinstance(theirs, IndexError):
        assert str(ours) == str(theirs)
    else:
        assert isinstance(ours, graphnet.DtypeError)


@pytest.mark.parametrize("call", ["x.sum(())", "x.mean([])", "x.amax(())", "x.amin([])",
                                  "x.std(())", "x.var(())", "x.nansum(())", "x.nanmean(())",
                                  "x.norm(dim=())", "lib.count_nonzero(x, ())",
                                  "x.sum((), keepdim=True)", "x.flip(())", "x.squeeze(())"])
def test_an_empty_dim_list_reduces_every_dimension_as_in_torch(call):
    """A reduction over `dim=()` or `[]` is over all dimensions in PyTorch; graphnet returned
    the input unchanged. flip and squeeze with no dims change nothing, in both."""
    def run(lib):
        out = eval(call, {"x": lib.arange(6.0).reshape(2, 3), "lib": lib})
        return tuple(out.shape), np.asarray(out.detach().numpy(), np.float64)

    (want_shape, want), (got_shape, got) = run(torch), run(graphnet)
    assert got_shape == want_shape
    np.testing.assert_allclose(got, want, rtol=1e-6)
    step = graphnet.compile(lambda x: eval(call, {"x": x, "lib": graphnet}))
    np.testing.assert_allclose(step(graphnet.arange(6.0).reshape(2, 3)).numpy(), want, rtol=1e-6)


PROMOTIONS = {
    "where of two floats": lambda lib, c: lib.where(c, 1.0, 0),
    "where of a bool and an int": lambda lib, c: lib.where(c, True, 0),
    "where of two ints": lambda lib, c: lib.where(c, 1, 2),
    "where with a 0-d tensor": lambda lib, c: lib.where(c, lib.tensor([1.0, 2.0],
                                                                      dtype=lib.float16),
                                                        lib.tensor(2.0)),
    "where with a 0-d int tensor": lambda lib, c: lib.where(c, lib.tensor([1, 2]).int(),
                                                            lib.tensor(5)),
    "int clamped to floats": lambda lib, c: lib.tensor([1, 2]).clamp(0.5, 1.5),
    "int clamped to ints": lambda lib, c: lib.tensor([1, 2]).clamp(0, 1),
    "half clamped to a float": lambda lib, c: lib.tensor([1.0, 2.0], dtype=lib.float16
                                                         ).clamp(0.5),
    "int filled with a float": lambda lib, c: lib.tensor([1, 5]).masked_fill(c, -2.7),
    "int filled with an int": lambda lib, c: lib.tensor([1, 5]).masked_fill(c, 3),
}


@pytest.mark.parametrize("name", list(PROMOTIONS))
def test_result_dtypes_and_values_follow_torchs_promotion(name):
    """where of Python numbers gave float64, a 0-d tensor widened where's other operand, an
    integer tensor clamped to a float gave float64, masked_fill promoted an integer tensor
    (2.7 stayed 2.7, torch holds 2); eager and compiled."""
    want = PROMOTIONS[name](torch, torch.tensor([True, False]))
    step = graphnet.compile(lambda c: PROMOTIONS[name](graphnet, c))
    for got in (PROMOTIONS[name](graphnet, graphnet.tensor([True, False])),
                step(graphnet.tensor([True, False]))):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        assert got.tolist() == want.tolist()
