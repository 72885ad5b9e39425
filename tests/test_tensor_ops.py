"""Every Tensor op against PyTorch: values and gradients, dynamic and static.

Each case is `fn(T, *inputs)` with T either `torch` or `graphnet`, so the exact same source
line runs on both libraries."""

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet

rng = np.random.default_rng(0)


def arr(*shape, positive=False):
    a = rng.standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.5 if positive else a


UNARY = ["neg", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "rsqrt",
         "log1p", "expm1", "square", "reciprocal", "erf"]
POSITIVE = {"log", "sqrt", "rsqrt", "reciprocal", "log1p"}

CASES = {f"unary_{n}": (lambda T, x, n=n: getattr(x, n)(), [arr(3, 4, positive=n in POSITIVE)])
         for n in UNARY}
CASES.update({
    "add": (lambda T, x, y: x + y, [arr(3, 4), arr(3, 4)]),
    "add_broadcast": (lambda T, x, y: x + y, [arr(3, 4), arr(4)]),
    "radd_scalar": (lambda T, x: 2.5 + x, [arr(3)]),
    "sub_rsub": (lambda T, x, y: (x - y) - (1 - x), [arr(2, 3), arr(2, 3)]),
    "mul_div": (lambda T, x, y: x * y / (y * y + 1), [arr(2, 3), arr(2, 3)]),
    "rdiv": (lambda T, x: 1 / (x * x + 1), [arr(5)]),
    "pow": (lambda T, x: x ** 3 + 2 ** x, [arr(4)]),
    "pow_tensor": (lambda T, x, y: x.abs() ** y, [arr(4, positive=True), arr(4)]),
    "matmul": (lambda T, x, y: x @ y, [arr(3, 4), arr(4, 5)]),
    "rmatmul_batched": (lambda T, x, y: T.matmul(x, y), [arr(2, 3, 4), arr(4, 5)]),
    "mm": (lambda T, x, y: T.mm(x, y), [arr(3, 4), arr(4, 2)]),
    "sum_all": (lambda T, x: x.sum(), [arr(3, 4)]),
    "sum_dim_keepdim": (lambda T, x: x.sum(dim=1, keepdim=True), [arr(3, 4)]),
    "sum_dims": (lambda T, x: x.sum((0, 2)), [arr(2, 3, 4)]),
    "mean_dim": (lambda T, x: x.mean(0), [arr(3, 4)]),
    "max_all": (lambda T, x: x.max(), [arr(3, 4)]),
    "max_dim_values": (lambda T, x: x.max(dim=1).values, [arr(3, 4)]),
    "max_dim_indices": (lambda T, x: x.max(1)[1].float() + x.sum() * 0, [arr(3, 4)]),
    "min_dim_keepdim": (lambda T, x: x.min(dim=0, keepdim=True)[0], [arr(3, 4)]),
    "norm": (lambda T, x: x.norm(), [arr(3, 4)]),
    "norm_dim": (lambda T, x: x.norm(dim=1, keepdim=True), [arr(3, 4)]),
    "var_std": (lambda T, x: x.var(dim=1) + x.std(), [arr(3, 4)]),
    "var_unbiased_false": (lambda T, x: x.var(dim=0, unbiased=False), [arr(3, 4)]),
    "softmax": (lambda T, x: T.softmax(x, dim=1), [arr(3, 4)]),
    "log_softmax": (lambda T, x: x.log_softmax(dim=-1), [arr(3, 4)]),
    "logsumexp": (lambda T, x: T.logsumexp(x, dim=1), [arr(3, 4)]),
    "argmax": (lambda T, x: x.argmax(dim=1).float() + x.sum() * 0, [arr(3, 4)]),
    "view_reshape": (lambda T, x: x.view(4, 3).reshape(2, -1) * 2, [arr(3, 4)]),
    "flatten": (lambda T, x: x.flatten(1) + T.flatten(x).sum(), [arr(2, 3, 4)]),
    "t_transpose": (lambda T, x: x.t() @ x.transpose(0, 1).t(), [arr(3, 4)]),
    "permute": (lambda T, x: x.permute(2, 0, 1) * 1.5, [arr(2, 3, 4)]),
    "squeeze_unsqueeze": (lambda T, x: x.unsqueeze(0).squeeze(0).unsqueeze(-1).squeeze(), [arr(3, 1, 4)]),
    "expand_repeat": (lambda T, x: x.expand(3, 4) + x.repeat(3, 1), [arr(1, 4)]),
    "cat_stack": (lambda T, x, y: T.cat([x, y], dim=1).sum(0) + T.stack([x, y]).sum((0, 1)).sum(), [arr(2, 3), arr(2, 3)]),
    "clamp": (lambda T, x: x.clamp(-0.5, 0.5) + T.clamp(x, min=0.0), [arr(3, 4)]),
    "where": (lambda T, x, y: T.where(x > 0, x, y), [arr(3, 4), arr(3, 4)]),
    "index_int_slice": (lambda T, x: x[1] + x[:, 2].sum() + x[0, 1:3].sum(), [arr(3, 4)]),
    "index_tensor": (lambda T, x: x[T.tensor([2, 0, 2])], [arr(3, 4)]),
    "index_ellipsis_none": (lambda T, x: x[..., None, 1], [arr(2, 3, 4)]),
    "comparisons": (lambda T, x, y: ((x < y).float() + (x >= y).float() * 2 + (x == x).float()) * x, [arr(3), arr(3)]),
    "chain_mlp_like": (lambda T, x, w, b: T.relu(x @ w.t() + b).sum(dim=1).mean(), [arr(4, 5), arr(3, 5), arr(3)]),
    "gather": (lambda T, x: T.gather(x, 1, T.tensor([[0, 1], [2, 2], [1, 0]])), [arr(3, 4)]),
    "split_chunk": (lambda T, x: x.split(2, dim=1)[1] * x.chunk(2, dim=1)[0], [arr(3, 4)]),
})


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_op_matches_torch(name, mode):
    fn, inputs = CASES[name]
    t_in = [to_torch(a, requires_grad=True) for a in inputs]
    t_out = fn(torch, *t_in)
    weights = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    (t_out * to_torch(weights)).sum().backward()

    def run(*xs):
        out = fn(graphnet, *xs)
        (out * graphnet.from_numpy(weights)).sum().backward()
        return out

    g_in = [to_gn(a, requires_grad=True) for a in inputs]
    out = (graphnet.compile(run) if mode == "static" else run)(*g_in)
    assert_close(out, t_out, what=f"{name} value")
    for i, (g, t) in enumerate(zip(g_in, t_in)):
        if t.grad is None:
            assert g.grad is None
        else:
            assert_close(g.grad, t.grad, atol=1e-5, rtol=1e-4, what=f"{name} grad {i}")


