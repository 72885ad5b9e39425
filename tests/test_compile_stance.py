"""`graphnet.compiler.set_stance` (torch.compiler's), list_backends and the default backend:
what every compiled function does on its next calls, checked against torch's behaviour."""

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.fixture(autouse=True)
def _default_stance():
    yield
    gn.compiler.set_stance("default")
    gn.compiler.set_default_backend(None)


def _double():
    return gn.compile(lambda x: x * 2 + 1)


def test_fail_on_recompile_refuses_first_call_and_new_shapes_like_torch():
    f = _double()
    with gn.compiler.set_stance("fail_on_recompile"):
        with pytest.raises(RuntimeError, match="fail_on_recompile.*first call"):
            f(gn.ones(3))
    assert len(f.compiled.artifacts) == 0
    np.testing.assert_allclose(f(gn.ones(3)).numpy(), [3, 3, 3])
    with gn.compiler.set_stance("fail_on_recompile"):
        np.testing.assert_allclose(f(gn.full((3,), 2.0)).numpy(), [5, 5, 5])   # cached
        with pytest.raises(RuntimeError, match=r"shape \[3\] -> \[4\]"):
            f(gn.ones(4))
    assert len(f.compiled.artifacts) == 1
    # torch's own stance raises the same way on the first compile
    g = torch.compile(lambda x: x * 2 + 1, backend="eager")
    with torch.compiler.set_stance("fail_on_recompile"), pytest.raises(RuntimeError):
        g(torch.ones(3))


def test_eager_on_recompile_keeps_cached_programs_and_runs_new_shapes_eagerly():
    f = _double()
    f(gn.ones(3))
    with gn.compiler.set_stance("eager_on_recompile"):
        np.testing.assert_allclose(f(gn.ones(5)).numpy(), [3] * 5)
        np.testing.assert_allclose(f(gn.zeros(3)).numpy(), [1] * 3)
    assert len(f.compiled.artifacts) == 1 and f.compiled.recompile_reasons == ["first call"]
    f(gn.ones(5))   # the default stance compiles it now
    assert len(f.compiled.artifacts) == 2


def test_force_eager_runs_python_and_keeps_programs_as_context_function_and_decorator():
    m = gn.compile(gn.nn.Linear(2, 2))

    def program_runs():
        return sum(a.calls for a in m.compiled.artifacts)

    m(gn.ones(2))
    assert program_runs() == 1
    with gn.compiler.set_stance("force_eager"):
        out = m(gn.ones(2))
    assert program_runs() == 1 and out.grad_fn is not None   # an eager run's tape

    @gn.compiler.set_stance("force_eager")
    def run():
        return m(gn.ones(2))

    assert run.__name__ == "run"
    m(gn.ones(2))            # decorating did not change the stance
    assert program_runs() == 2
    run()
    assert program_runs() == 2
    gn.compiler.set_stance("force_eager")   # a plain call sets it until changed
    m(gn.ones(2))
    assert program_runs() == 2
    gn.compiler.set_stance("default")
    m(gn.ones(2))
    assert program_runs() == 3 and len(m.compiled.artifacts) == 1


def test_training_step_under_force_eager_then_compiled_matches_torch():
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2)
    model = gn.nn.Linear(3, 2)
    model.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    opts = [torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9),
            gn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)]

    def make_step(lib, net, opt):
        def step(x):
            opt.zero_grad()
            loss = (net(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return step

    step = gn.compile(make_step(gn, model, opts[1]))
    ref_step = make_step(torch, ref, opts[0])
    xs = np.random.default_rng(1).standard_normal((5, 4, 3)).astype(np.float32)
    stances = ["default", "force_eager", "default", "eager_on_recompile", "default"]
    for x, s in zip(xs, stances):
        with gn.compiler.set_stance(s):
            got = step(gn.tensor(x)).item()
        assert got == pytest.approx(ref_step(torch.tensor(x)).item(), rel=1e-5)
    np.testing.assert_allclose(model.weight.detach().numpy(), ref.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_eager_then_compile_runs_first_call_eagerly():
    for stance in ("eager_then_compile", "aot_eager_then_compile"):
        f = _double()
        with gn.compiler.set_stance(stance):
            np.testing.assert_allclose(f(gn.ones(2)).numpy(), [3, 3])
            assert len(f.compiled.artifacts) == 0
            f(gn.ones(2))
            assert len(f.compiled.artifacts) == 1


def test_force_backend():
    f = gn.compile(lambda x: x.sin(), backend="eager")
    g = _double()
    with gn.compiler.set_stance(force_backend="inductor"):
        np.testing.assert_allclose(f(gn.zeros(2)).numpy(), [0, 0])
    assert len(f.compiled.artifacts) == 1
    with gn.compiler.set_stance(force_backend="eager"):
        g(gn.ones(2))
    assert len(g.compiled.artifacts) == 0


def test_bad_stances_raise_as_torch_does():
    with pytest.raises(RuntimeError, match="invalid torch.compile stance 'bogus'"):
        gn.compiler.set_stance("bogus")
    for lib in (gn, torch):
        with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend"):
            lib.compiler.set_stance("force_eager", force_backend="eager")
    with pytest.raises(ValueError, match="backend 'tvm'"):
        gn.compiler.set_stance(force_backend="tvm")

    @gn.compile
    def inside(x):
        gn.compiler.set_stance("force_eager")
        return x

    with pytest.raises(RuntimeError, match="set_stance in a torch.compile region"):
        inside(gn.ones(1))
    assert gn.compiler.set_stance is gn._dynamo.set_stance


def test_list_and_default_backends():
    assert gn.compiler.list_backends() == ["cudagraphs", "inductor"]
    assert gn.compiler.list_backends(exclude_tags=()) == [
        "aot_eager", "cudagraphs", "eager", "inductor"]
    assert set(gn.compiler.list_backends()) <= set(torch.compiler.list_backends())
    assert gn._dynamo.list_backends() == gn.compiler.list_backends()
    assert gn.compiler.get_default_backend() == torch.compiler.get_default_backend()
    gn.compiler.set_default_backend("eager")
    assert gn.compiler.get_default_backend() == "eager"
    assert gn.compile(lambda x: x).compiled.mode == "dynamic"
    gn.compiler.set_default_backend(None)
    assert gn.compile(lambda x: x).compiled.mode == "static"
    with pytest.raises(ValueError, match="backend 'tvm'"):
        gn.compiler.set_default_backend("tvm")


def test_compiling_a_non_callable_is_refused_at_once_as_torch_does():
    for lib in (gn, torch):
        with pytest.raises(AssertionError, match="A callable function is expected, but "
                                                 "<class 'int'> is provided"):
            lib.compile(5)
