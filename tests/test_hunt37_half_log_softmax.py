"""float16/bfloat16 `log_softmax` over the last dim as PyTorch's CPU kernel computes it: the
sum of exponentials and its log kept in the half type, `x - max - half(log(half(sum)))`
rounded. graphnet rounded once (as torch's kernel for other dims does), so 20-30% of the
values were 1 ulp off, and a bfloat16-autocast distillation loss with them (distillation
hunt). Checked bit for bit, eagerly and compiled, on the last dim, a 1-d input, and
another dim."""

import numpy as np
import pytest
import torch

import graphnet


def _data(shape):
    return np.random.default_rng(0).normal(0, 2, shape).astype(np.float32)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("shape,dim", [((64, 37), -1), ((64, 37), 1), ((37,), 0),
                                       ((8, 37, 1), 1), ((4, 5, 6), 0)])
def test_half_log_softmax_is_torch_s_bit_for_bit(dtype, shape, dim):
    x = _data(shape)
    want = torch.log_softmax(torch.tensor(x).to(getattr(torch, dtype)), dim).float().numpy()

    def run(t):
        return graphnet.log_softmax(t.to(getattr(graphnet, dtype)), dim).float()

    for fn in (run, graphnet.compile(run)):
        np.testing.assert_array_equal(fn(graphnet.tensor(x)).numpy(), want)


def test_half_kl_distillation_loss_and_gradient_match_torch():
    s, t = _data((16, 10)), _data((16, 10)) * 0.5
    results = []
    for L in (torch, graphnet):
        student = L.tensor(s).requires_grad_()
        with L.autocast("cpu", dtype=L.bfloat16):
            log_p = L.nn.functional.log_softmax(student.bfloat16() / 2.0, -1)
            q = L.nn.functional.softmax(L.tensor(t).bfloat16() / 2.0, -1)
            loss = L.nn.functional.kl_div(log_p, q, reduction="batchmean") * 4.0
        loss.float().backward()
        results.append((loss.float().item(), student.grad.numpy()))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-6)   # float32 sum order
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=0, atol=1e-6)
