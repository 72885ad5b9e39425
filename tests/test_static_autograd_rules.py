"""Static mode honours every autograd rule dynamic mode (and PyTorch) does.

Each scenario is one training step written once against a torch-like namespace `T` and run
three ways: PyTorch eager, graphnet dynamic, graphnet static (`graphnet.compile` of the whole
step). After three steps the returned losses, every parameter and every `.grad` must agree.
A static graph that let a gradient through `no_grad()`, `.detach()` or a frozen weight would
train differently without an error, which is the failure these tests exist to catch."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet
from parity import copy_torch_params, np_of

torch = pytest.importorskip("torch")


def _mlp(T, widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(T.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(T.nn.Tanh())
    return T.nn.Sequential(*layers)


def _nets(T, specs):
    """Same weights in every namespace: built in torch, copied into graphnet."""
    torch.manual_seed(0)
    reference = [_mlp(torch, w) for w in specs]
    if T is torch:
        return reference
    nets = [_mlp(T, w) for w in specs]
    for ref, net in zip(reference, nets):
        copy_torch_params(ref, net)
    return nets


def detach_target(T, nets):
    (m,), opt = nets, T.optim.SGD(nets[0].parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = ((m(x) - m(2 * x).detach()) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def data_alias_target(T, nets):
    (m,), opt = nets, T.optim.SGD(nets[0].parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = ((m(x) - m(x + 1).data) ** 2).mean() + m(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def td_target_under_no_grad(T, nets):
    """Actor-critic / DQN: the bootstrap target is computed under no_grad."""
    (critic,), opt = nets, T.optim.Adam(nets[0].parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        with T.no_grad():
            target = y + 0.9 * critic(x * 0.5).amax(dim=1, keepdim=True)
        loss = ((critic(x).sum(dim=1, keepdim=True) - target) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def distillation(T, nets):
    """A teacher that requires grad, run under no_grad, must receive no gradient."""
    student, teacher = nets
    opt = T.optim.SGD(list(student.parameters()) + list(teacher.parameters()), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        with T.no_grad():
            soft = T.nn.functional.softmax(teacher(x) / 2.0, dim=1)
        logp = T.nn.functional.log_softmax(student(x) / 2.0, dim=1)
        loss = -(soft * logp).sum(dim=1).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def grad_mode_blocks(T, nets):
    """set_grad_enabled(False) with an enable_grad() island inside it."""
    (m,), opt = nets, T.optim.SGD(nets[0].parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        with T.set_grad_enabled(False):
            frozen = m(x)
            with T.enable_grad():
                live = m(x * 2)
        loss = (live * frozen).mean() + ((m(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def frozen_then_unfrozen(T, nets):
    """Weights used while requires_grad is False get no gradient from that use."""
    (m,), opt = nets, T.optim.SGD(nets[0].parameters(), lr=0.1, momentum=0.5)
    first = list(m[0].parameters())

    def step(x, y):
        opt.zero_grad()
        for p in first:
            p.requires_grad_(False)
        hidden = m[0](x)
        for p in first:
            p.requires_grad_(True)
        loss = ((m[2](m[1](hidden)) - y) ** 2).mean() + m[0](x).mean() * 0.1
        loss.backward()
        opt.step()
        return loss
    return step


def two_backwards(T, nets):
    (m,), opt = nets, T.optim.SGD(nets[0].parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        out = m(x)
        first = ((out - y) ** 2).mean()
        first.backward(retain_graph=True)
        second = out.abs().mean()
        second.backward()
        opt.step()
        return first, second
    return step


def gan_two_optimizers(T, nets):
    """The generator's loss reads discriminator weights the first step just updated."""
    gen, disc = nets
    opt_g = T.optim.Adam(gen.parameters(), lr=1e-2)
    opt_d = T.optim.SGD(disc.parameters(), lr=1e-2, momentum=0.9)
    bce = T.nn.functional.binary_cross_entropy_with_logits

    def step(x, y):
        opt_d.zero_grad()
        fake = gen(x)
        ones, zeros = T.ones(x.shape[0], 1), T.zeros(x.shape[0], 1)
        loss_d = bce(disc(y), ones) + bce(disc(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(disc(fake), ones)
        loss_g.backward()
        opt_g.step()
        return loss_d, loss_g
    return step


SCENARIOS = {
    # name: (step builder, MLP widths per net, x width, y width)
    "detach": (detach_target, [(4, 8, 3)], 4, 3),
    "data_alias": (data_alias_target, [(4, 8, 3)], 4, 3),
    "no_grad_td_target": (td_target_under_no_grad, [(4, 8, 3)], 4, 1),
    "no_grad_teacher": (distillation, [(4, 6, 3), (4, 8, 3)], 4, 3),
    "set_grad_enabled": (grad_mode_blocks, [(4, 8, 3)], 4, 3),
    "requires_grad_false_region": (frozen_then_unfrozen, [(4, 8, 3)], 4, 3),
    "two_backward_calls": (two_backwards, [(4, 8, 3)], 4, 3),
    "gan_two_optimizers": (gan_two_optimizers, [(3, 8, 4), (4, 8, 1)], 3, 4),
}


def _data(T, x_width=4, y_width=3):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, x_width)).astype(np.float32)
    y = rng.normal(size=(6, y_width)).astype(np.float32)
    if T is torch:
        return torch.from_numpy(x), torch.from_numpy(y)
    return graphnet.from_numpy(x), graphnet.from_numpy(y)


