"""Static programs on the CPU compile with XLA-CPU's library matmuls and reductions (the
`checked` option set), and each compiled program is read before it runs: where a library
fusion takes in an array XLA repeats from a smaller one (a broadcast, an iota) through a
matmul or a reduction, forms that computed wrong values silently, the program is compiled
again without the reduce fusion (graphnet/_xla.py, graphnet/_xla_check.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet import _xla
from graphnet._xla_check import risky_fusions

REDUCE = {"xla_cpu_experimental_ynn_fusion_type":
          "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"}
DOT = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_DOT"}
NONE = {"xla_cpu_experimental_ynn_fusion_type": ""}
T = np.random.default_rng(2).standard_normal((3, 45, 2)).astype(np.float32)
V = np.random.default_rng(3).standard_normal(2).astype(np.float32)


def _softmax_of_constant_product(t):
    return jax.nn.softmax(jnp.matmul(t, jnp.full((3, 2, 40), 1.5, jnp.float32)), axis=1)


def _sum_of_broadcast_product(t, v):
    return jnp.matmul(t, jnp.broadcast_to(v.reshape(1, 2, 1), (3, 2, 40))).sum(1)


def _matmul_of_full(a):
    return a @ jnp.full((2, 4), 1.5, jnp.float32)


KNOWN_WRONG = [(_softmax_of_constant_product, (T,), REDUCE),
               (_sum_of_broadcast_product, (T, V), REDUCE),
               (_matmul_of_full, (T[0, :9],), DOT)]


def _hlo(fn, args, options):
    return jax.jit(fn, compiler_options=options).lower(*args).compile().as_text()


@pytest.mark.parametrize("case", range(len(KNOWN_WRONG)))
def test_every_known_miscompile_is_read_as_risky(case):
    fn, args, options = KNOWN_WRONG[case]
    [why] = risky_fusions(_hlo(fn, args, options))
    assert "dot" in why and "repeats" in why
    assert risky_fusions(_hlo(fn, args, NONE)) == []    # no library fusion: nothing to read


def test_reductions_of_products_and_scaled_sums_pass():
    """BatchNorm's backward (sums of products over N, H, W) and a sum scaled after it: the
    library fusions ResNet-18's training step gets, none of which reads a repeated array."""
    x = np.random.default_rng(0).standard_normal((8, 16, 6, 6)).astype(np.float32)

    def bn_sums(a, b):
        return (a * b).sum((0, 2, 3)), a.sum((0, 2, 3)) * 0.25, jnp.matmul(a[0, 0], b[0, 0])

    hlo = _hlo(bn_sums, (x, x + 1), REDUCE)
    assert '"kind":"__ynn_fusion"' in hlo and risky_fusions(hlo) == []


def test_a_rank7_reduction_in_a_library_fusion_is_risky():
    hlo = """
%fused (p: f32[1,2,3,4,5,6,7], z: f32[]) -> f32[1] {
  %p = f32[1,2,3,4,5,6,7]{6,5,4,3,2,1,0} parameter(0)
  %z = f32[] parameter(1)
  ROOT %r = f32[1]{0} reduce(%p, %z), dimensions={1,2,3,4,5,6}, to_apply=%add
}

ENTRY %main (a: f32[1,2,3,4,5,6,7]) -> (f32[1], f32[]) {
  %a = f32[1,2,3,4,5,6,7]{6,5,4,3,2,1,0} parameter(0)
  %c = f32[] constant(0)
  %f = f32[1]{0} fusion(%a, %c), kind=kCustom, calls=%fused, backend_config={"fusion_config":{"kind":"__ynn_fusion"}}
  ROOT %t = (f32[1]{0}, f32[]) tuple(%f, %c)
}
"""
    [why] = risky_fusions(hlo)
    assert why.startswith("fused: a reduction of rank 7")


