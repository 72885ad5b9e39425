"""Value checks (compiler/checks.py) on ops whose result is only differentiated, never
returned: autograd.grad, func.grad, backward(inputs=...), gradient penalties
(create_graph=True) and double backward record a `vjp` node for the checked op, whose
forward node then leaves the graph as dead code. That `vjp` node reads the same labels and
indices, so the compiled program checks it there, and a failed check writes nothing back.
A custom autograd.Function whose backward indexes with a saved tensor cannot be checked
inside the program: static mode refuses it. Each case runs in PyTorch, graphnet eager and
graphnet compiled."""

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, torch

import graphnet
from graphnet import nn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3)).astype(np.float32)
PROBS = RNG.standard_normal(4).astype(np.float32)


def F(lib):
    return lib.nn.functional


def grad_of(lib, loss, x):
    return lib.autograd.grad(loss, x)[0]


def backward_inputs(lib, x, y):
    loss = F(lib).cross_entropy(x * 2, y)
    loss.backward(inputs=[x])
    return x.grad


def penalty(lib, x, y):
    g, = lib.autograd.grad(F(lib).cross_entropy(x * x, y), x, create_graph=True)
    return (g * g).sum()


def penalty_backward(lib, x, y):
    penalty(lib, x, y).backward()
    return x.grad


def double_grad(lib, x, y):
    return grad_of(lib, penalty(lib, x, y), x)


# name: (op checked, fn(lib, x, y), x, bad y, good y). x requires grad.
CASES = {
    "autograd_grad": ("cross_entropy",
                      lambda lib, x, y: grad_of(lib, F(lib).cross_entropy(x, y), x),
                      LOGITS, [0, 3, 1, 2], [0, 2, 1, -100]),
    "func_grad": ("cross_entropy",
                  lambda lib, x, y: lib.func.grad(lambda a: F(lib).cross_entropy(a, y))(x),
                  LOGITS, [0, -1, 1, 2], [0, 2, 1, 1]),
    "backward_inputs": ("cross_entropy", backward_inputs, LOGITS, [0, 1, 1, 7], [2, 2, 1, 0]),
    "gradient_penalty": ("cross_entropy", penalty, LOGITS, [0, 3, 1, 2], [0, 2, 1, 1]),
    "gradient_penalty_backward": ("cross_entropy", penalty_backward, LOGITS,
                                  [0, 3, 1, 2], [0, 2, 1, 1]),
    "double_grad": ("cross_entropy", double_grad, LOGITS, [0, 3, 1, 2], [0, 2, 1, 1]),
    "nll_loss": ("nll_loss",
                 lambda lib, x, y: grad_of(lib, F(lib).nll_loss(F(lib).log_softmax(x, 1), y), x),
                 LOGITS, [0, 1, 3, 2], [0, 1, 2, 2]),
    "binary_cross_entropy": (
        "binary_cross_entropy",
        lambda lib, x, y: grad_of(lib, F(lib).binary_cross_entropy(x.sigmoid(), y), x),
        PROBS, [0.0, 1.0, 1.5, 0.5], [0.0, 1.0, 0.25, 0.5]),
    "gather": ("gather", lambda lib, x, y: grad_of(lib, lib.gather(x, 1, y[:, None]).sum(), x),
               LOGITS, [0, 1, 3, 2], [0, 1, 2, 2]),
    "getitem": ("getitem", lambda lib, x, y: grad_of(lib, (x[y] ** 2).sum(), x),
                LOGITS, [0, 4, 1, 2], [0, -1, 1, 2]),
}
BAD = list(CASES)


def labels(lib, name, values):
    dtype = lib.float32 if name == "binary_cross_entropy" else lib.int64
    return lib.tensor(values, dtype=dtype)


def run(lib, name, y_values):
    _, fn, x, _, _ = CASES[name]
    x = lib.tensor(x, requires_grad=True)
    return fn(lib, x, labels(lib, name, y_values))


def compiled(name, where):
    fn = CASES[name][1]
    if where == "computed":   # a label the program computes: checked inside it
        return graphnet.compile(lambda x, y: fn(graphnet, x, y.clone()))
    return graphnet.compile(lambda x, y: fn(graphnet, x, y))


