"""0-d tensors and empty tensors against torch 2.13, eager and compiled: a 0-d tensor takes
dim 0 and -1 (reductions, softmax, flip, squeeze, transpose give 0-d results); reducing a
non-empty dim of an empty tensor gives empty results; max/argmax/median/mode/kthvalue over an
empty dim raise torch's IndexError; reshape with a -1 among zeros, chunk/split of a 0-d
tensor and a Python complex number raise torch's (or a clear) error, not a JAX one."""

import numpy as np
import pytest
import torch

import graphnet as G


def _arrays(out):
    """A result (tensor, named tuple, tuple) as a list of (shape, dtype name, values)."""
    outs = out if isinstance(out, tuple) else (out,)
    return [(tuple(t.shape), str(t.dtype).split(".")[-1], np.asarray(t.detach().numpy()))
            for t in outs]


def _same(fn, make):
    want = _arrays(fn(torch, make(torch)))
    for compiled in (False, True):
        x = make(G)
        got = _arrays(G.compile(lambda t: fn(G, t))(x) if compiled else fn(G, x))
        assert len(got) == len(want)
        for (gs, gd, gv), (ws, wd, wv) in zip(got, want):
            assert (gs, gd) == (ws, wd), (compiled, gs, gd, ws, wd)
            np.testing.assert_allclose(gv, wv, rtol=1e-6, atol=1e-6, equal_nan=True)


def _raises(fn, make):
    """graphnet raises torch's exception type with torch's message, eager and compiled."""
    with pytest.raises(Exception) as want:
        fn(torch, make(torch))
    for compiled in (False, True):
        run = G.compile(lambda t: fn(G, t)) if compiled else (lambda t: fn(G, t))
        with pytest.raises(type(want.value)) as got:
            run(make(G))
        assert str(want.value).splitlines()[0] in str(got.value), (compiled, got.value)


SCALAR = lambda lib: lib.tensor(3.5)   # noqa: E731
ZERO_DIM = {
    "softmax": lambda T, x: x.softmax(0),
    "log_softmax": lambda T, x: x.log_softmax(-1),
    "flip": lambda T, x: x.flip(0),
    "flip_tuple": lambda T, x: x.flip((-1,)),
    "squeeze": lambda T, x: x.squeeze(0),
    "squeeze_tuple": lambda T, x: x.squeeze((-1,)),
    "min": lambda T, x: x.min(0),
    "max_keepdim": lambda T, x: x.max(-1, keepdim=True),
    "amax": lambda T, x: x.amax(-1),
    "amin_keepdim": lambda T, x: x.amin(0, keepdim=True),
    "argmax": lambda T, x: x.argmax(0),
    "argmin": lambda T, x: x.argmin(-1),
    "logsumexp": lambda T, x: x.logsumexp(0),
    "var": lambda T, x: x.var(0),
    "var_biased": lambda T, x: x.var(0, unbiased=False),
    "std": lambda T, x: x.std(0, correction=0),
    "std_mean": lambda T, x: T.std_mean(x, 0),
    "norm": lambda T, x: x.norm(dim=0),
    "vector_norm": lambda T, x: T.linalg.vector_norm(x, dim=0),
    "normalize": lambda T, x: T.nn.functional.normalize(x, dim=0),
    "prod": lambda T, x: x.prod(0),
    "sum": lambda T, x: x.sum(0),
    "sum_tuple": lambda T, x: x.sum((-1,), keepdim=True),
    "mean": lambda T, x: x.mean(0),
    "count_nonzero": lambda T, x: x.count_nonzero(0),
    "all": lambda T, x: x.all(0),
    "any": lambda T, x: x.any(-1),
    "aminmax": lambda T, x: x.aminmax(dim=0),
    "cumsum": lambda T, x: x.cumsum(0),
    "cumprod": lambda T, x: x.cumprod(0),
    "sort": lambda T, x: x.sort(0),
    "topk": lambda T, x: x.topk(1, 0),
    "topk_zero": lambda T, x: x.topk(0, 0),
    "unsqueeze": lambda T, x: x.unsqueeze(-1),
    "transpose": lambda T, x: x.transpose(0, -1),
    "swapaxes": lambda T, x: x.swapaxes(0, 0),
    "gather": lambda T, x: x.gather(0, T.tensor(0)),
    "median": lambda T, x: x.median(0),
    "mode": lambda T, x: x.mode(0),
    "kthvalue": lambda T, x: x.kthvalue(1, 0),
}