def test_a_program_with_a_risky_fusion_is_compiled_again_and_computes_right():
    want = np.asarray(jax.jit(_softmax_of_constant_product, compiler_options=NONE)(T))
    program = _xla.jit(_softmax_of_constant_product, program=True)
    assert isinstance(program, _xla.CheckedProgram)
    np.testing.assert_allclose(np.asarray(program(T)), want, rtol=1e-5, atol=1e-6)
    assert program.chosen == "library_dots" and program.risky
    fine = _xla.jit(lambda a, b: (a @ b).sum(0), program=True)
    a = jnp.ones((4, 3))
    np.testing.assert_allclose(np.asarray(fine(a, jnp.ones((3, 2)))), [12.0, 12.0])
    assert fine.chosen == "checked"
    # another signature gets its own executable, read on its own
    np.testing.assert_allclose(np.asarray(fine(jnp.ones((5, 3)), jnp.ones((3, 2)))),
                               [15.0, 15.0])
    assert fine._cache_size() == 2
    with pytest.raises(TypeError, match="contracting dimensions"):
        fine(jnp.ones((5, 4)), jnp.ones((3, 2)))


def test_explain_and_the_plan_dump_say_which_set_a_program_ran_with():
    from graphnet.runtime.artifact_dumps import format_plan_dump, plan_dump

    def bad(t, w):
        return gn.bmm(t, w.view(1, 2, 1).expand(3, 2, 40)).sum(1)

    want = torch.bmm(torch.tensor(T), torch.tensor(V).view(1, 2, 1).expand(3, 2, 40)).sum(1)
    fast = gn.compile(bad)
    t, w = gn.tensor(T), gn.tensor(V)
    np.testing.assert_allclose(fast(t, w).numpy(), want.numpy(), rtol=1e-4, atol=1e-4)
    graph = fast.explain()["per_graph"][-1]
    assert graph["xla_options"] == "library_dots" and graph["xla_risky_fusions"]
    assert "compiled again without it: a library fusion may compute wrong values" in \
        format_plan_dump(plan_dump(fast, t, w))

    good = gn.compile(lambda t: (t * 2).sum(1))
    np.testing.assert_allclose(good(t).numpy(), T.sum(1) * 2, rtol=1e-5)
    graph = good.explain()["per_graph"][-1]
    assert graph["xla_options"] == "checked" and graph["xla_risky_fusions"] == []


def test_a_training_step_with_the_checked_set_matches_torch():
    """A step whose backward sums a broadcast gradient through matmuls: `mean` of a linear
    layer's output gives each output the same gradient, a broadcast into two matmuls."""
    def make(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.Tanh(), lib.nn.Linear(5, 3))

    tm, gm = make(torch), make(gn)
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((40, 6)).astype(np.float32)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    gopt = gn.optim.SGD(gm.parameters(), lr=0.1, momentum=0.9)

    def step(m, opt, xs):
        opt.zero_grad()
        loss = m(xs).mean()
        loss.backward()
        opt.step()
        return loss

    fast = gn.compile(lambda xs: step(gm, gopt, xs))
    for _ in range(3):
        want = step(tm, topt, torch.tensor(x)).item()
        assert abs(fast(gn.tensor(x)).item() - want) < 1e-5
    for (name, p), q in zip(tm.named_parameters(), gm.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_a_program_that_cannot_be_read_compiles_without_the_reduce_fusion(monkeypatch):
    """Over several devices (or with static arguments) the executable is not called directly,
    so the program is not read: it takes library_dots, never the unread reduce fusion."""
    monkeypatch.setattr(_xla.jax, "device_count", lambda: 2)
    program = _xla.jit(_softmax_of_constant_product, program=True)
    assert not isinstance(program, _xla.CheckedProgram)
    want = np.asarray(jax.jit(_softmax_of_constant_product, compiler_options=NONE)(T))
    np.testing.assert_allclose(np.asarray(program(T)), want, rtol=1e-5, atol=1e-6)
    with_static = _xla.jit(lambda t, k: _softmax_of_constant_product(t) * k, program=True,
                           static_argnums=(1,))
    np.testing.assert_allclose(np.asarray(with_static(T, 2)), want * 2, rtol=1e-5, atol=1e-6)