def torch_error(name) -> type:
    with pytest.raises((IndexError, RuntimeError, ValueError)) as info:
        run(torch, name, CASES[name][3])
    return info.type


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("name", BAD)
def test_bad_label_under_a_gradient_raises_in_all_three(name, where):
    op, fn, x, bad, good = CASES[name]
    expected = torch_error(name)
    with pytest.raises(expected):
        run(graphnet, name, bad)
    step = compiled(name, where)
    gx = graphnet.tensor(x, requires_grad=True)
    step(gx, labels(graphnet, name, good))   # compiled on valid labels: the bad call reuses it
    with pytest.raises(expected) as info:
        step(gx, labels(graphnet, name, bad))
    assert f"`{op}`" in str(info.value) and "nothing was written back" in str(info.value)


@pytest.mark.parametrize("name", BAD)
def test_good_labels_give_torch_numbers_in_all_three(name):
    good = CASES[name][4]
    expected = run(torch, name, good)
    assert_close(run(graphnet, name, good), expected, what=f"{name} eager")
    for where in ("input", "computed"):   # a fresh x: backward accumulates into x.grad
        x = graphnet.tensor(CASES[name][2], requires_grad=True)
        assert_close(compiled(name, where)(x, labels(graphnet, name, good)), expected,
                     what=f"{name} static, labels {where}")


def test_the_error_names_the_op_that_read_the_label():
    # the forward whose loss only autograd.grad reads stays in the program for its check (as
    # PyTorch raises there, at the forward), so the error names it rather than its backward
    step = compiled("autograd_grad", "computed")
    with pytest.raises(IndexError, match=r"`cross_entropy` at .*test_checks_through_grad.py:"):
        step(graphnet.tensor(LOGITS, requires_grad=True), graphnet.tensor([0, 3, 1, 2]))


# ---- a training step from autograd.grad: a failed check leaves the weights ---------------------
X = RNG.standard_normal((6, 4)).astype(np.float32)
Y_GOOD = np.array([0, 1, 2, 0, 1, 2])
Y_BAD = np.array([0, 1, 3, 0, 1, 2])


def models():
    graphnet.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    copy_torch_params(t, g)
    return g, t


def grad_step(lib, model, opt, x, y, computed=False):
    params = list(model.parameters())
    y = y.clone() if computed else y
    loss = F(lib).cross_entropy(model(x), y)
    grads = lib.autograd.grad(loss, params)
    for p, g in zip(params, grads):
        p.grad = g
    opt.step()


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("mode", ["static", "plan"])
def test_failed_grad_step_leaves_weights_and_momentum_in_all_three(mode, where):
    g, t = models()
    g_opt = graphnet.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    computed = where == "computed"
    step = graphnet.compile(lambda x, y: grad_step(graphnet, g, g_opt, x, y, computed),
                            mode=mode)
    x = graphnet.tensor(X)
    for _ in range(3):   # past the state-creating first trace
        step(x, graphnet.tensor(Y_GOOD))
    before = [p.detach().clone() for p in g.parameters()]
    momenta = [g_opt.state[p]["momentum_buffer"].clone() for p in g.parameters()]
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        step(x, graphnet.tensor(Y_BAD))
    for p, b, m in zip(g.parameters(), before, momenta, strict=True):
        assert_close(p, b, atol=0, rtol=0, what="weight after a failed step")
        assert_close(g_opt.state[p]["momentum_buffer"], m, atol=0, rtol=0, what="momentum")
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):   # eager, likewise
        grad_step(graphnet, g, g_opt, x, graphnet.tensor(Y_BAD))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):   # and torch
        grad_step(torch, t, t_opt, torch.from_numpy(X), torch.tensor(Y_BAD))
    step(x, graphnet.tensor(Y_GOOD))
    for _ in range(4):
        grad_step(torch, t, t_opt, torch.from_numpy(X), torch.tensor(Y_GOOD))
    for p, q in zip(g.parameters(), t.parameters(), strict=True):
        assert_close(p, q, atol=1e-5, what="four good steps, one failed between them")


# ---- a custom Function indexing in its backward ------------------------------------------------
def selecting(lib):
    """A Function whose backward indexes the cotangent with a saved index tensor."""

    class Select(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, idx):
            ctx.save_for_backward(idx)
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            idx, = ctx.saved_tensors
            return (g * lib.ones(3))[idx] * 2, None

    return Select


def through_backward(lib, x, idx):
    selecting(lib).apply(x, idx).backward()
    return x.grad


