"""Names a sweep found missing, against PyTorch 2.13 eagerly and compiled: constants, memory
formats, index_reduce, linalg's *_ex and LU functions (eig refused), gradient, nn.utils.prune."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import graphnet as gn
import graphnet.nn.utils.prune as gprune

warnings.filterwarnings("ignore", message="index_reduce")
RNG = np.random.default_rng(7)


def _lib_tensor(T, a, grad=False):
    t = (torch.tensor if T is torch else gn.tensor)(a)
    return t.requires_grad_() if grad and a.dtype.kind == "f" else t


def _both(fn, *arrays, compiled=True, grad=True, atol=1e-6, rtol=1e-6):
    """fn(T, *tensors) on torch, graphnet eager and graphnet compiled: outputs (values and
    dtypes) and the float inputs' gradients of a fixed weighted sum of the outputs agree."""
    results = []
    for T, comp in [(torch, False), (gn, False)] + ([(gn, True)] if compiled else []):
        ins = [_lib_tensor(T, a, grad) for a in arrays]
        call = gn.compile(lambda *xs: fn(gn, *xs)) if comp else (lambda *xs: fn(T, *xs))
        outs = call(*ins)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        values = [o.detach().numpy() for o in outs]
        if grad:
            terms = [(o * _lib_tensor(T, np.cos(np.arange(o.numel())).reshape(v.shape)
                                      .astype(v.dtype))).sum()
                     for o, v in zip(outs, values) if v.dtype.kind == "f" and np.isfinite(v).all()]
            sum(terms).backward()
        results.append((values, [i.grad.numpy() for i in ins if i.grad is not None]))
    (want, want_grads), *gots = results
    for got, got_grads in gots:
        for a, b in zip(want, got):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(b, a, atol=atol, rtol=rtol, equal_nan=True)
        assert len(want_grads) == len(got_grads)
        for a, b in zip(want_grads, got_grads):
            np.testing.assert_allclose(b, a, atol=10 * atol, rtol=10 * rtol)


def _same_error(fn):
    errors = []
    for T in (torch, gn):
        with pytest.raises(Exception) as info:
            fn(T)
        errors.append(info.value)
    assert isinstance(errors[1], type(errors[0])) or \
        type(errors[0]).__name__.lstrip("_") == type(errors[1]).__name__, errors
    # graphnet names itself where torch does; a compiled error adds a line naming the op
    said = [str(e).replace("graphnet.", "torch.").splitlines()[0].split(", but expected")[0]
            for e in errors]
    assert said[1] == said[0], errors


# ---- constants and memory formats ---------------------------------------------------------
def test_constants_are_torchs():
    for name in ("inf", "pi", "e"):
        assert type(getattr(gn, name)) is type(getattr(torch, name))
        assert getattr(gn, name) == getattr(torch, name)
    assert math.isnan(gn.nan) and type(gn.nan) is float and gn.newaxis is torch.newaxis is None
    assert gn.zeros(3)[:, gn.newaxis].shape == (3, 1)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (1, 3, 4, 5),
                                   (0, 3, 4, 5), (2, 3, 1, 5), (2, 0, 4, 5)])
def test_channels_last_strides_and_contiguity(shape):
    def facts(T):
        x = T.ones(*shape)
        y = x.contiguous(memory_format=T.channels_last)
        return (x.is_contiguous(memory_format=T.channels_last), y.stride(), y.is_contiguous(),
                y.is_contiguous(memory_format=T.channels_last), T.empty_like(y).stride(),
                T.zeros_like(y, memory_format=T.contiguous_format).stride(), y.clone().stride(),
                y.to(T.float64).stride(), y.to(memory_format=T.contiguous_format).stride(),
                y.permute(0, 2, 3, 1).is_contiguous(), y.flatten(2).stride(),
                x.is_contiguous(memory_format=T.preserve_format))
    assert facts(gn) == facts(torch)


