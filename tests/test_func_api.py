"""graphnet.func against torch.func (torch 2.13): grad, grad_and_value, vjp, jvp, jacrev,
jacfwd, hessian, vmap (nested, of grad, per-sample gradients with functional_call, backward
through it), stack_module_state; values, shapes, dtypes, requires_grad and errors, eagerly and
inside graphnet.compile (vmap there raises TraceError)."""

import jax
import numpy as np
import pytest
import torch
import torch.func as TF

import graphnet as G
import graphnet.func as GF

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal(3).astype(np.float32)
B53 = RNG.standard_normal((5, 3)).astype(np.float32)
B5 = RNG.standard_normal(5).astype(np.float32)


def _leaves(tree):
    # NOTE: jax's flattening (dict keys sorted) for both libraries' results
    return jax.tree_util.tree_leaves(tree, is_leaf=lambda t: isinstance(t, (torch.Tensor,
                                                                           G.Tensor)))


def _assert_same(got, want):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)


# each case: fn(F, T, *tensors) with F the func module and T the library
CASES = {
    "grad": lambda F, T, x: F.grad(lambda x: (x.sin() * x).sum())(x),
    "grad_aux": lambda F, T, x: F.grad(lambda x: (x.exp().sum(), x * 2), has_aux=True)(x),
    "grad_and_value": lambda F, T, x: F.grad_and_value(lambda x: x.tanh().sum())(x),
    "grad_argnums": lambda F, T, x: F.grad(lambda a, b: (a * b).sin().sum(),
                                           argnums=(0, 1))(x, x * 2),
    "grad_negative_argnum": lambda F, T, x: F.grad(lambda a, b: (a * b).sum(),
                                                   argnums=-1)(x, x + 1),
    "grad_dict": lambda F, T, x: F.grad(lambda d: (d["a"] * d["b"]).sum())(
        {"a": x, "b": x + 1}),
    "grad_unused": lambda F, T, x: F.grad(lambda a, b: a.sum(), argnums=(0, 1))(x, x),
    "grad_of_grad": lambda F, T, x: F.grad(F.grad(lambda s: s.sin() * s))(x[0]),
    "vjp": lambda F, T, x: F.vjp(lambda x: (x.sin() * 2, x.sum()), x)[1](
        (T.ones(3), T.tensor(2.0))),
    "vjp_out": lambda F, T, x: F.vjp(lambda x: x.cos(), x)[0],
    "jvp": lambda F, T, x: F.jvp(lambda x: x.sin() * x, (x,), (T.ones(3) * 0.5,)),
    "jvp_two": lambda F, T, x: F.jvp(lambda a, b: a * b.exp(), (x, x * 2), (x, T.ones(3))),
    "jacrev": lambda F, T, x: F.jacrev(lambda x: x.sin() * x.sum())(x),
    "jacrev_dict": lambda F, T, x: F.jacrev(lambda d: (d["p"] * 3).tanh())({"p": x}),
    "jacfwd": lambda F, T, x: F.jacfwd(lambda a, b: (a * b, a.exp()), argnums=(0, 1))(x, x + 1),
    "hessian": lambda F, T, x: F.hessian(lambda x: (x.sin() * x.sum()).sum())(x),
    "float64": lambda F, T, x: F.grad(lambda x: (x ** 3).sum())(x.double()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_matches_torch_eager_and_compiled(name):
    case = CASES[name]
    want = case(TF, torch, torch.tensor(X3))
    _assert_same(case(GF, G, G.tensor(X3)), want)
    _assert_same(G.compile(lambda x: case(GF, G, x))(G.tensor(X3)), want)


VMAP_CASES = {
    "plain": lambda F, T, a, b, y: F.vmap(lambda u: u.sin() @ u)(a),
    "in_dims_none": lambda F, T, a, b, y: F.vmap(lambda u, v: u * v, in_dims=(0, None))(a, b),
    "negative_dims": lambda F, T, a, b, y: F.vmap(lambda u: u.cumsum(0), in_dims=-1,
                                                  out_dims=-1)(a),
    "dict_in_dims": lambda F, T, a, b, y: F.vmap(lambda d: d["a"] + d["b"],
                                                 in_dims=({"a": 0, "b": None},))(
        {"a": a, "b": b}),
    "out_dims_tuple": lambda F, T, a, b, y: F.vmap(lambda u: (u.sum(), u), out_dims=(0, 1))(a),
    "out_dims_none": lambda F, T, a, b, y: F.vmap(lambda u: (u * 2, b.exp()),
                                                  out_dims=(0, None))(a),
    "kwargs_unbatched": lambda F, T, a, b, y: F.vmap(lambda u, scale: u * scale)(a, scale=b),
    "nested": lambda F, T, a, b, y: F.vmap(F.vmap(lambda u, v: u * v, in_dims=(0, None)),
                                           in_dims=(None, 0))(b, a),
    "vmap_of_grad": lambda F, T, a, b, y: F.vmap(
        F.grad(lambda w, u, t: ((u * w).sum() - t) ** 2), in_dims=(None, 0, 0))(b, a, y),
    "vmap_of_jacrev": lambda F, T, a, b, y: F.vmap(F.jacrev(lambda w, u: (u * w).sin()),
                                                   in_dims=(None, 0))(b, a),
    "grad_of_vmap": lambda F, T, a, b, y: F.grad(
        lambda w: F.vmap(lambda u: (u * w).sin().sum())(a).sum())(b),
    "jacrev_of_vmap": lambda F, T, a, b, y: F.jacrev(
        lambda w: F.vmap(lambda u: (u * w).sin().sum())(a))(b),
    "int_output": lambda F, T, a, b, y: F.vmap(lambda u: u.argmax())(a),
    "torch_vmap_alias": lambda F, T, a, b, y: T.vmap(lambda u: u.exp())(a),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_matches_torch(name):
    case = VMAP_CASES[name]
    want = case(TF, torch, torch.tensor(B53), torch.tensor(X3), torch.tensor(B5))
    _assert_same(case(GF, G, G.tensor(B53), G.tensor(X3), G.tensor(B5)), want)


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_compiled_matches_torch(name):
    """Inside graphnet.compile vmap is traced on one sample into a `vmap` node (jax.vmap of
    its sub-graph): the same numbers as PyTorch's vmap."""
    case = VMAP_CASES[name]
    want = case(TF, torch, torch.tensor(B53), torch.tensor(X3), torch.tensor(B5))
    compiled = G.compile(lambda a, b, y: case(GF, G, a, b, y))
    _assert_same(compiled(G.tensor(B53), G.tensor(X3), G.tensor(B5)), want)
    assert any(node.op == "vmap" for node in compiled.graph.nodes)


def _backward_through_vmap(F, T):
    w = T.tensor(X3, requires_grad=True)
    a = T.tensor(B53, requires_grad=True)
    out = F.vmap(lambda u, v: (u * w).sin().sum() * v)(a * 2, T.tensor(B5))
    assert out.requires_grad
    (out ** 2).sum().backward()
    return out, w.grad, a.grad


def test_backward_through_vmap_reaches_closed_over_and_batched_tensors():
    _assert_same(_backward_through_vmap(GF, G), _backward_through_vmap(TF, torch))


def test_backward_through_nested_vmap():
    def run(F, T):
        w = T.tensor(X3, requires_grad=True)
        a = T.tensor(B53, requires_grad=True)
        out = F.vmap(F.vmap(lambda v, m: (v.sin() * m).sum(), in_dims=(0, None)),
                     in_dims=(None, 0))(w * 1, a)
        out.sum().backward()
        return out, w.grad, a.grad

    _assert_same(run(GF, G), run(TF, torch))


def _models(nn, lib, n=3):
    lib.manual_seed(0)
    models = [nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)) for _ in range(n)]
    return models


def _copy(models_g, models_t):
    for mg, mt in zip(models_g, models_t):
        for pg, pt in zip(mg.parameters(), mt.parameters()):
            pg.data = G.tensor(pt.detach().numpy())


def test_per_sample_gradients_with_functional_call():
    (mt,), (mg,) = _models(torch.nn, torch, 1), _models(G.nn, G, 1)
    _copy([mg], [mt])

    def run(F, T, model):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, x, y):
            out = F.functional_call(model, p, (x[None],))
            return T.nn.functional.mse_loss(out, y[None])

        ys = T.tensor(RNG_Y)
        return F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, T.tensor(B53), ys)

    _assert_same(run(GF, G, mg), run(TF, torch, mt))