def through_grad(lib, x, idx):
    return lib.autograd.grad(selecting(lib).apply(x * 3, idx), x)[0]


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("fn", [through_backward, through_grad])
def test_custom_backward_indexing_with_a_saved_tensor_is_checked(fn, where):
    bad, good = [0, 1, 5], [2, 0, 1]
    for lib in (torch, graphnet):
        with pytest.raises(IndexError, match="index 5 is out of bounds"):
            fn(lib, lib.zeros(3, requires_grad=True), lib.tensor(bad))
    computed = where == "computed"
    step = graphnet.compile(lambda x, i: fn(graphnet, x, i.clone() if computed else i))
    expected = fn(torch, torch.zeros(3, requires_grad=True), torch.tensor(good))
    assert_close(step(graphnet.zeros(3, requires_grad=True), graphnet.tensor(good)), expected,
                 what="static, good index")
    x = graphnet.zeros(3, requires_grad=True)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds(.|\n)*"
                                         r"Select.backward \(`getitem`\)"):
        step(x, graphnet.tensor(bad))
    assert x.grad is None, "a failed check wrote a gradient back"
    assert_close(fn(graphnet, graphnet.zeros(3, requires_grad=True), graphnet.tensor(good)),
                 expected, what="eager")
    # checks=False accepts JAX's clamping
    unchecked = graphnet.compile(lambda x, i: fn(graphnet, x, i), checks=False)
    unchecked(graphnet.zeros(3, requires_grad=True), graphnet.tensor(bad))


def from_gradient(lib):
    """A Function whose backward computes its index from the incoming gradient."""

    class FromGradient(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, idx):
            ctx.save_for_backward(idx)
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            idx, = ctx.saved_tensors
            return lib.ones(3)[idx + g.long()] * g, None

    return FromGradient


def test_custom_backward_index_made_from_the_gradient():
    def by_backward(lib, x, idx):
        from_gradient(lib).apply(x, idx).backward()
        return x.grad

    def by_grad(lib, x, idx):
        return lib.autograd.grad(from_gradient(lib).apply(x, idx), x)[0]

    for fn in (by_backward, by_grad):   # g is 1: index 2 + 1 is out of range
        for lib in (torch, graphnet):
            with pytest.raises(IndexError, match="index 3 is out of bounds"):
                fn(lib, lib.zeros(3, requires_grad=True), lib.tensor([0, 2]))
    # autograd.grad's `vjp` node holds the gradient: checked
    step = graphnet.compile(lambda x, i: by_grad(graphnet, x, i))
    expected = by_grad(torch, torch.zeros(2, requires_grad=True), torch.tensor([0, 1]))
    assert_close(step(graphnet.zeros(2, requires_grad=True), graphnet.tensor([0, 1])), expected,
                 what="static, good index")
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        step(graphnet.zeros(2, requires_grad=True), graphnet.tensor([0, 2]))
    # inside loss.backward()'s jax.vjp the gradient is out of a check's reach: refused
    step = graphnet.compile(lambda x, i: by_backward(graphnet, x, i))
    with pytest.raises(graphnet.TraceError, match=r"FromGradient.backward .*incoming gradient"):
        step(graphnet.zeros(2, requires_grad=True), graphnet.tensor([0, 1]))


def test_custom_function_whose_backward_is_not_run_or_does_not_index_compiles():
    forward_only = graphnet.compile(lambda x, i: selecting(graphnet).apply(x, i) * 2)
    assert_close(forward_only(graphnet.zeros(3, requires_grad=True), graphnet.tensor([0, 1, 5])),
                 torch.tensor(0.0), what="forward only: the backward never runs")

    def plain(lib):
        class Plain(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, idx):
                ctx.save_for_backward(idx)
                return x[idx].sum()

            @staticmethod
            def backward(ctx, g):
                idx, = ctx.saved_tensors
                return lib.zeros(3).index_add(0, idx, g * lib.ones(idx.shape[0])), None

        return Plain

    def fn(lib, x, idx):
        return lib.autograd.grad(plain(lib).apply(x * 3, idx), x)[0]

    expected = fn(torch, torch.ones(3, requires_grad=True), torch.tensor([2, 2, 0]))
    step = graphnet.compile(lambda x, i: fn(graphnet, x, i), checks=False)
    assert_close(step(graphnet.ones(3, requires_grad=True), graphnet.tensor([2, 2, 0])),
                 expected, what="index_add in backward, checks=False")