def test_memory_format_objects_and_other_layouts():
    for T in (torch, gn):
        z = T.randn(2, 3, 4, 5, 6).contiguous(memory_format=T.channels_last_3d)
        assert z.stride() == (360, 1, 90, 18, 3)
        assert z.is_contiguous(memory_format=T.channels_last_3d)
        assert T.empty(2, 3, 4, 5, memory_format=T.channels_last).stride() == (60, 1, 15, 3)
        assert T.clone(T.ones(2, 3, 4, 5), memory_format=T.channels_last).stride() == \
            (60, 1, 15, 3)
        assert isinstance(T.channels_last, T.memory_format)
        assert not T.ones(3, 4).is_contiguous(memory_format=T.channels_last)
    assert repr(gn.channels_last) == "graphnet.channels_last"
    assert __import__("pickle").loads(__import__("pickle").dumps(gn.channels_last)) is gn.channels_last


@pytest.mark.parametrize("call", [
    lambda T: T.randn(2, 3, 4).contiguous(memory_format=T.channels_last),
    lambda T: T.randn(2, 3, 4, 5).contiguous(memory_format=T.channels_last_3d),
    lambda T: T.randn(3, 4).to(memory_format=T.channels_last),
    lambda T: T.zeros_like(T.randn(3, 4), memory_format=T.channels_last),
    lambda T: T.randn(2, 3, 4, 5).transpose(2, 3).contiguous(memory_format=T.preserve_format),
    lambda T: T.randn(2, 3).contiguous(memory_format="channels_last"),
    lambda T: T.randn(2, 3).is_contiguous(memory_format="channels_last"),
    lambda T: T.memory_format(),
    lambda T: T.randn(2, 3, 4, 5).contiguous(memory_format=T.channels_last).view(2, -1),
])
def test_memory_format_errors_match_torch(call):
    _same_error(call)


def test_channels_last_values_and_gradients_eager_and_compiled():
    def fn(T, x, w):
        y = x.contiguous(memory_format=T.channels_last) * 2
        m = T.nn.functional.conv2d(y.clone(memory_format=T.channels_last), w)
        return m.to(memory_format=T.contiguous_format) + T.zeros_like(m)
    _both(fn, RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((4, 3, 3, 3)), atol=1e-5)
    for T in (torch, gn):   # accepted by Module.to; the numbers do not change
        layer = T.nn.Conv2d(3, 2, 3).to(memory_format=T.channels_last)
        assert tuple(layer(T.ones(1, 3, 4, 4)).shape) == (1, 2, 2, 2)


# ---- index_reduce ---------------------------------------------------------------------------
_TIED = (np.array([[1., 2, 0], [3, 3, 3], [5, 0, 1], [2, 2, 2]]),
         np.array([[1., 2, 0], [3, 1, 3], [1, 0, 0], [3, 3, 3], [2, 9, 0]]),
         np.array([0, 1, 0, 1, 2]), 0)
_RANDOM = (RNG.standard_normal((3, 4, 5)).astype(np.float32),
           RNG.standard_normal((3, 6, 5)).astype(np.float32), np.array([0, 3, 3, 1, 0, 2]), 1)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("inputs", [_TIED, _RANDOM], ids=["ties_and_zeros", "random"])
def test_index_reduce_values_and_gradients(reduce, include_self, inputs):
    x, source, index, dim = inputs
    _both(lambda T, a, s, i: a.index_reduce(dim, i, s, reduce, include_self=include_self),
          x, source, index, atol=1e-5)


def test_index_reduce_integers_inplace_and_function():
    x, s, i = np.array([[1, 2], [3, 4], [5, 6]]), np.array([[-2, 2], [-3, 4]]), np.array([0, 0])
    for include_self in (True, False):     # integer mean rounds down, as in torch
        _both(lambda T, a, b, c: T.index_reduce(a, 0, c, b, "mean", include_self=include_self),
              x, s, i, grad=False)
    for T in (torch, gn):
        t = T.ones(3)
        assert t.index_reduce_(0, T.tensor([1]), T.tensor([5.]), "amax") is t
        assert t.tolist() == [1.0, 5.0, 1.0]
    assert gn.ones(3, requires_grad=True).index_reduce(
        0, gn.tensor([1]), gn.tensor([5.]), "amax").grad_fn.name() == "IndexReduceBackward0"


