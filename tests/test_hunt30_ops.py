"""Ops against PyTorch, dynamic and static: truncating division's zero gradient, quantile's
gradient in q, masked_fill's bool-only mask, masked_scatter's broadcast, t() of a vector as a
new view, empty median and weighted bincount in autograd, schedulers' state_dict order."""

import numpy as np
import pytest

import graphnet

torch = pytest.importorskip("torch")

MODES = [("dynamic", lambda f: f), ("static", graphnet.compile)]


@pytest.mark.parametrize("mode,wrap", MODES)
def test_trunc_division_has_zero_gradient_even_by_zero(mode, wrap):
    a = graphnet.tensor([1.0, -1.0, 3.0, -7.5], requires_grad=True)
    b = graphnet.tensor([0.0, 0.0, 2.0, 2.0], requires_grad=True)
    out = wrap(lambda a, b: graphnet.div(a, b, rounding_mode="trunc"))(a, b)
    out.sum().backward()
    ta = torch.tensor([1.0, -1.0, 3.0, -7.5], requires_grad=True)
    tb = torch.tensor([0.0, 0.0, 2.0, 2.0], requires_grad=True)
    want = torch.div(ta, tb, rounding_mode="trunc")
    want.sum().backward()
    assert out.tolist() == want.tolist()
    assert a.grad.tolist() == ta.grad.tolist() == [0.0] * 4
    assert b.grad.tolist() == tb.grad.tolist() == [0.0] * 4


def test_trunc_division_values_match_pytorch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(4096).astype(np.float32) * 100
    b = rng.standard_normal(4096).astype(np.float32)
    want = torch.div(torch.from_numpy(a), torch.from_numpy(b), rounding_mode="trunc").numpy()
    for _, wrap in MODES:
        got = wrap(lambda x, y: graphnet.div(x, y, rounding_mode="trunc"))(
            graphnet.from_numpy(a), graphnet.from_numpy(b))
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("mode,wrap", MODES)
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_gradient_in_q(mode, wrap, interpolation):
    def run(lib, w):
        x = lib.tensor([[3.0, -1.0, 0.0, 1.0, -3.0], [2.0, 5.0, 1.0, 4.0, 0.0]],
                       requires_grad=True)
        q = lib.tensor([0.1, 0.6, 0.5], requires_grad=True)
        out = w(lambda x, q: lib.quantile(x, q, dim=1, interpolation=interpolation))(x, q)
        (out * lib.tensor([[1.0], [2.0], [3.0]])).sum().backward()
        return out, x.grad, q.grad

    out, xg, qg = run(graphnet, wrap)
    t_out, t_xg, t_qg = run(torch, lambda f: f)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(xg.numpy(), t_xg.numpy(), rtol=1e-6)
    assert (qg is None) == (t_qg is None) == (interpolation != "linear")
    if t_qg is not None:
        np.testing.assert_allclose(qg.numpy(), t_qg.numpy(), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32"])
def test_masked_fill_refuses_a_non_bool_mask(dtype):
    for lib in (torch, graphnet):
        mask = lib.tensor([1, 0, 2]).to(getattr(lib, dtype))
        for call in (lambda x, m: x.masked_fill(m, 5.0), lambda x, m: x.masked_fill_(m, 5.0)):
            with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
                call(lib.zeros(3), mask)
    with pytest.raises(RuntimeError, match="unsigned char"):
        graphnet.compile(lambda x, m: x.masked_fill(m, 5.0))(
            graphnet.zeros(3), graphnet.tensor([1, 0, 2], dtype=graphnet.uint8))


@pytest.mark.parametrize("mode,wrap", MODES)
def test_masked_scatter_broadcasts_input_and_mask(mode, wrap):
    def run(lib, w):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        mask = lib.tensor([[True, False, True], [False, False, True]])
        out = w(lambda x, m: x.masked_scatter(m, lib.arange(6.0) + 1))(x, mask)
        (out * lib.tensor([[1.0], [2.0]])).sum().backward()
        return out.tolist(), x.grad.tolist()

    assert run(graphnet, wrap) == run(torch, lambda f: f)


def test_t_of_a_vector_is_a_new_view():
    for lib in (torch, graphnet):
        x = lib.ones(3)
        y = x.t()
        assert y is not x
        y.requires_grad_()
        assert not x.requires_grad
        a = lib.ones(3, requires_grad=True)
        b = a.t()
        assert not b.is_leaf and type(b.grad_fn).__name__ == "TBackward0"
        z = lib.ones(3)
        z.t().add_(1)
        assert z.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_an_empty_tensor_stays_in_autograd(name):
    for lib in (torch, graphnet):
        x = lib.tensor([], requires_grad=True)
        m = getattr(lib, name)(x)
        assert np.isnan(m.item()) and m.requires_grad
        m.backward()
        assert x.grad.shape == (0,)


def test_bincount_with_weights_that_require_grad_refuses_backward():
    for lib in (torch, graphnet):
        w = lib.ones(3, requires_grad=True)
        counts = lib.bincount(lib.tensor([0, 1, 1]), w)
        assert counts.tolist() == [1.0, 2.0] and counts.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::bincount is not implemented"):
            (counts.sum() + w.sum()).backward()


def test_gather_takes_sparse_grad():
    index = [[0], [1]]
    got = graphnet.gather(graphnet.eye(2), 1, graphnet.tensor(index), sparse_grad=False)
    assert got.tolist() == torch.gather(torch.eye(2), 1, torch.tensor(index),
                                        sparse_grad=False).tolist()


def test_scheduler_state_dict_keys_in_pytorch_order():
    keys = []
    for lib in (torch, graphnet):
        opt = lib.optim.SGD(lib.nn.Linear(2, 2).parameters(), lr=0.1)
        keys.append((list(lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0,
                                                            total_steps=10).state_dict()),
                     list(lib.optim.lr_scheduler.ReduceLROnPlateau(opt).state_dict())))
    assert keys[0] == keys[1]