@pytest.mark.parametrize("name", ZERO_DIM)
def test_zero_dim_takes_dim_0_and_minus_1(name):
    _same(ZERO_DIM[name], SCALAR)


ZERO_DIM_ERRORS = {
    "sum_dim_1": lambda T, x: x.sum(1),
    "softmax_dim_1": lambda T, x: x.softmax(1),
    "amax_dim_minus_2": lambda T, x: x.amax(-2),
    "flip_dim_1": lambda T, x: x.flip(1),
    "squeeze_dim_1": lambda T, x: x.squeeze(1),
    "squeeze_twice": lambda T, x: x.squeeze((0, -1)),
    "flip_twice": lambda T, x: x.flip(0, -1),
    "transpose_dim_1": lambda T, x: x.transpose(0, 1),
    "chunk": lambda T, x: x.chunk(2),
    "split": lambda T, x: x.split(1),
    "roll_dim": lambda T, x: x.roll(1, 0),
    "unflatten": lambda T, x: x.unflatten(-1, (1,)),
    "renorm": lambda T, x: x.renorm(2, 0, 1.0),
}


@pytest.mark.parametrize("name", ZERO_DIM_ERRORS)
def test_zero_dim_errors_are_torchs(name):
    _raises(ZERO_DIM_ERRORS[name], SCALAR)


GRADIENTS = {
    "softmax": lambda T, x: x.softmax(0) * 3,
    "log_softmax": lambda T, x: x.log_softmax(-1) * 3,
    "logsumexp": lambda T, x: x.logsumexp(0) * 3,
    "max": lambda T, x: x.max(0).values * 3,
    "amax": lambda T, x: x.amax(-1) * 3,
    "prod": lambda T, x: x.prod(0) * 3,
    "mean": lambda T, x: x.mean(0) * 3,
    "norm": lambda T, x: x.norm(dim=0) * 3,
    "flip": lambda T, x: x.flip(0) * 3,
    "transpose": lambda T, x: x.transpose(0, -1) * 3,
    "squeeze": lambda T, x: x.squeeze(0) * 3,
}


def _grad(lib, fn, compiled):
    x = lib.tensor(-1.5, requires_grad=True)

    def step(t):
        fn(lib, t).backward()
    (G.compile(step) if compiled else step)(x)
    return x.grad.numpy()


@pytest.mark.parametrize("name", GRADIENTS)
def test_zero_dim_gradients(name):
    want = _grad(torch, GRADIENTS[name], False)
    for compiled in (False, True):
        np.testing.assert_allclose(_grad(G, GRADIENTS[name], compiled), want, rtol=1e-6,
                                   atol=1e-7)


EMPTY = lambda lib: lib.zeros(0, 3)   # noqa: E731
EMPTY_ROWS = {
    "aminmax": lambda T, x: x.aminmax(dim=1),
    "aminmax_keepdim": lambda T, x: x.aminmax(dim=1, keepdim=True),
    "max": lambda T, x: x.max(1),
    "argmax_keepdim": lambda T, x: x.argmax(1, keepdim=True),
    "sum": lambda T, x: x.sum(1),
    "softmax": lambda T, x: x.softmax(1),
    "logsumexp": lambda T, x: x.logsumexp(1),
    "cumsum": lambda T, x: x.cumsum(1),
    "median": lambda T, x: x.median(1),
    "mode": lambda T, x: x.mode(1),
    "kthvalue": lambda T, x: x.kthvalue(1, 1),
    "reshape": lambda T, x: x.reshape(-1, 2),
}