RNG_Y = RNG.standard_normal((5, 2)).astype(np.float32)


def test_ensemble_with_stack_module_state_and_backward():
    mts, mgs = _models(torch.nn, torch), _models(G.nn, G)
    _copy(mgs, mts)

    def run(F, T, models):
        params, buffers = F.stack_module_state(models)
        assert all(p.requires_grad and p.is_leaf for p in params.values())
        base = models[0]

        def call(p, b, x):
            return F.functional_call(base, (p, b), (x,))

        out = F.vmap(call, in_dims=(0, 0, None))(params, buffers, T.tensor(B53))
        out.square().sum().backward()
        return out, [params[k].grad for k in sorted(params)]

    _assert_same(run(GF, G, mgs), run(TF, torch, mts))


def test_stack_module_state_errors():
    with pytest.raises(RuntimeError, match="at least one model"):
        GF.stack_module_state([])
    a, b = G.nn.Linear(2, 2), G.nn.Linear(2, 2)
    b.eval()
    with pytest.raises(RuntimeError, match="training/eval"):
        GF.stack_module_state([a, b])


def test_requires_grad_of_results_follows_torch():
    for lib, F in ((torch, TF), (G, GF)):
        x = lib.tensor(X3)
        w = lib.tensor(X3, requires_grad=True)
        assert not F.grad(lambda u: (u * u).sum())(x).requires_grad
        assert F.grad(lambda u: (w * u * u).sum())(x).requires_grad
        g = F.grad(lambda u: (u ** 3).sum())(w)
        assert g.requires_grad
        g.sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), 6 * X3, rtol=1e-5)
        assert not F.vmap(lambda u: u * 2)(lib.tensor(B53)).requires_grad