def test_inplace_ops_and_reflected_forms_match_torch():
    for T in (torch, graphnet):
        x = T.tensor([1.0, 2.0, 3.0])
        x /= 2
        x += 1
        x *= T.tensor([2.0, 2.0, 2.0])
        x -= 0.5
        x.add_(1).mul_(2).clamp_(max=9.0)
        y = T.tensor([[1.0, 2.0], [3.0, 4.0]])
        y.t_()
        if T is torch:
            expected = (x.numpy().copy(), y.numpy().copy())
        else:
            assert_close(np_of(x), expected[0])
            assert_close(np_of(y), expected[1])


def test_integer_and_bool_dtype_rules_match_torch():
    for expr in ["T.arange(6) / 2", "T.arange(6) * 1.5", "T.arange(4).sum()", "(T.arange(4) > 1).sum()",
                 "T.tensor([1, 2]) + 1", "T.tensor([1.0, 2.0]).long()", "T.ones(2, 3).argmax(dim=1)",
                 "T.tensor([True, False]).float()", "T.zeros((2, 3), dtype=T.int64)"]:
        t = eval(expr, {"T": torch})
        g = eval(expr, {"T": graphnet})
        assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], expr
        np.testing.assert_array_equal(np_of(g), t.numpy(), err_msg=expr)


def test_metadata_and_conversions():
    x = graphnet.arange(12).reshape(3, 4).float()
    assert x.shape == (3, 4) and x.size() == (3, 4) and x.size(1) == 4
    assert repr(x.shape) == "graphnet.Size([3, 4])"
    assert x.dim() == 2 and x.numel() == 12 and x.dtype == graphnet.float32
    assert x.tolist() == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]
    assert x.sum().item() == 66.0 and isinstance(x.sum().item(), float)
    assert float(x[1, 2]) == 6.0 and int(x[2, 3]) == 11
    np.testing.assert_array_equal(x.numpy(), np.arange(12, dtype=np.float32).reshape(3, 4))
    assert len(x) == 3 and [r.tolist()[0] for r in x] == [0.0, 4.0, 8.0]


def test_factories_and_seeding():
    graphnet.manual_seed(3)
    a = graphnet.randn(2, 3)
    b = graphnet.rand((2, 3))
    graphnet.manual_seed(3)
    np.testing.assert_array_equal(np_of(graphnet.randn(2, 3)), np_of(a))
    np.testing.assert_array_equal(np_of(graphnet.rand(2, 3)), np_of(b))
    assert a.dtype == graphnet.float32 and (np_of(b) >= 0).all() and (np_of(b) < 1).all()
    assert graphnet.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert graphnet.ones((2,), requires_grad=True).requires_grad
    assert graphnet.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert graphnet.tensor([1, 2]).dtype == graphnet.int64
    assert graphnet.from_numpy(np.ones(2, np.float64)).dtype == graphnet.float64
    r = graphnet.randint(0, 5, (100,))
    assert r.dtype == graphnet.int64 and 0 <= r.min().item() and r.max().item() < 5


def test_setitem_matches_torch():
    for T in (torch, graphnet):
        x = T.zeros(3, 4)
        x[1] = 5.0
        x[:, 2] = T.tensor([1.0, 2.0, 3.0])
        x[0, 0] = 7
        if T is torch:
            expected = x.numpy().copy()
        else:
            np.testing.assert_array_equal(np_of(x), expected)
