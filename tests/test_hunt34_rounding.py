"""Rounding and special points (thirty-fourth session's SWA and survival hunts): SWA/EMA
averaging wrote its lerp out and rounded three times (a bf16 EMA drifted from torch's by a
few percent); `_foreach_lerp_` rounded a one-tensor weight to half; a half quotient by a
number was XLA's reciprocal product, 1 ulp off in a third of elements; digamma(-0.) was
-inf (PyTorch: +inf) and lgamma's gradient at +-0 was NaN."""

import numpy as np
import pytest
import torch
from torch.optim import swa_utils as torch_swa

import graphnet as gn
from graphnet.optim import swa_utils as gn_swa


def _pair(dtype: str, seed: int):
    rng = np.random.RandomState(seed)
    a, b = rng.randn(2, 3000).astype(np.float32)
    t = [torch.tensor(v).to(getattr(torch, dtype)) for v in (a, b)]
    g = [gn.tensor(v).to(getattr(gn, dtype)) for v in (a, b)]
    return t, g


def _same(x, y):
    np.testing.assert_array_equal(x.detach().double().numpy(), y.detach().double().numpy())


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_swa_and_ema_multi_averages_round_as_torch(dtype):
    (ta, tb), (ga, gb) = _pair(dtype, 0)
    for make_t, make_g, n in [(torch_swa.get_ema_multi_avg_fn(0.99),
                               gn_swa.get_ema_multi_avg_fn(0.99), None),
                              (torch_swa.get_swa_multi_avg_fn(),
                               gn_swa.get_swa_multi_avg_fn(), 2)]:
        mine, theirs = [ga.clone()], [ta.clone()]
        make_t(theirs, [tb], None if n is None else torch.tensor(n))
        make_g(mine, [gb], None if n is None else gn.tensor(n))
        _same(mine[0], theirs[0])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_foreach_lerp_reads_one_weight_tensor_as_a_number(dtype):
    (ta, tb), (ga, gb) = _pair(dtype, 1)
    weight_t, weight_g = 1 / (torch.tensor(2) + 1), 1 / (gn.tensor(2) + 1)
    theirs, mine = [ta.clone()], [ga.clone()]
    torch._foreach_lerp_(theirs, [tb], weight_t)
    gn._foreach_lerp_(mine, [gb], weight_g)
    _same(mine[0], theirs[0])
    _same(gn._foreach_lerp([ga], [gb], weight_g)[0], torch._foreach_lerp([ta], [tb], weight_t)[0])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_half_division_by_a_number_is_torchs(dtype, compile_):
    (ta, _), (ga, _) = _pair(dtype, 2)
    _same(compile_(lambda x: x / gn.tensor(3))(ga), ta / torch.tensor(3))
    _same(compile_(lambda x: x / 7)(ga), ta / 7)


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_digamma_and_lgamma_slope_at_signed_zero(compile_):
    points = [0.0, -0.0, -1.0, -2.5, 3.0]
    expected = torch.tensor(points, requires_grad=True)
    torch.lgamma(expected).sum().backward()
    x = gn.tensor(points, requires_grad=True)
    compile_(lambda x: gn.lgamma(x).sum())(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), expected.grad.numpy(), rtol=1e-6)
    for name in ("digamma",):
        np.testing.assert_allclose(compile_(getattr(gn, name))(gn.tensor(points)).numpy(),
                                   getattr(torch, name)(torch.tensor(points)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(gn.polygamma(0, gn.tensor(points)).numpy(),
                               torch.polygamma(0, torch.tensor(points)).numpy(), rtol=1e-6)
