"""vmap over a function that differentiates an autograd graph recorded before the call
(`vmap(vjp_fn)` with `vjp_fn` from func.vjp, `vmap` of autograd.grad(create_graph=True) of an
outside result): the values are PyTorch's, and a backward through the result is refused,
where it gave the outside graph's weights a silent zero gradient. A graph recorded inside
the vmapped function still differentiates. A custom Function that saves its output in
setup_context runs under vmap's backward (it raised an AttributeError)."""

import pytest
import torch

import graphnet

V = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]


def _setup(lib):
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = lib.tensor([0.5, -1.0], requires_grad=True)
    return w, z, lib.tensor(V)


def test_vmap_of_vjp_fn_gives_torch_values_and_refuses_a_backward():
    results = []
    for lib in (torch, graphnet):
        w, z, v = _setup(lib)
        _, vjp_fn = lib.func.vjp(lambda zz: lib.tanh(w @ zz), z)
        results.append(lib.func.vmap(vjp_fn)(v)[0])
    assert torch.allclose(torch.tensor(results[1].tolist()), results[0].detach(), atol=1e-6)
    with pytest.raises(RuntimeError, match="recorded before the vmap call"):
        results[1].pow(2).sum().backward()


def test_vmap_of_create_graph_grad_of_an_outside_result_refuses_a_backward():
    w, z, v = _setup(graphnet)
    f = graphnet.tanh(w @ z)
    r = graphnet.func.vmap(
        lambda row: graphnet.autograd.grad(f, z, row, create_graph=True)[0])(v)
    with pytest.raises(RuntimeError, match="recorded before the vmap call"):
        r.pow(2).sum().backward()
    assert w.grad is None and z.grad is None


def test_a_graph_recorded_inside_the_vmapped_function_still_differentiates():
    grads = []
    for lib in (torch, graphnet):
        w, z, v = _setup(lib)

        def row_grad(row):
            zz = z * 1
            return lib.autograd.grad(lib.tanh(w @ zz), zz, row, create_graph=True)[0]

        lib.func.vmap(row_grad)(v).pow(2).sum().backward()
        grads.append((w.grad.tolist(), z.grad.tolist()))
    for got, want in zip(grads[1], grads[0]):
        assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-6)


def _saving_output(lib):
    class Lin(lib.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, w):
            return w @ x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs, output)

        @staticmethod
        def backward(ctx, g):
            x, w, _ = ctx.saved_tensors
            return w.t() @ g, lib.outer(g, x)

    return Lin


def test_vmap_of_a_function_saving_its_output_differentiates():
    grads = []
    for lib in (torch, graphnet):
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        lin = _saving_output(lib)
        lib.func.vmap(lambda row: lin.apply(row, w))(lib.tensor(V)).sum().backward()
        grads.append(w.grad.tolist())
    assert grads[0] == grads[1] == [[2.0, 2.0], [2.0, 2.0]]
