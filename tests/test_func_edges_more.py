"""Edge cases of graphnet.func and graphnet.autograd against PyTorch (torch 2.13): the
default vector of autograd.functional's jvp/vhp/hvp, integer indices and labels under vmap
(per-sample gradients of a classifier), vmap over a compiled function, materialized zeros
of a batched grad, integer tangents of func.jvp, in-place writes of batched values."""

import numpy as np
import pytest
import torch

import graphnet as G

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((5, 7)).astype(np.float32)
LABELS = np.array([1, 0, 6, 3, 2])
BAD_LABELS = np.array([1, 0, 9, 3, 2])


def _close(got, want, rtol=1e-5):
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=rtol,
                               atol=1e-6, equal_nan=True)


# ---- autograd.functional: v=None is ones (not `x * 0 + 1`, NaN at inf) -------------------
@pytest.mark.parametrize("name, fn, x", [
    ("jvp", lambda T: (lambda z: z * 2), np.float64(np.inf)),
    ("jvp", lambda T: (lambda z: z.exp()), np.array([np.nan])),
    ("vhp", lambda T: (lambda z: z.sum() ** 2), np.float64(np.inf)),
    ("hvp", lambda T: (lambda z: (z ** 3).sum()), np.array([-np.inf])),
    ("hvp", lambda T: (lambda z: (z ** 3).sum()), np.array([2.0])),
])
def test_functional_default_v_is_ones(name, fn, x):
    want = getattr(torch.autograd.functional, name)(fn(torch), torch.tensor(x))
    got = getattr(G.autograd.functional, name)(fn(G), G.tensor(x))
    for g, w in zip(got, want):
        _close(g, w)


# ---- vmap with batched integer indices and labels ----------------------------------------
INDEXED = {
    "cross_entropy": lambda T, l, t: T.nn.functional.cross_entropy(l, t),
    "nll_loss": lambda T, l, t: T.nn.functional.nll_loss(l[None], t[None]),
    "gather": lambda T, l, t: l.gather(0, t[None]),
    "index_select": lambda T, l, t: l.index_select(0, t[None]),
    "one_hot": lambda T, l, t: T.nn.functional.one_hot(t, 7) * l,
    "take": lambda T, l, t: l.take(t),
    "embedding": lambda T, l, t: T.nn.functional.embedding(t, l.reshape(7, 1)),
}


@pytest.mark.filterwarnings("ignore::UserWarning")   # torch: no batching rule for take
@pytest.mark.parametrize("name", sorted(INDEXED))
def test_vmap_batched_integer_index(name):
    fn = INDEXED[name]
    want = torch.func.vmap(lambda l, t: fn(torch, l, t))(torch.tensor(LOGITS),
                                                         torch.tensor(LABELS))
    got = G.func.vmap(lambda l, t: fn(G, l, t))(G.tensor(LOGITS), G.tensor(LABELS))
    _close(got, want)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["cross_entropy", "gather", "take"])
def test_vmap_out_of_range_index_raises(name):
    fn = INDEXED[name]
    with pytest.raises((RuntimeError, IndexError)):
        torch.func.vmap(lambda l, t: fn(torch, l, t))(torch.tensor(LOGITS),
                                                      torch.tensor(BAD_LABELS))
    with pytest.raises((RuntimeError, IndexError), match="9"):
        G.func.vmap(lambda l, t: fn(G, l, t))(G.tensor(LOGITS), G.tensor(BAD_LABELS))


def test_nested_vmap_index_check_reads_every_sample():
    logits = np.stack([LOGITS, LOGITS])
    labels = np.array([[1, 0, 2, 3, 2], [1, 0, 6, 3, 8]])   # only the last sample is bad
    for T in (torch, G):
        f = T.func.vmap(T.func.vmap(lambda l, t: l.gather(0, t[None])), in_dims=(0, 1))
        with pytest.raises(RuntimeError, match="index 8 is out of bounds"):
            f(T.tensor(logits), T.tensor(labels).t())
    labels[1, 4] = 4
    want = torch.func.vmap(torch.func.vmap(lambda l, t: l.gather(0, t[None])),
                           in_dims=(0, 1))(torch.tensor(logits), torch.tensor(labels).t())
    got = G.func.vmap(G.func.vmap(lambda l, t: l.gather(0, t[None])),
                      in_dims=(0, 1))(G.tensor(logits), G.tensor(labels).t())
    _close(got, want)


