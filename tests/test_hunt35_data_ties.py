"""`t.data = other` shares `other`'s storage, as in PyTorch, whatever `other` is: a view of
a flat vector (the hand-written "set the flat parameters" loop of evolution strategies) or
a tensor itself (`b.weight.data = a.weight`). Before, only aliases and their views were
shared, and these left a silent copy."""

import pytest
import torch

import graphnet


def _flat_params(lib):
    m = lib.nn.Linear(3, 2)
    flat = lib.arange(8.)
    i = 0
    for p in m.parameters():
        p.data = flat[i:i + p.numel()].view_as(p)
        i += p.numel()
    flat.add_(1.)
    with lib.no_grad():
        m.bias.mul_(10.)
    return m.weight.tolist(), m.bias.tolist(), flat.tolist()


def test_data_set_to_a_view_of_a_flat_vector_shares_it_both_ways():
    got = _flat_params(graphnet)
    assert got == _flat_params(torch)
    assert got[1] == [70.0, 80.0] and got[2][-2:] == [70.0, 80.0]


def _data_set_to_a_parameter(lib):
    a, b = lib.nn.Linear(3, 2), lib.nn.Linear(3, 2)
    b.weight.data = a.weight
    with lib.no_grad():
        a.weight.fill_(5.)
    first = b.weight.tolist()
    with lib.no_grad():
        b.weight.mul_(2.)
    return first, a.weight.tolist()


def test_data_set_to_a_tensor_itself_shares_its_storage():
    got = _data_set_to_a_parameter(graphnet)
    assert got == _data_set_to_a_parameter(torch)
    assert got == ([[5.0] * 3] * 2, [[10.0] * 3] * 2)


def test_an_optimizer_step_reaches_the_flat_vector():
    results = []
    for lib in (torch, graphnet):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        flat = lib.zeros(8)
        i = 0
        for p in m.parameters():
            p.data = flat[i:i + p.numel()].view_as(p)
            i += p.numel()
        opt = lib.optim.SGD(m.parameters(), lr=0.5)
        m(lib.ones(4, 3)).pow(2).sum().backward()
        m.weight.grad.fill_(1.)
        m.bias.grad.fill_(2.)
        opt.step()
        results.append(flat.tolist())
    assert results[0] == results[1] == [-0.5] * 6 + [-1.0, -1.0]


def test_data_set_to_a_fresh_tensor_leaves_it_free():
    t = graphnet.zeros(3)
    t.data = graphnet.ones(3) * 2
    t.add_(1)
    assert t.tolist() == [3.0, 3.0, 3.0]


def _compiled_steps_on_a_tied_model(lib, compiled):
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2)
    flat = lib.arange(8.) * 0.1
    i = 0
    for p in m.parameters():
        p.data = flat[i:i + p.numel()].view_as(p)
        i += p.numel()
    opt = lib.optim.SGD(m.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = graphnet.compile(step)
    for k in range(3):
        step(lib.ones(4, 3) * (k + 1))
        flat.mul_(0.5)
    return flat.tolist(), m.weight.flatten().tolist()


def test_compiled_steps_and_writes_to_the_flat_vector_agree_with_torch():
    want = _compiled_steps_on_a_tied_model(torch, False)
    for compiled in (False, True):
        got = _compiled_steps_on_a_tied_model(graphnet, compiled)
        for g, w in zip(got, want):
            assert torch.allclose(torch.tensor(g), torch.tensor(w), rtol=1e-5, atol=1e-6)


# ---- inside a compiled function --------------------------------------------------------------


def _traced(body):
    m = graphnet.nn.Linear(3, 2)
    f = graphnet.compile(lambda th, x: body(m, th, x))
    return m, f(graphnet.arange(8.), graphnet.ones(1, 3))


def test_compiled_vector_to_parameters_of_an_argument_then_a_write_raises():
    def body(m, th, x):
        with graphnet.no_grad():
            graphnet.nn.utils.vector_to_parameters(th, m.parameters())
            th.mul_(2)        # torch: the parameters double too
            return m(x)

    with pytest.raises(graphnet.TraceError, match="in-place write"):
        _traced(body)


def test_compiled_vector_to_parameters_of_an_argument_gives_the_values():
    m, out = _traced(lambda m, th, x: (graphnet.nn.utils.vector_to_parameters(th, m.parameters()),
                                       m(x))[1])
    assert m.weight.flatten().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert out.tolist() == [[9.0, 19.0]]


def test_compiled_data_set_to_another_parameter_then_a_write_raises():
    other = graphnet.nn.Linear(3, 2)

    def body(m, th, x):
        with graphnet.no_grad():
            m.weight.data = other.weight
            m.weight.mul_(2)      # torch: other.weight doubles too
            return m(x)

    with pytest.raises(graphnet.TraceError, match="in-place write"):
        _traced(body)


@pytest.mark.parametrize("write", ["vec_mul", "vec_setitem", "param_mul"])
def test_compiled_write_to_either_side_of_a_tie_raises(write):
    def body(m, th, x):
        with graphnet.no_grad():
            t = th * 1
            graphnet.nn.utils.vector_to_parameters(t, m.parameters())
            if write == "vec_mul":
                t.mul_(2)
            elif write == "vec_setitem":
                t[0] = 5.0
            else:
                m.bias.mul_(10)
            return m(x), t

    with pytest.raises(graphnet.TraceError, match="in-place write"):
        _traced(body)


def test_compiled_vector_to_parameters_of_a_temporary_matches_eager():
    def body(lib, m, th, x):
        with lib.no_grad():
            lib.nn.utils.vector_to_parameters(th * 0.5 + 1, m.parameters())
        return m(x)

    torch_m = torch.nn.Linear(3, 2)
    want = body(torch, torch_m, torch.arange(8.), torch.ones(1, 3))
    m, got = _traced(lambda m, th, x: body(graphnet, m, th, x))
    assert got.tolist() == want.tolist()
    assert m.weight.tolist() == torch_m.weight.tolist()


def test_compiled_data_set_to_a_fresh_value_still_compiles():
    def body(m, th, x):
        with graphnet.no_grad():
            m.weight.data = m.weight.data.clamp(-0.1, 0.1)
            m.weight.mul_(2)
        return m(x)

    m, _ = _traced(body)
    assert max(abs(v) for row in m.weight.tolist() for v in row) <= 0.2 + 1e-7
