"""histc, histogram and histogramdd against PyTorch: values and bin edges bit for bit, the
data's own range (histc's min == max), empty inputs, non-finite data or ranges, argument
errors with PyTorch's types and messages, and compiled calls (a NaN in a value the program
computes raises after the call)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from parity import torch

import graphnet

NAN, INF = float("nan"), float("inf")


def _both(fn):
    """fn(torch) and fn(graphnet), or the (type, message) each raised."""
    out = []
    for lib in (torch, graphnet):
        try:
            out.append(fn(lib))
        except Exception as err:   # noqa: BLE001  (compared below)
            out.append((type(err), str(err)))
    return out


def _same_error(fn, message=None):
    theirs, ours = _both(fn)
    assert isinstance(theirs, tuple) and isinstance(ours, tuple), (theirs, ours)
    assert ours[0] is theirs[0], (theirs, ours)
    if message is None:
        assert ours[1] == theirs[1]
    else:   # NOTE: PyTorch prints a NaN from the data as nan or -nan, as its kernel found it
        assert re.fullmatch(message, ours[1]) and re.fullmatch(message, theirs[1]), \
            (theirs, ours)


def _exact(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _exact(a, b)
        return
    expected = theirs.numpy()
    got = np.asarray(ours._value)
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got, expected)
    np.testing.assert_array_equal(got, expected)


def _same(fn):
    theirs, ours = _both(fn)
    assert not isinstance(theirs, tuple) or not isinstance(theirs[0], type), theirs
    _exact(ours, theirs)


# ---- histc: the data's range when min == max ---------------------------------------------

@pytest.mark.parametrize("data, low, high", [
    ([1.0, 2.0, 5.0, 7.0], 3.0, 3.0),      # min == max != 0: the data's own min and max
    ([2.0, 2.0, 2.0], 3.0, 3.0),           # all equal data: widened to [1, 3]
    ([2.0, 2.0, 2.0], 0, 0),
    ([0.0, 0.3, 0.5], INF, INF),           # an infinite min == max is replaced too
    ([], 3.0, 3.0),
    ([], 0, 0),
    ([1.0, 2.0, 1.5, 1.7, 0.3], 0, 0),
    ([0.1, 0.2, 0.3, 0.7, 0.9, 1.0], 0.1, 0.9),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_range_as_pytorch(data, low, high, dtype):
    _same(lambda T: T.histc(T.tensor(data, dtype=getattr(T, dtype)), bins=4, min=low,
                            max=high))


def test_histc_bins_match_pytorch_at_the_edges():
    rng = np.random.default_rng(0)
    for bins in (3, 7, 10, 13):
        data = np.round(rng.standard_normal(40), 1).astype(np.float32)
        _same(lambda T: T.histc(T.tensor(data), bins=bins))
        _same(lambda T: T.histc(T.tensor(data), bins=bins, min=-1.0, max=0.7))


@pytest.mark.parametrize("data, low, high, message", [
    ([1.0, NAN], 0, 0, r"torch.histc: range of \[-?nan, -?nan\] is not finite"),
    ([1.0, INF], 0, 0, r"torch.histc: range of \[1, inf\] is not finite"),
    ([-INF, 1.0], 2.0, 2.0, r"torch.histc: range of \[-inf, 1\] is not finite"),
    ([1.0, 2.0], 0, INF, r"torch.histc: range of \[0, inf\] is not finite"),
    ([1.0, 2.0], NAN, 1, r"torch.histc: range of \[nan, 1\] is not finite"),
    ([1.0, 2.0], INF, 1, r"torch.histc: range of \[inf, 1\] is not finite"),
    ([1.0, 2.0], NAN, NAN, r"torch.histc: range of \[nan, nan\] is not finite"),
    ([1.0, 2.0], 2, 1, r"torch.histc: max must be larger than min"),
])
def test_histc_of_a_non_finite_range_raises_as_pytorch(data, low, high, message):
    _same_error(lambda T: T.histc(T.tensor(data), bins=4, min=low, max=high), message)


def test_histc_ignores_nan_data_inside_a_given_range():
    _same(lambda T: T.histc(T.tensor([1.0, NAN, 2.5]), bins=3, min=0, max=3))


# ---- histogram ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda T: T.histogram(T.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0),
                          weight=T.tensor([1.0, 2.0, 4.0]), density=True),
    lambda T: T.histogram(T.tensor([1.0, 2.0, 1.5, 1.7, 0.3]), bins=7),
    lambda T: T.histogram(T.tensor([2.0, 2.0]), bins=3),                       # widened by .5
    lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=3, range=(1.0, 1.0)),
    lambda T: T.histogram(T.tensor(2.0), bins=3),
    lambda T: T.histogram(T.ones(2, 2), 3, weight=T.ones(4, 1)),              # both flattened
    lambda T: T.histogram(T.ones(1), 3, weight=T.tensor(2.0)),
    lambda T: T.histogram(T.tensor([0.5, 1.0, 3.0]), bins=T.tensor([0.0, 1.0, 3.0])),
    lambda T: T.histogram(T.tensor([1.0, NAN]), bins=4, range=(0.0, 3.0)),    # NaN: no bin
    lambda T: T.histogram(T.tensor([1.0, 5.0], dtype=T.float64), bins=5),
])
def test_histogram_as_pytorch(call):
    _same(lambda T: tuple(call(T)))


@pytest.mark.parametrize("call", [
    lambda T: T.histogram(T.tensor([]), bins=4),                  # edges 0..1, zeros
    lambda T: T.histogram(T.tensor([]), bins=4, range=(1.0, 3.0)),
    lambda T: T.histogram(T.tensor([]), bins=4, density=True),    # 0 / 0: NaN
    lambda T: T.histogram(T.tensor([]), bins=T.tensor([0.0, 1.0, 2.0])),
    lambda T: T.histogram(T.tensor([]), bins=4, weight=T.tensor([])),
    lambda T: T.histogram(T.zeros(0, 3, dtype=T.float64), bins=2),
])
def test_histogram_of_an_empty_input_as_pytorch(call):
    _same(lambda T: tuple(call(T)))


@pytest.mark.parametrize("call, message", [
    (lambda T: T.histogram(T.tensor([1.0, NAN]), bins=4),
     r"torch.histogramdd: dimension 0's range \[-?nan, -?nan\] is not finite"),
    (lambda T: T.histogram(T.tensor([1.0, INF]), bins=4),
     r"torch.histogramdd: dimension 0's range \[1, inf\] is not finite"),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=4, range=(0.0, INF)), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=4, range=(NAN, 1.0)), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=4, range=(3.0, 1.0)), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=0), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=-1), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), bins=3, range=(0.0, 1.0, 2.0)), None),
    (lambda T: T.histogram(T.tensor([1, 2]), bins=4), None),                 # "histogramdd"
    (lambda T: T.histogram(T.tensor([1, 2]), bins=4, range=(0.0, 1.0)), None),   # "_cpu"
    (lambda T: T.histogram(T.tensor([1.0, 2.0], dtype=T.float16), bins=4), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([0.0, 1.0], dtype=T.float64)),
     None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([[0.0, 1.0]])), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([0.0])), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), T.tensor([])), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), 3, weight=T.tensor([1.0])), None),
    (lambda T: T.histogram(T.tensor([1.0, 2.0]), 3, weight=T.tensor([1, 2])), None),
])
def test_histogram_errors_as_pytorch(call, message):
    _same_error(call, message)


def test_histogram_bins_of_a_wrong_type_raise_type_errors():
    for bins in (3.5, True, None):
        with pytest.raises(TypeError):
            torch.histogram(torch.tensor([1.0]), bins)
        with pytest.raises(TypeError):
            graphnet.histogram(graphnet.tensor([1.0]), bins)


def test_bin_edges_match_pytorch_bit_for_bit():
    # NOTE: PyTorch's linspace rounds `start + step * i` once (an FMA); edges one ulp off
    # would put a value on an edge in the wrong bin
    rng = np.random.default_rng(1)
    for _trial in range(12):
        bins = int(rng.integers(1, 14))
        data = (rng.standard_normal(30) * 10 ** rng.uniform(-2, 3)).astype(np.float64)
        for dtype in ("float32", "float64"):
            x = data.astype(dtype)
            _same(lambda T: tuple(T.histogram(T.tensor(x), bins=bins)))
            low, high = sorted((float(x[0]), float(x[1]) + 5.0))
            _same(lambda T: tuple(T.histogram(T.tensor(x), bins=bins, range=(low, high))))


# ---- histogramdd -------------------------------------------------------------------------

_POINTS = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0]]


@pytest.mark.parametrize("call", [
    lambda T, x: T.histogramdd(x, bins=[3, 3]),
    lambda T, x: T.histogramdd(x, bins=2),
    lambda T, x: T.histogramdd(x, bins=(2, 3)),
    lambda T, x: T.histogramdd(x, bins=[3, 3], weight=T.tensor([1.0, 2.0, 4.0, 8.0])),
    lambda T, x: T.histogramdd(x, bins=[2, 2], range=[0.0, 1.0, 0.0, 1.0], density=True),
    lambda T, x: T.histogramdd(x, [2, 2], range=[0.0, 1.0, 1.0, 1.0]),
    lambda T, x: T.histogramdd(x, [2, 2], weight=T.tensor([1.0, 2.0, 3.0, 4.0]),
                               density=True),
    lambda T, x: T.histogramdd(x, [T.tensor([0.0, 1.0]), T.tensor([0.0, 1.0, 2.5])],
                               density=True),
    lambda T, x: T.histogramdd(x, (T.tensor([0.0, 2.0]), T.tensor([0.0, 2.0])),
                               range=[0.0, 1.0, 0.0, 1.0]),      # range: unused with edges
    lambda T, x: T.histogramdd(T.zeros(0, 2), 2),
    lambda T, x: T.histogramdd(T.zeros(0, 2), 2, density=True),
    lambda T, x: T.histogramdd(T.zeros(2, 3, 2), 2),              # leading dims flattened
    lambda T, x: T.histogramdd(x.double(), [4, 1]),
])
def test_histogramdd_as_pytorch(call):
    theirs, ours = _both(lambda T: call(T, T.tensor(_POINTS)))
    _exact(ours.hist, theirs.hist)
    assert type(ours.bin_edges) is tuple
    _exact(ours.bin_edges, theirs.bin_edges)


def test_histogramdd_of_points_in_no_dimensions():
    theirs, ours = _both(lambda T: T.histogramdd(T.zeros(3, 0), 2))
    _exact(ours.hist, theirs.hist)
    assert ours.bin_edges == theirs.bin_edges == ()


def test_histogramdd_of_random_points_as_pytorch():
    rng = np.random.default_rng(2)
    points = rng.standard_normal((50, 3)).astype(np.float32)
    weight = rng.uniform(0, 1, 50).astype(np.float32)
    theirs, ours = _both(lambda T: T.histogramdd(T.tensor(points), [5, 3, 4],
                                                 weight=T.tensor(weight), density=True))
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-6)
    _exact(ours.bin_edges, theirs.bin_edges)


@pytest.mark.parametrize("call, message", [
    (lambda T, x: T.histogramdd(x, [2]), None),
    (lambda T, x: T.histogramdd(x, [2, 0]), None),
    (lambda T, x: T.histogramdd(x, 0), None),
    (lambda T, x: T.histogramdd(x, [T.tensor([0.0, 1.0]), T.tensor([0.0])]), None),
    (lambda T, x: T.histogramdd(x, [T.tensor([0.0, 1.0])]), None),
    (lambda T, x: T.histogramdd(x, [2, 2], range=[0.0, 1.0]), None),
    (lambda T, x: T.histogramdd(x, [2, 2], range=[0.0, 1.0, 1.0, 0.0]), None),
    (lambda T, x: T.histogramdd(x, [2, 2], range=(1.0, 0.0, NAN, 1.0)), None),
    (lambda T, x: T.histogramdd(x, [2, 2], range=[0.0, 1.0, 1.0, INF]), None),
    (lambda T, x: T.histogramdd(x, [2, 2], weight=T.tensor([1.0, 2.0, 3.0])), None),
    (lambda T, x: T.histogramdd(x, 2, weight=T.ones(4, 1)), None),
    (lambda T, x: T.histogramdd(x[0], 2), None),
    (lambda T, x: T.histogramdd(x.long(), 2), None),
    (lambda T, x: T.histogramdd(x.double(), [T.tensor([0.0, 1.0]), T.tensor([0.0, 1.0])]),
     None),
    (lambda T, x: T.histogramdd(T.tensor([[1.0, NAN]]), 2),
     r"torch.histogramdd: dimension 1's range \[-?nan, -?nan\] is not finite"),
])
def test_histogramdd_errors_as_pytorch(call, message):
    _same_error(lambda T: call(T, T.tensor(_POINTS)), message)


# ---- compiled ----------------------------------------------------------------------------

def test_compiled_histograms_equal_eager_ones():
    def fn(x):
        return (graphnet.histc(x * 2, bins=5, min=3.0, max=3.0),
                *graphnet.histogram(x, bins=4),
                graphnet.histogramdd(x.reshape(-1, 2), bins=[2, 3]).hist)

    x = graphnet.tensor([0.5, 1.5, 2.0, 3.25, 0.75, 1.0])
    compiled = graphnet.compile(fn)
    for got, want in zip(compiled(x), fn(x)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    tx = torch.tensor([0.5, 1.5, 2.0, 3.25, 0.75, 1.0])
    np.testing.assert_array_equal(compiled(x)[0].numpy(),
                                  torch.histc(tx * 2, bins=5, min=3.0, max=3.0).numpy())


def test_compiled_histc_of_computed_nan_raises_pytorchs_error():
    compiled = graphnet.compile(lambda x: graphnet.histc(x.log(), bins=3))
    np.testing.assert_array_equal(compiled(graphnet.tensor([1.0, 2.0])).numpy(), [1, 0, 1])
    with pytest.raises(RuntimeError, match=r"torch.histc: range of \[-?nan, .*is not finite"):
        compiled(graphnet.tensor([-1.0, 2.0]))
    on_input = graphnet.compile(lambda x: graphnet.histogram(x, bins=3).hist)
    with pytest.raises(RuntimeError, match=r"dimension 0's range \[1, inf\] is not finite"):
        on_input(graphnet.tensor([1.0, INF]))