def test_per_sample_gradients_of_cross_entropy():
    """The recipe of PyTorch's per-sample-gradients tutorial: vmap(grad(loss))."""
    ref = torch.nn.Linear(7, 7)
    res = []
    for T in (torch, G):
        m = T.nn.Linear(7, 7)
        m.load_state_dict({k: T.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
        params = {k: v.detach() for k, v in m.named_parameters()}

        def loss(p, x, t):
            out = T.func.functional_call(m, p, (x[None],))
            return T.nn.functional.cross_entropy(out, t[None])

        res.append(T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0))(
            params, T.tensor(LOGITS), T.tensor(LABELS)))
    for k in res[0]:
        _close(res[1][k], res[0][k])


# ---- vmap over a compiled function -------------------------------------------------------
def test_vmap_of_compiled_function():
    x, w0 = RNG.standard_normal((4, 5)), RNG.standard_normal((5, 3))
    out = []
    for T in (torch, G):
        w = T.tensor(w0).requires_grad_()

        def f(xi):
            return (xi @ w).tanh()

        f = G.compile(f) if T is G else f
        y = T.func.vmap(f, in_dims=1)(T.tensor(x).t())
        y.pow(2).sum().backward()
        out.append((y, w.grad))
    _close(out[1][0], out[0][0])
    _close(out[1][1], out[0][1])


# ---- autograd.grad(is_grads_batched=True, materialize_grads=True) ------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_batched_grad_materializes_input_shaped_zeros(create_graph):
    res = []
    for T in (torch, G):
        x = T.tensor(LOGITS[:3, :4]).requires_grad_()
        w = (T.tensor(LOGITS[:3, :4]) * 2).requires_grad_()
        y = x.sin()
        res.append(T.autograd.grad(y, (x, w), T.ones(5, 3, 4) * 2, is_grads_batched=True,
                                   materialize_grads=True, create_graph=create_graph))
    for g, w in zip(res[1], res[0]):
        _close(g, w)
        assert g.requires_grad == w.requires_grad


# ---- func.jvp refuses integer primals and tangents ---------------------------------------
@pytest.mark.parametrize("primal_dtype, tangent_dtype, what", [
    ("float32", "int64", "tangent"), ("float32", "bool", "tangent"),
    ("int64", "int64", "primal"), ("int64", "float32", "primal")])
def test_func_jvp_refuses_integer_tangents(primal_dtype, tangent_dtype, what):
    bad = tangent_dtype if what == "tangent" else primal_dtype
    for T in (torch, G):
        p = T.ones(3, dtype=getattr(T, primal_dtype))
        t = T.ones(3, dtype=getattr(T, tangent_dtype))
        with pytest.raises(ValueError, match=f"Expected {what} to be floating point or "
                                             f"complex, but got: .*{bad}"):
            T.func.jvp(lambda z: z * 2, (p,), (t,))


# ---- vmap: a batched value written into an unbatched tensor ------------------------------
INPLACE = {
    "mul_": lambda T, l: T.ones(3).mul_(l[:3]),
    "copy_": lambda T, l: T.zeros(3).copy_(l[:3]),
    "setitem": lambda T, l: (lambda z: (z.__setitem__(0, l[0]), z)[1])(T.zeros(3)),
    "view": lambda T, l: (lambda z: (z[:2].add_(l[:2]), z)[1])(T.zeros(3)),
    "nested": lambda T, l: T.func.vmap(lambda a: T.zeros(()).add_(a))(l),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_vmap_inplace_batched_into_unbatched_raises(name):
    for T in (torch, G):
        with pytest.raises(RuntimeError):
            T.func.vmap(lambda l: INPLACE[name](T, l))(T.tensor(LOGITS))


def test_vmap_inplace_allowed_cases_match_torch():
    cases = [lambda T, l: T.zeros(3).add_(T.ones(3)) * l[:3],
             lambda T, l: l.clone().add_(T.ones(7)).mul_(l)]
    for fn in cases:
        want = torch.func.vmap(lambda l: fn(torch, l))(torch.tensor(LOGITS))
        got = G.func.vmap(lambda l: fn(G, l))(G.tensor(LOGITS))
        _close(got, want)


def test_vmap_indexes_each_sample_by_its_own_zero_d_index():
    """`l[t]` with a batched 0-d index is a select per sample (it was refused as
    data-dependent control flow: the index was read as one Python int)."""
    rows = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    picks = np.array([2, 0, -1, 2])
    outs = []
    for lib in (torch, G):
        rows_t = lib.tensor(rows, requires_grad=True)
        out = lib.func.vmap(lambda r, i: r[i] * 2)(rows_t, lib.tensor(picks))
        out.sum().backward()
        outs.append((out.detach().numpy(), rows_t.grad.numpy()))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][1])
    with pytest.raises(IndexError, match="out of bounds"):
        G.func.vmap(lambda r, i: r[i])(G.tensor(rows), G.tensor([0, 5, 1, 1]))
