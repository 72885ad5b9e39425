"""`graphnet.special` against `torch.special`: every name graphnet offers, values and
gradients (eager and compiled), integer input promoted to float32, and the edge values
PyTorch defines (entr at 0 and below, xlog1py at x = 0, ndtri at 0 and 1)."""

import graphnet as gt
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")

RNG = np.random.default_rng(0)
POSITIVE = RNG.uniform(0.1, 4.0, 7).astype(np.float32)
ANY = RNG.uniform(-3.0, 3.0, 7).astype(np.float32)
PROBABILITY = RNG.uniform(0.05, 0.95, 7).astype(np.float32)

UNARY = {
    "expit": ANY, "logit": PROBABILITY, "psi": POSITIVE, "digamma": POSITIVE,
    "gammaln": POSITIVE, "erf": ANY, "erfc": ANY, "erfinv": PROBABILITY - 0.5,
    "erfcx": ANY, "exp2": ANY, "expm1": ANY, "log1p": POSITIVE, "i0": ANY, "i0e": ANY,
    "i1": ANY, "i1e": ANY, "ndtr": ANY, "ndtri": PROBABILITY, "log_ndtr": ANY,
    "entr": POSITIVE, "sinc": ANY, "spherical_bessel_j0": ANY,
}


def _call(L, name, x):
    return getattr(L.special, name)(x)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_values_and_gradients_match_torch(name):
    data = UNARY[name]
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    want = _call(torch, name, tx)
    gx = gt.tensor(data, dtype=gt.float64, requires_grad=True)
    got = _call(gt, name, gx)
    assert got.requires_grad == want.requires_grad   # torch has no spherical_bessel_j0'
    if not want.requires_grad:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-9)
        return
    want.sum().backward()
    got.sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["i0e", "i1", "ndtr", "ndtri", "entr", "erfcx"])
def test_integer_input_gives_float32_and_compiles(name):
    want = _call(torch, name, torch.tensor([0, 1, 2]))
    got = _call(gt, name, gt.tensor([0, 1, 2]))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1] == "float32"
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    compiled = gt.compile(lambda x: _call(gt, name, x))(gt.tensor([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(compiled.numpy(), want.numpy(), rtol=1e-6)


EDGES = {
    "entr": lambda L: L.special.entr(L.tensor([-1.0, 0.0, 0.5, float("inf")])),
    "ndtri": lambda L: L.special.ndtri(L.tensor([0.0, 0.5, 1.0])),
    "log_ndtr": lambda L: L.special.log_ndtr(L.tensor([-30.0, 0.0, 10.0])),
    "xlog1py": lambda L: L.special.xlog1py(L.tensor([0.0, 0.0, 2.0, 3.0]),
                                           L.tensor([float("nan"), -1.0, 1.0, -1.0])),
    "xlogy": lambda L: L.special.xlogy(L.tensor([0.0, 2.0]), L.tensor([0.0, 3.0])),
    "spherical_bessel_j0 at 0": lambda L: L.special.spherical_bessel_j0(L.tensor([0.0, 1e-6])),
    "softmax dtype": lambda L: L.special.softmax(L.tensor([[1.0, 2.0]]), 1,
                                                 dtype=L.float64),
    "log_softmax": lambda L: L.special.log_softmax(L.tensor([[1.0, 2.0, 0.5]]), dim=-1),
    "logsumexp keepdim": lambda L: L.special.logsumexp(L.tensor([[1.0, 2.0]]), 1, True),
    "multigammaln": lambda L: L.special.multigammaln(L.tensor([2.5, 3.0]), 2),
    "polygamma": lambda L: L.special.polygamma(1, L.tensor([0.5, 2.0])),
    "round decimals": lambda L: L.special.round(L.tensor([1.2345]), decimals=2),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_values_match_torch(name):
    want, got = EDGES[name](torch), EDGES[name](gt)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


XLOG = {"xlogy": ([0.0, 0.0, 2.0, 0.0, -1.5], [3.0, 0.0, 1.0, float("nan"), 0.5]),
        "xlog1py": ([0.0, 0.0, 2.0, 0.0, -1.5], [3.0, -1.0, 1.0, float("nan"), 0.5])}


@pytest.mark.parametrize("name", list(XLOG))
@pytest.mark.parametrize("compiled", [False, True])
def test_xlog_gradients_at_zero_match_torch(name, compiled):
    """d/dx is log(y) at x = 0 too (it was 0), and d/dy is NaN at (0, 0), as in torch."""
    def step(fn):
        def run(x, y):
            value = fn(x, y)
            value.sum().backward()
            return value.detach()
        return run

    def run(L, run_step):
        x, y = (L.tensor(d, requires_grad=True) for d in XLOG[name])
        value = run_step(x, y)
        return value.numpy(), x.grad.numpy(), y.grad.numpy()

    want = run(torch, step(getattr(torch.special, name)))
    mine = step(getattr(gt.special, name))
    got = run(gt, gt.compile(mine) if compiled else mine)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_atan2_gradient_at_the_origin_is_zero_as_in_torch(compiled):
    def step(L):
        def run(a, b):
            value = L.atan2(a, b)
            value.sum().backward()
            return value.detach()
        return run

    def run(L, fn):
        a = L.tensor([0.0, 1.0, 0.0, -2.0], requires_grad=True)
        b = L.tensor([0.0, 0.0, 2.0, 3.0], requires_grad=True)
        return fn(a, b).numpy(), a.grad.numpy(), b.grad.numpy()

    want = run(torch, step(torch))
    got = run(gt, gt.compile(step(gt)) if compiled else step(gt))
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-6)
