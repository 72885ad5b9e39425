"""`graphnet.binomial` (torch.binomial: float draws in [0, count], the edge values PyTorch's
sampler returns before drawing, its dtype errors and its backward error) and
`reversed(tensor)` (PyTorch's `Tensor.__reversed__`: a flipped tensor, a 0-d tensor itself)."""

import numpy as np
import pytest
from parity import np_of, torch

import graphnet


def test_binomial_mean_variance_and_range():
    n, p = 7.0, 0.3
    draws = np_of(graphnet.binomial(graphnet.full((100_000,), n), graphnet.full((100_000,), p)))
    assert draws.dtype == np.float32
    assert set(np.unique(draws)) <= set(range(8)) and draws.max() == 7.0
    assert abs(draws.mean() - n * p) < 0.02 and abs(draws.var() - n * p * (1 - p)) < 0.03
    counts = graphnet.tensor([[5.0], [50.0]], dtype=graphnet.float64)
    wide = graphnet.binomial(counts.expand(2, 20_000), graphnet.tensor([0.9], dtype=graphnet.float64))
    assert wide.dtype == graphnet.float64 and wide.shape == (2, 20_000)   # broadcast, as torch
    np.testing.assert_allclose(np_of(wide).mean(1), [4.5, 45.0], rtol=0.01)
    assert (np_of(wide)[0] <= 5).all() and (np_of(wide)[1] <= 50).all()


def test_binomial_edge_values_match_pytorch():
    count = [10.0, 20.0, -1.0, 0.0, 5.0, 5.0, 5.0, 0.0]
    prob = [1.5, -0.5, 0.5, 0.5, float("nan"), 0.0, 1.0, float("nan")]
    ours = np_of(graphnet.binomial(graphnet.tensor(count), graphnet.tensor(prob)))
    theirs = np_of(torch.binomial(torch.tensor(count), torch.tensor(prob)))
    np.testing.assert_array_equal(ours, theirs)   # NaN where prob is NaN and count > 0


def test_binomial_generator_and_errors():
    count, prob = graphnet.full((6,), 9.0), graphnet.full((6,), 0.5)
    gen = graphnet.Generator().manual_seed(3)
    first = np_of(graphnet.binomial(count, prob, gen))
    gen.manual_seed(3)
    np.testing.assert_array_equal(np_of(graphnet.binomial(count, prob, generator=gen)), first)
    for lib in (graphnet, torch):
        with pytest.raises(ValueError, match="floating-point dtypes for count, got: Long"):
            lib.binomial(lib.tensor([1, 2]), lib.tensor([0.5, 0.5]))
        with pytest.raises(RuntimeError, match="Found dtype Float but expected Double"):
            lib.binomial(lib.tensor([1.0], dtype=lib.float64), lib.tensor([0.5]))
        with pytest.raises(NotImplementedError, match="\"binomial_cpu\" not implemented for "
                                                      "'Half'"):
            lib.binomial(lib.tensor([1.0], dtype=lib.float16),
                         lib.tensor([0.5], dtype=lib.float16))


def test_binomial_backward_raises_as_pytorch():
    for lib in (graphnet, torch):
        prob = lib.tensor([0.5, 0.2], requires_grad=True)
        sample = lib.binomial(lib.tensor([3.0, 4.0]), prob)
        assert sample.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::binomial is not "
                                               "implemented"):
            (sample.sum() + (prob * prob).sum()).backward()
        with lib.no_grad():
            assert not lib.binomial(lib.tensor([3.0]), lib.tensor([0.5],
                                                                  requires_grad=True)).requires_grad


def test_binomial_compiled():
    fn = graphnet.compile(lambda c, p: graphnet.binomial(c, p))
    draws = np_of(fn(graphnet.full((20_000,), 4.0), graphnet.full((20_000,), 0.25)))
    assert set(np.unique(draws)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert abs(draws.mean() - 1.0) < 0.05


def test_reversed_flips_dimension_zero():
    data = np.arange(6).reshape(3, 2)
    ours, theirs = reversed(graphnet.tensor(data)), reversed(torch.tensor(data))
    assert isinstance(ours, graphnet.Tensor) and isinstance(theirs, torch.Tensor)
    np.testing.assert_array_equal(np_of(ours), np_of(theirs))
    scalar, tscalar = graphnet.tensor(3.0), torch.tensor(3.0)
    assert reversed(scalar) is scalar and reversed(tscalar) is tscalar
    x = graphnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (reversed(x) * graphnet.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(np_of(x.grad), [100.0, 10.0, 1.0])
    flipped = graphnet.compile(lambda t: reversed(t) * 2)(graphnet.tensor(data))
    np.testing.assert_array_equal(np_of(flipped), data[::-1] * 2)
