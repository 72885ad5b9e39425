"""`autograd.grad(loss, inputs)` without retain_graph frees only the nodes on a path from the
loss to the inputs, as PyTorch's engine runs only those: ANIL's first-order inner loop (the
body's features computed once, the head adapted over several `grad` calls) compiles."""
import pytest
import torch

import graphnet as G


def _anil(lib, steps):
    lib.manual_seed(0)
    body = lib.nn.Linear(4, 6)
    head_w = lib.tensor([[0.5, -0.3, 0.2, 0.1, -0.4, 0.3]] * 3, requires_grad=True)
    xs = lib.tensor([[float(i + j) / 7 - 0.5 for j in range(4)] for i in range(5)])
    ys = lib.tensor([0, 1, 2, 1, 0])
    return body, head_w, xs, ys, steps


def _meta_step(lib, body, head_w, xs, ys, steps):
    h = lib.relu(body(xs))
    w = head_w
    for _ in range(steps):
        inner = lib.nn.functional.cross_entropy(h @ w.t(), ys)
        g, = lib.autograd.grad(inner, (w,))
        w = w - 0.5 * g
    outer = lib.nn.functional.cross_entropy(h @ w.t(), ys)
    outer.backward()
    return outer.detach()


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_first_order_inner_loop_matches_torch(steps):
    torch.manual_seed(0)
    t_body = torch.nn.Linear(4, 6)
    args = _anil(G, steps)
    body = args[0]
    with G.no_grad():
        body.weight.copy_(G.tensor(t_body.weight.detach().numpy()))
        body.bias.copy_(G.tensor(t_body.bias.detach().numpy()))
    t_args = (t_body, *_anil(torch, steps)[1:])
    want = _meta_step(torch, *t_args)
    got = G.compile(lambda *a: _meta_step(G, *a))(*args)
    assert float(got) == pytest.approx(float(want), rel=1e-5)
    assert G.allclose(body.weight.grad, G.tensor(t_body.weight.grad.numpy()), atol=1e-6)
    assert G.allclose(args[1].grad, G.tensor(t_args[1].grad.numpy()), atol=1e-6)


@pytest.mark.parametrize("static", [False, True])
def test_a_second_grad_along_the_same_path_still_raises(static):
    def twice(x, w):
        loss = ((x.exp() * w).sum()) ** 2
        G.autograd.grad(loss, (w,))
        return G.autograd.grad(loss, (x,))[0]

    x = G.tensor([1.0, 2.0], requires_grad=True)
    w = G.tensor([0.5, -0.3], requires_grad=True)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        (G.compile(twice) if static else twice)(x, w)
