"""A custom autograd.Function given a module's parameters as inputs and saving them, whose
backward re-runs the module (`ctx.mod(x)`) and asks `autograd.grad` for the saved parameters
(the implicit-layer / DEQ adjoint pattern): compiled, the saved parameters are the module's
own objects with each call's values, as in PyTorch. They were new wrappers, so the compiled
parameter gradients were zeros, silently, and the module read the trace's weights."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _function(lib):
    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, mod, *params):
            ctx.save_for_backward(x, *params)
            ctx.mod = mod
            with lib.no_grad():
                return mod(x)

        @staticmethod
        def backward(ctx, g):
            x, *params = ctx.saved_tensors
            with lib.enable_grad():
                xx = x.detach().requires_grad_()
                out = ctx.mod(xx).tanh()
                grads = lib.autograd.grad(out, [xx] + params, g, allow_unused=True)
            return (grads[0], None, *grads[1:])

    return Fn


@pytest.mark.parametrize("compiled", [False, True])
def test_saved_parameters_train_as_in_pytorch(compiled):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 5, 3)).astype(np.float32)
    torch.manual_seed(0)
    start = {k: v.detach().numpy().copy() for k, v in torch.nn.Linear(3, 2).state_dict().items()}
    results = []
    for lib in (torch, gn):
        lin = lib.nn.Linear(3, 2)
        lin.load_state_dict({k: lib.tensor(v) for k, v in start.items()})
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        Fn = _function(lib)

        def step(x, lin=lin, opt=opt, Fn=Fn, lib=lib):
            opt.zero_grad()
            loss = Fn.apply(x, lin, *lin.parameters()).pow(2).sum()
            loss.backward()
            opt.step()
            return loss

        run = gn.compile(step) if (compiled and lib is gn) else step
        losses = [float(run(lib.tensor(x)).detach()) for x in xs]
        results.append((losses, lin.weight.detach().numpy().copy(),
                        lin.bias.grad.detach().numpy().copy()))
    (want_l, want_w, want_g), (got_l, got_w, got_g) = results
    np.testing.assert_allclose(got_l, want_l, rtol=1e-5)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-5, atol=1e-6)