@pytest.mark.parametrize("name", EMPTY_ROWS)
def test_reducing_a_nonempty_dim_of_an_empty_tensor(name):
    _same(EMPTY_ROWS[name], EMPTY)


EMPTY_DIM_ERRORS = {
    "argmax": lambda T, x: x.argmax(),
    "argmin": lambda T, x: x.argmin(),
    "amax_all": lambda T, x: x.amax(),
    "max_0": lambda T, x: x.max(0),
    "min_0": lambda T, x: x.min(0, keepdim=True),
    "amax_0": lambda T, x: x.amax(0),
    "amin_tuple": lambda T, x: x.amin((1, 0)),
    "argmax_0": lambda T, x: x.argmax(0),
    "argmin_minus_2": lambda T, x: x.argmin(-2),
    "median_0": lambda T, x: x.median(0),
    "nanmedian_0": lambda T, x: x.nanmedian(0),
    "mode_0": lambda T, x: x.mode(0),
    "kthvalue_0": lambda T, x: x.kthvalue(1, 0),
    "aminmax_0": lambda T, x: x.aminmax(dim=0),
    "aminmax_all": lambda T, x: x.aminmax(),
    "reshape_0_minus_1": lambda T, x: x.reshape(0, -1),
    "view_minus_1_0": lambda T, x: x.view(-1, 0),
    "reshape_two_minus_1": lambda T, x: x.reshape(-1, -1),
}


@pytest.mark.parametrize("name", EMPTY_DIM_ERRORS)
def test_reducing_an_empty_dim_raises_torchs_error(name):
    _raises(EMPTY_DIM_ERRORS[name], EMPTY)


@pytest.mark.parametrize("fn", [lambda T, x: x.amax(1), lambda T, x: x.max(-1),
                                lambda T, x: x.argmax(1), lambda T, x: x.median(-1),
                                lambda T, x: x.kthvalue(1, 1)])
def test_reducing_the_empty_second_dim_raises_index_error(fn):
    with pytest.raises(IndexError):
        fn(torch, torch.zeros(3, 0))
    for compiled in (False, True):
        with pytest.raises(IndexError, match="to have non-zero size"):
            (G.compile(lambda t: fn(G, t)) if compiled else (lambda t: fn(G, t)))(G.zeros(3, 0))


def test_reshape_checks_a_minus_1_as_torch():
    _raises(lambda T, x: x.reshape(0, -1), lambda T: T.zeros(2, 3))
    _raises(lambda T, x: x.view(4, -1), lambda T: T.zeros(2, 3))
    _raises(lambda T, x: x.reshape(-2, 3), lambda T: T.zeros(2, 3))
    _same(lambda T, x: x.view(3, -1), lambda T: T.zeros(2, 3))


@pytest.mark.parametrize("fn", [lambda x: x * 1j, lambda x: 1j + x, lambda x: x - 2j,
                                lambda x: x / 1j, lambda x: x ** 1j, lambda x: x < 1j,
                                lambda x: x.mul_(1j), lambda x: x * np.complex64(1j),
                                lambda x: x.add(x, alpha=1j), lambda x: G.atan2(x, 1j)])
def test_python_complex_number_is_refused_clearly(fn):
    for compiled in (False, True):
        with pytest.raises(TypeError, match="no complex dtype"):
            (G.compile(fn) if compiled else fn)(G.ones(2))


def test_equality_with_a_complex_number_is_torchs():
    for op in (lambda x: x == 0j, lambda x: x != 1 + 0j):
        want = op(torch.tensor([0.0, 1.0])).numpy()
        np.testing.assert_array_equal(op(G.tensor([0.0, 1.0])).numpy(), want)
