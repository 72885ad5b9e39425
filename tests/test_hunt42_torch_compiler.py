"""`torch.compiler`'s user-facing names on `graphnet.compiler`: code written for
torch.compile that asks `is_compiling()`, marks helpers with `disable`, or calls `reset()`
runs unchanged, and computes what PyTorch computes."""
import pytest
import torch

import graphnet as G


def test_is_compiling_is_false_eagerly_and_true_while_tracing():
    seen = []

    def f(x):
        seen.append(G.compiler.is_compiling())
        return x if G.compiler.is_compiling() else x * 0

    assert not G.compiler.is_compiling() and not G.compiler.is_dynamo_compiling()
    assert G.compiler.is_exporting() is False
    out = G.compile(f)(G.ones(2))
    assert out.tolist() == [1.0, 1.0] and seen == [True]
    assert f(G.ones(2)).tolist() == [0.0, 0.0] and seen == [True, False]


def test_disabled_helpers_give_torchs_values_in_both_modes():
    def build(lib):
        @lib.compiler.disable
        def scale(x):
            return x * 2

        @lib.compiler.disable(recursive=False)
        def shift(x):
            return x + 1

        net = lib.nn.Linear(3, 2)
        with lib.no_grad():
            net.weight.copy_(lib.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]]))
            net.bias.fill_(0.25)
        return lambda x: shift(scale(net(x))).sum(), net

    x = [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]
    want_f, want_net = build(torch)
    want = want_f(torch.tensor(x))
    want.backward()
    for compiled in (False, True):
        f, net = build(G)
        f = G.compile(f) if compiled else f
        got = f(G.tensor(x))
        got.backward()
        assert got.item() == pytest.approx(want.item())
        assert net.weight.grad.tolist() == want_net.weight.grad.tolist()
        assert G.compiler.allow_in_graph(f) is f
        G.compiler.cudagraph_mark_step_begin()


def test_reset_forgets_every_compiled_program():
    f = G.compile(lambda x: x * 3)
    g = G.compile(G.nn.Linear(2, 2))
    f(G.ones(2)), g(G.ones(1, 2)), f(G.ones(3))
    assert len(f.compiled.artifacts) == 2 and len(g.compiled.artifacts) == 1
    assert f.compiled.recompile_reasons
    G.compiler.reset()
    assert len(f.compiled.artifacts) == 0 and len(g.compiled.artifacts) == 0
    assert not f.compiled.recompile_reasons
    assert f(G.ones(2)).tolist() == [3.0, 3.0] and len(f.compiled.artifacts) == 1


def test_a_missing_compiler_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'graphnet.compiler' has no attribute 'nope'"):
        G.compiler.nope  # noqa: B018