@pytest.mark.parametrize("call", [
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([0, 2, 0, 7]), T.randn(4, 3), "prod"),
    lambda T: T.randn(5, 3, 2).index_reduce(1, T.tensor([0, -1]), T.randn(5, 2, 2), "amax"),
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([0, 2]), T.randn(2, 3), "sum"),
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([0., 2]), T.randn(2, 3), "prod"),
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([[0, 2]]), T.randn(2, 3), "prod"),
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([0, 2]), T.randn(2, 3).double(), "prod"),
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([0, 2]), T.randn(3, 3), "prod"),
    lambda T: T.randn(5, 3).index_reduce(0, T.tensor([0, 2]), T.randn(2, 2), "prod"),
    lambda T: T.randn(5, 3).index_reduce(2, T.tensor([0, 2]), T.randn(2, 3), "prod"),
])
def test_index_reduce_errors_match_torch(call):
    _same_error(call)


def test_index_reduce_out_of_range_index_raises_when_compiled():
    step = gn.compile(lambda x, i, s: x.index_reduce(0, i, s, "amin"))
    with pytest.raises(IndexError, match="index out of range in self"):
        step(gn.randn(5, 3), gn.tensor([0, 9]), gn.randn(2, 3))


# ---- linalg -----------------------------------------------------------------------------------
_A, _B = RNG.standard_normal((2, 3, 3)), RNG.standard_normal((3, 2))
_SINGULAR = np.array([[1., 2], [2, 4]])
_NOT_PD = np.array([[4., 2, 1], [2, 1, 3], [1, 3, -1]])


@pytest.mark.parametrize("fn,arrays", [
    (lambda T, a: T.linalg.lu_factor(a), (_A,)),
    (lambda T, a: T.linalg.lu_factor_ex(a), (RNG.standard_normal((4, 3)),)),
    (lambda T, a: T.linalg.lu(a), (RNG.standard_normal((3, 5)),)),
    (lambda T, a: T.linalg.lu(a), (_A,)),
    (lambda T, a: T.lu_unpack(*T.linalg.lu_factor(a), unpack_pivots=False), (_A,)),
    (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b), (_A, _B)),
    (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b.mT, left=False), (_A, _B)),
    (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b.mT, left=False,
                                       adjoint=True), (_A, _B)),
    (lambda T, a, b: T.lu_solve(b, *T.lu(a)) + b.lu_solve(*a.lu()), (_A[0], _B)),
    (lambda T, a: T.lu(a, get_infos=True), (_A[0],)),
    (lambda T, a, b: T.linalg.solve_ex(a, b), (_A, _B)),
    (lambda T, a, b: T.linalg.solve_ex(a, b[:, 0]), (_A, _B)),
    (lambda T, a, b: T.linalg.solve_ex(a, b.mT.expand(2, 2, 3), left=False), (_A, _B)),
    (lambda T, a: T.linalg.inv_ex(a), (_A,)),
    (lambda T, a: T.linalg.cholesky_ex(a @ a.mT + T.eye(3)), (_A,)),
    (lambda T, a: T.linalg.cholesky_ex(a @ a.mT + T.eye(3), upper=True), (_A,)),
    (lambda T, a, t: T.linalg.householder_product(a, t), (RNG.standard_normal((2, 4, 3)),
                                                          RNG.standard_normal((2, 2)))),
], ids=lambda v: "" if not callable(v) else None)
def test_linalg_values_and_gradients(fn, arrays):
    _both(fn, *arrays, atol=1e-6)