def test_vmap_randomness_same_backward_reuses_the_forward_mask():
    w = G.tensor(X3, requires_grad=True)
    a = G.tensor(np.abs(B53) + 1)
    drop = G.nn.functional.dropout
    out = G.vmap(lambda u: drop(u, 0.5) * w, randomness="same")(a)
    out.sum().backward()
    kept = (out / w).detach().numpy()     # dropout(u) per sample
    np.testing.assert_allclose(w.grad.numpy(), kept.sum(0), rtol=1e-5)
    assert np.all(kept == kept[:1]) or np.all((kept[0] == 0) == (kept == 0))


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


ERRORS = {
    "batch_size_mismatch": lambda F, T: F.vmap(lambda a, b: a + b)(T.ones(2, 3), T.ones(3, 3)),
    "in_dim_out_of_range": lambda F, T: F.vmap(lambda a: a, in_dims=2)(T.ones(2, 3)),
    "in_dims_none": lambda F, T: F.vmap(lambda a: a, in_dims=None)(T.ones(2, 3)),
    "in_dims_structure": lambda F, T: F.vmap(lambda a: a, in_dims=(0, 0))(T.ones(2, 3)),
    "non_tensor_batched": lambda F, T: F.vmap(lambda a, n: a * n, in_dims=(0, 0))(
        T.ones(2, 3), 3),
    "returns_int": lambda F, T: F.vmap(lambda a: 3)(T.ones(2, 3)),
    "zero_dim_input": lambda F, T: F.vmap(lambda a: a)(T.ones(())),
    "no_inputs": lambda F, T: F.vmap(lambda: 1)(),
    "item": lambda F, T: F.vmap(lambda a: a.sum().item())(T.ones(2, 3)),
    "control_flow": lambda F, T: F.vmap(lambda a: a if a.sum() > 0 else -a)(T.ones(2, 3)),
    "random": lambda F, T: F.vmap(lambda a: T.rand(2))(T.ones(2, 3)),
    "randomness_name": lambda F, T: F.vmap(lambda a: a, randomness="foo")(T.ones(2)),
    "chunk_size": lambda F, T: F.vmap(lambda a: a, chunk_size=0)(T.ones(2)),
    "out_dims_range": lambda F, T: F.vmap(lambda a: a, out_dims=3)(T.ones(2, 3)),
    "backward_inside": lambda F, T: F.vmap(lambda a, w: (a * w).sum().backward(),
                                           in_dims=(0, None))(
        T.ones(2, 3), T.ones(3, requires_grad=True)),
    "grad_not_scalar": lambda F, T: F.grad(lambda x: x)(T.ones(3)),
    "grad_not_tensor": lambda F, T: F.grad(lambda x: 1.0)(T.ones(3)),
    "grad_argnum_range": lambda F, T: F.grad(lambda x: x.sum(), argnums=1)(T.ones(3)),
    "grad_int_input": lambda F, T: F.grad(lambda x: x.sum())(T.tensor([1, 2])),
    "grad_float_input": lambda F, T: F.grad(lambda x: x.sum())(3.0),
    "grad_aux_not_tuple": lambda F, T: F.grad(lambda x: x.sum(), has_aux=True)(T.ones(3)),
    "vjp_shape": lambda F, T: F.vjp(lambda x: x * 2, T.ones(3))[1](T.ones(4)),
    "jvp_not_tuple": lambda F, T: F.jvp(lambda x: x * 2, T.ones(3), T.ones(3)),
    "jvp_shape": lambda F, T: F.jvp(lambda x: x * 2, (T.ones(3),), (T.ones(4),)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    want = _error(lambda: ERRORS[name](TF, torch))
    got = _error(lambda: ERRORS[name](GF, G))
    assert isinstance(got, type(want)), (type(got), type(want), got)
    words = [w for w in str(want).split()[:6] if w.isalpha()]
    for w in words[:3]:
        assert w in str(got), (str(got), str(want))


def test_in_place_write_to_outside_tensor_inside_vmap_raises():
    z = G.zeros(3)
    with pytest.raises(RuntimeError, match="in place"):
        G.vmap(lambda a: z.add_(a))(G.ones(2, 3))
    np.testing.assert_array_equal(z.numpy(), np.zeros(3))