def _run(name, T, compiled, steps: int = 3):
    """`compiled`: False (eager), or the graphnet.compile mode ("static", "plan")."""
    make, specs, x_width, y_width = SCENARIOS[name]
    nets = _nets(T, specs)
    step = make(T, nets)
    if compiled:
        step = graphnet.compile(step, mode=compiled)
    x, y = _data(T, x_width, y_width)
    losses = []
    for _ in range(steps):
        out = step(x, y)
        out = out if isinstance(out, tuple) else (out,)
        losses.append([float(np_of(v)) for v in out])
    params = [(np_of(p), None if p.grad is None else np_of(p.grad))
              for net in nets for p in net.parameters()]
    return np.array(losses), params


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_static_equals_dynamic_equals_torch(name):
    ref_losses, ref_params = _run(name, torch, False)
    for compiled in (False, "static", "plan"):
        losses, params = _run(name, graphnet, compiled)
        mode = compiled or "dynamic"
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{name} {mode}: losses")
        for i, ((p, g), (rp, rg)) in enumerate(zip(params, ref_params, strict=True)):
            np.testing.assert_allclose(p, rp, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} {mode}: parameter {i}")
            assert (g is None) == (rg is None), f"{name} {mode}: grad {i} None-ness"
            if g is not None:
                np.testing.assert_allclose(g, rg, rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name} {mode}: grad {i}")


def test_gradient_accumulation_across_compiled_calls():
    """Two compiled backward calls accumulate into .grad; a separate compiled update
    applies the sum and clears it, as the eager loop does."""
    results = {}
    for T, compiled in ((torch, False), (graphnet, False), (graphnet, True)):
        (m,) = _nets(T, [(4, 8, 3)])
        opt = T.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def accumulate(x, y, m=m):
            loss = ((m(x) - y) ** 2).mean() / 2
            loss.backward()
            return loss

        def update(opt=opt):
            opt.step()
            opt.zero_grad()

        if compiled:
            accumulate, update = graphnet.compile(accumulate), graphnet.compile(update)
        x, y = _data(T)
        for _ in range(3):
            accumulate(x, y)
            accumulate(x * 0.5, y)
            update()
        results[(T.__name__, compiled)] = [np_of(p) for p in m.parameters()]
    reference = results[("torch", False)]
    for key, params in results.items():
        for p, r in zip(params, reference):
            np.testing.assert_allclose(p, r, rtol=1e-4, atol=1e-5, err_msg=str(key))


def test_detach_becomes_a_stop_gradient_node_only_where_needed():
    """The static graph says what the tape says: a `detach` node cuts the path `.detach()`
    cut, and a plain forward-and-backward step gets none."""
    (m,) = _nets(graphnet, [(4, 8, 3)])
    x, y = _data(graphnet)

    def plain(x, y):
        ((m(x) - y) ** 2).mean().backward()

    def detached(x, y):
        ((m(x) - m(2 * x).detach()) ** 2).mean().backward()

    assert graphnet.trace_graph(plain, x, y).count("detach") == 0
    assert graphnet.trace_graph(detached, x, y).count("detach") >= 1


def test_compiled_forward_then_eager_backward_respects_no_grad_and_detach():
    """A compiled forward joins the eager tape as one node (jax.vjp of the whole program):
    the paths its code cut with no_grad() or .detach() must stay cut there too."""
    def forward(T, m, x):
        with T.no_grad():
            target = m(x * 2)
        return ((m(x) - target) ** 2).sum() + (m(x) * m(x + 1).detach()).sum()

    grads = {}
    for T, compiled in ((torch, False), (graphnet, False), (graphnet, True)):
        (m,) = _nets(T, [(4, 8, 3)])
        x, _ = _data(T)
        run = (lambda x, m=m: forward(graphnet, m, x)) if T is graphnet else \
            (lambda x, m=m: forward(torch, m, x))
        if compiled:
            run = graphnet.compile(run)
        run(x).backward()
        grads[(T.__name__, compiled)] = [np_of(p.grad) for p in m.parameters()]
    for key, got in grads.items():
        for g, r in zip(got, grads[("torch", False)]):
            np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5, err_msg=str(key))
