"""`t.data = other` shares `other`'s storage, as in PyTorch, whatever `other` is: a view of
a flat vector (the hand-written "set the flat parameters" loop of evolution strategies) or
a tensor itself (`b.weight.data = a.weight`). Before, only aliases and their views were
shared, and these left a silent copy."""

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