@pytest.mark.parametrize("fn,arrays", [
    (lambda T, a, b: T.linalg.solve_ex(a, b), (_SINGULAR, np.ones(2))),
    (lambda T, a: T.linalg.inv_ex(a), (np.stack([_SINGULAR, np.eye(2)]),)),
    (lambda T, a: T.linalg.lu_factor_ex(a), (_SINGULAR,)),
    (lambda T, a: T.linalg.cholesky_ex(a), (_NOT_PD,)),
    (lambda T, a: T.linalg.cholesky_ex(a, upper=True), (_NOT_PD,)),
    (lambda T, a: T.linalg.cholesky_ex(a), (np.stack([_SINGULAR, np.eye(2)]),)),
    (lambda T, a: T.lu_unpack(*T.linalg.lu_factor(a), unpack_data=False), (_A,)),
])
def test_linalg_failures_report_info_as_torch(fn, arrays):
    _both(fn, *arrays, grad=False)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("call", [
    lambda T, a: T.linalg.lu_factor(a),
    lambda T, a: T.linalg.lu_factor_ex(a, check_errors=True),
    lambda T, a: T.linalg.solve_ex(a, a, check_errors=True),
    lambda T, a: T.linalg.inv_ex(a, check_errors=True),
    lambda T, a: T.linalg.cholesky_ex(a - 3 * T.eye(2), check_errors=True),
])
def test_linalg_check_errors_raise_as_torch(call, compiled):
    def run(T):
        fn = gn.compile(lambda a: call(gn, a)) if compiled and T is gn else \
            (lambda a: call(T, a))
        return fn(_lib_tensor(T, _SINGULAR))
    _same_error(run)


def test_eig_and_eigvals_refuse_with_a_clear_error():
    for name in ("eig", "eigvals"):
        with pytest.raises(TypeError, match="no complex dtype"):
            getattr(gn.linalg, name)(gn.randn(3, 3))


# ---- torch.gradient -------------------------------------------------------------------------
_C0, _C1 = np.array([0., 0.5, 1.7, 3.0]), np.cumsum(RNG.random(5) + 0.1)


@pytest.mark.parametrize("kwargs", [
    {}, {"spacing": 2.0}, {"spacing": (2.0, 0.5)}, {"dim": 1}, {"dim": [1, 0], "spacing": [3., 2]},
    {"edge_order": 2}, {"edge_order": 2, "spacing": 0.3, "dim": 0}, {"spacing": "xy"},
    {"spacing": "xy", "edge_order": 2}, {"spacing": "y", "dim": 1, "edge_order": 2}])
def test_gradient_values_and_gradients(kwargs):
    def fn(T, x):
        k = dict(kwargs)
        if isinstance(k.get("spacing"), str):
            k["spacing"] = [T.tensor(c) for c in ((_C0, _C1) if k["spacing"] == "xy" else (_C1,))]
        return T.gradient(x, **k)
    _both(fn, RNG.standard_normal((4, 5)), atol=1e-10, rtol=1e-10)


def test_gradient_of_integers():
    _both(lambda T, x: T.gradient(x, spacing=2), np.arange(5), grad=False)


@pytest.mark.parametrize("call", [
    lambda T: T.gradient(T.ones(3, 4), edge_order=3),
    lambda T: T.gradient(T.ones(1, 4)),
    lambda T: T.gradient(T.ones(2, 4), edge_order=2),
    lambda T: T.gradient(T.ones(3, 4), spacing=[2.]),
    lambda T: T.gradient(T.ones(3, 4), spacing=[2.], dim=[0, 1]),
    lambda T: T.gradient(T.ones(3, 4), spacing=[T.tensor(2.), T.tensor(1.)]),
    lambda T: T.gradient(T.ones(3, 4), dim=2),
    lambda T: T.linalg.solve_ex(T.randn(2, 3, 3), T.randn(2, 3), left=False),
    lambda T: T.linalg.lu_factor(T.randn(3, 3), pivot=False),
])
def test_gradient_errors_match_torch(call):
    _same_error(call)


# ---- nn.utils.prune -------------------------------------------------------------------------
def _linears(n_in=6, n_out=4):
    w = RNG.standard_normal((n_out, n_in)).astype(np.float32)
    b = RNG.standard_normal(n_out).astype(np.float32)
    pair = []
    for T in (torch, gn):
        layer = T.nn.Linear(n_in, n_out)
        with T.no_grad():
            layer.weight.copy_(T.tensor(w))
            layer.bias.copy_(T.tensor(b))
        pair.append(layer)
    return pair


def _same_module(t, g):
    ts, gs = t.state_dict(), g.state_dict()
    assert list(gs) == list(ts)
    for key in ts:
        np.testing.assert_array_equal(gs[key].numpy(), ts[key].numpy())
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(getattr(g, name).detach().numpy(),
                                      getattr(t, name).detach().numpy())
    assert repr(g) == repr(t)
    assert gprune.is_pruned(g) == tprune.is_pruned(t)


