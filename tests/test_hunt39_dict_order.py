"""graphnet.func's transforms give dicts back in the caller's key order, as torch.func does.
JAX rebuilt them with sorted keys: `zip(model.parameters(), grads.values())` (the
per-sample-gradient tutorial) paired each parameter with another one's gradient."""
import collections

import numpy as np
import pytest
import torch

import graphnet as G

RNG = np.random.default_rng(3)
Q, K = RNG.standard_normal((3, 3)).astype(np.float32), RNG.standard_normal((2, 3)).astype(
    np.float32)
X = RNG.standard_normal((4, 3)).astype(np.float32)


def _params(lib):   # "query" before "key": not sorted
    return {"query.weight": lib.tensor(Q), "key.weight": lib.tensor(K)}


def _loss(lib):
    def loss(p, x):
        return (lib.tanh(x @ p["query.weight"].T) @ p["key.weight"].T).pow(2).sum()
    return loss


def _programs(lib):
    fn, loss = lib.func, _loss(lib)
    return {
        "grad": lambda x: fn.grad(loss)(_params(lib), x),
        "per_sample": lambda x: fn.vmap(fn.grad(loss), in_dims=(None, 0))(_params(lib), x),
        "jacrev": lambda x: fn.jacrev(lambda p: loss(p, x))(_params(lib)),
        "vmap_out": lambda x: fn.vmap(lambda r: {"z": r.sin(), "a": r.cos()})(x),
        "vmap_seen": lambda x: fn.vmap(
            lambda p, r: {k: v.sum() * r.sum() for k, v in p.items()},
            in_dims=(None, 0))(_params(lib), x),
    }


@pytest.mark.parametrize("name", sorted(_programs(torch)))
@pytest.mark.parametrize("static", [False, True])
def test_dict_keys_keep_their_order(name, static):
    want = _programs(torch)[name](torch.tensor(X))
    program = _programs(G)[name]
    got = (G.compile(program) if static else program)(G.tensor(X))
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_allclose(got[k].detach().numpy(), want[k].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_containers_rebuilt_as_given():
    Pair = collections.namedtuple("Pair", "b a")
    d = collections.defaultdict(list, {"z": G.tensor(X[0]), "a": G.tensor(X[1])})
    got = G.func.grad(lambda t: (t[0]["z"] * t[0]["a"]).sum() + t[1].a.sum())(
        (d, Pair(G.tensor(X[2]), G.tensor(X[3]))))
    assert type(got[0]) is collections.defaultdict and got[0].default_factory is list
    assert list(got[0]) == ["z", "a"] and type(got[1]) is Pair
    np.testing.assert_allclose(got[0]["z"].numpy(), X[1])
    np.testing.assert_allclose(got[1].a.numpy(), np.ones(3))


def test_factories_of_a_mapped_float64_keep_their_dtype():
    """Eager vmap's `full_like` / `zeros_like` of a mapped tensor ran outside graphnet's
    64-bit scope: float64 became float32 (0.1 rounded) and int64 int32, jvp's tangents too."""
    x = np.arange(6.0).reshape(2, 3) / 7
    for static in (False, True):
        def f(x, y):
            a = G.func.vmap(lambda u: G.full_like(u, 0.1))(x)
            b = G.func.vmap(lambda u: G.func.jvp(lambda v: v.tanh(), (u,),
                                                 (G.ones_like(u),))[1])(x)
            return a, b, G.func.vmap(lambda t: G.zeros_like(t))(y)
        a, b, c = (G.compile(f) if static else f)(G.tensor(x), G.tensor(np.array([1, 2])))
        assert (a.dtype, b.dtype, c.dtype) == (G.float64, G.float64, G.int64)
        assert float(a[0, 0]) == 0.1
        np.testing.assert_allclose(b.numpy(), 1 - np.tanh(x) ** 2, rtol=1e-12)
