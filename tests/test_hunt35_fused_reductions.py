"""A compiled float32 sum of products keeps each product rounded, as PyTorch and eager mode
do: XLA's CPU code generator contracted the multiply into the reduction as a fused
multiply-add, so `(x * x).sum()` of the unit vector [0.6, 0.8, 0] was 1.0000001 compiled
and `acos` of it NaN. A float32 sum now accumulates in float64 on the CPU. The suite's own
XLA flags (tests/conftest.py: LLVM level 0) generate no fused multiply-adds, so the cases
also run in a subprocess with XLA's defaults, as users compile."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import graphnet

UNIT = [0.6, 0.8, 0.0]
CASES = {
    "mul_sum": lambda L, x: (x * x).sum(),
    "pow_sum_dim": lambda L, x: x.pow(2).sum(-1),
    "square_mean": lambda L, x: x.square().mean() * 3,
    "acos": lambda L, x: L.acos((x * x).sum(-1)),
    "one_minus": lambda L, x: 1 - (x * x).sum(-1),
    "cosine": lambda L, x: L.nn.functional.cosine_similarity(x, x, dim=0),
    "normalize": lambda L, x: L.nn.functional.normalize(x, dim=0).pow(2).sum(),
    "mse_mean": lambda L, x: L.nn.functional.mse_loss(x, L.zeros(3)) * 3,
    "mse_sum": lambda L, x: L.nn.functional.mse_loss(x, L.zeros(3), reduction="sum"),
    # vector products: XLA fused them into a reduction too (session 36)
    "dot": lambda L, x: L.dot(x, x),
    "matmul_vectors": lambda L, x: x @ (x * 1),
    "acos_dot": lambda L, x: L.acos(L.dot(x, x)),
    "inner": lambda L, x: L.inner(x, x),
    "einsum_dot": lambda L, x: L.einsum("i,i->", x, x),
    "mv": lambda L, x: L.mv(x.reshape(1, 3).expand(2, 3), x).sum() / 2,
    "batched_matvec": lambda L, x: (x.expand(2, 2, 3) @ x)[1, 1],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_sums_of_products_equal_torch_bit_for_bit(name):
    fn = CASES[name]
    want = fn(torch, torch.tensor(UNIT)).item()
    eager = fn(graphnet, graphnet.tensor(UNIT)).item()
    compiled = graphnet.compile(lambda x: fn(graphnet, x))(graphnet.tensor(UNIT)).item()
    assert eager == want and compiled == want, (want, eager, compiled)
    assert not math.isnan(compiled)


def test_the_cases_hold_with_xlas_default_flags():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["GRAPHNET_TEST_DEFAULT_XLA"] = "1"
    here = os.path.dirname(os.path.abspath(__file__))
    script = (f"import sys; sys.path.insert(0, {here!r}); import test_hunt35_fused_reductions as t\n"
              "for name in sorted(t.CASES):\n"
              "    t.test_compiled_sums_of_products_equal_torch_bit_for_bit(name)\n"
              "print('ok', len(t.CASES))")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"ok {len(CASES)}" in done.stdout


def test_a_long_float32_sum_is_as_close_as_torch_and_the_same_compiled():
    x = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    exact = float(np.sum(x.astype(np.float64) ** 2))
    eager = graphnet.tensor(x).pow(2).sum().item()
    compiled = graphnet.compile(lambda t: t.pow(2).sum())(graphnet.tensor(x)).item()
    torch_sum = torch.tensor(x).pow(2).sum().item()
    assert eager == compiled
    assert abs(eager - exact) <= abs(torch_sum - exact) + 1e-3


def test_half_and_float64_sums_keep_their_dtype():
    assert graphnet.ones(4, dtype=graphnet.float16).sum().dtype == graphnet.float16
    assert graphnet.ones(4, dtype=graphnet.float64).sum().dtype == graphnet.float64
    assert graphnet.ones(4).mean().dtype == graphnet.float32


def test_vector_products_keep_torch_s_values_and_gradients():
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal((4, 5, 7)).astype(np.float32), \
        rng.standard_normal(7).astype(np.float32)
    results = []
    for L in (torch, graphnet):
        ta, tv = L.tensor(a, requires_grad=True), L.tensor(v, requires_grad=True)
        out = (ta @ tv).sin().sum() + L.dot(tv, tv) + L.einsum("i,i->", tv, tv * 2)
        out.backward()
        results.append([out.detach().numpy(), ta.grad.numpy(), tv.grad.numpy()])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