def test_prune_methods_give_torchs_masks_and_state():
    t, g = _linears()
    steps = [lambda P, m: P.l1_unstructured(m, "weight", amount=0.3),
             lambda P, m: P.ln_structured(m, "weight", amount=1, n=2, dim=0),
             lambda P, m: P.l1_unstructured(m, "weight", amount=3),
             lambda P, m: P.ln_structured(m, "weight", amount=0.5, n=1, dim=1),
             lambda P, m: P.identity(m, "bias"),
             lambda P, m: P.custom_from_mask(m, "bias", mask=(m.bias_orig > 0).float())]
    for step in steps:
        step(tprune, t)
        step(gprune, g)
        _same_module(t, g)
    hook = next(h for h in g._forward_pre_hooks.values() if h._tensor_name == "weight")
    assert isinstance(hook, gprune.PruningContainer) and len(hook) == 4
    for name in ("weight", "bias"):
        tprune.remove(t, name)
        gprune.remove(g, name)
        _same_module(t, g)


def test_global_and_custom_pruning_match_torch():
    (t1, g1), (t2, g2) = _linears(), _linears(3, 5)
    tprune.global_unstructured([(t1, "weight"), (t2, "weight"), (t1, "bias")],
                               tprune.L1Unstructured, amount=0.4)
    gprune.global_unstructured([(g1, "weight"), (g2, "weight"), (g1, "bias")],
                               gprune.L1Unstructured, amount=0.4)
    _same_module(t1, g1)
    _same_module(t2, g2)

    def every_other(P):
        class EveryOther(P.BasePruningMethod):
            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t, default_mask):
                mask = default_mask.clone().reshape(-1)
                mask[::2] = 0
                return mask.reshape(tuple(default_mask.shape))
        return EveryOther
    t, g = _linears()
    every_other(tprune).apply(t, "weight")
    every_other(gprune).apply(g, "weight")
    _same_module(t, g)


def test_random_pruning_counts_and_structure():
    _, g = _linears()
    gprune.random_unstructured(g, "weight", amount=0.5)
    assert int((g.weight_mask == 0).sum()) == 12
    gprune.random_structured(g, "weight", amount=2, dim=0)
    rows_pruned = (g.weight_mask.sum(1) == 0).sum()
    assert int(rows_pruned) >= 2 and set(np.unique(g.weight_mask.numpy())) <= {0.0, 1.0}


@pytest.mark.parametrize("call", [
    lambda P, m: P.l1_unstructured(m, "weight", amount=1.5),
    lambda P, m: P.l1_unstructured(m, "weight", amount=100),
    lambda P, m: P.l1_unstructured(m, "weight", amount="a"),
    lambda P, m: P.remove(m, "bias"),
    lambda P, m: P.ln_structured(m, "bias", amount=1, n=2, dim=0),
    lambda P, m: P.global_unstructured([(m, "weight")], P.LnStructured, amount=1, n=2, dim=0),
])
def test_prune_errors_match_torch(call):
    t, g = _linears()
    _same_error(lambda T: call(tprune if T is torch else gprune, t if T is torch else g))


def test_pruned_layer_trains_like_torch_in_a_compiled_step():
    x = RNG.standard_normal((8, 6)).astype(np.float32)
    y = RNG.standard_normal((8, 4)).astype(np.float32)
    layers, steps = _linears(), []
    for T, P, layer in zip((torch, gn), (tprune, gprune), layers):
        P.l1_unstructured(layer, "weight", amount=0.5)
        opt = T.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)

        def step(a, b, layer=layer, opt=opt):
            opt.zero_grad()
            loss = ((layer(a) - b) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        steps.append(gn.compile(step) if T is gn else step)
    for _ in range(3):
        want = steps[0](torch.tensor(x), torch.tensor(y)).item()
        got = steps[1](gn.tensor(x), gn.tensor(y)).item()
        assert got == pytest.approx(want, rel=1e-5)
    for name in ("weight_orig", "weight"):
        np.testing.assert_allclose(getattr(layers[1], name).detach().numpy(),
                                   getattr(layers[0], name).detach().numpy(), atol=1e-6)
