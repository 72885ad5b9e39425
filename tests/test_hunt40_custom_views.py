"""A custom Function's output that is its input returned as-is, or a view its forward made
(`x.view_as(x)`, a gradient-reversal layer), is a view of that input, as in PyTorch: a later
in-place write to the input shows in it, a write to it under no_grad reaches the input, and
the view+inplace writes that would bypass the Function's backward raise PyTorch's errors."""
import pytest
import torch

import graphnet as G

VIEW_WRITE = "Output 0 of .* is a view and is being modified inplace"
BASE_WRITE = "Output 0 of .* is a view and its base or another view of its base has been"


def _functions(lib):
    class Id(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return -g

    class Reverse(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return -g

    return Id, Reverse


MODES = [(torch, False), (G, False), (G, True)]
MODE_IDS = ["torch", "dynamic", "static"]


@pytest.mark.parametrize(("lib", "static"), MODES, ids=MODE_IDS)
@pytest.mark.parametrize("which", [0, 1])
def test_input_written_after_the_call_shows_in_the_output(lib, static, which):
    fn = _functions(lib)[which]

    def call(x):
        z = fn.apply(x)
        x.add_(1)
        return z * 1

    run = G.compile(call) if static else call
    assert run(lib.ones(3)).tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("lib", [torch, G], ids=["torch", "graphnet"])
def test_output_written_under_no_grad_reaches_the_input(lib):
    p = lib.nn.Parameter(lib.ones(3))
    z = _functions(lib)[0].apply(p)
    with lib.no_grad():
        z.add_(1)
    assert p.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(("lib", "static"), MODES, ids=MODE_IDS)
def test_writing_the_recorded_view_raises(lib, static):
    reverse = _functions(lib)[1]
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))

    def step():
        y = reverse.apply(w * 1)
        lib.nn.functional.relu(y, inplace=True)
        y.sum().backward()
        return w.grad

    with pytest.raises(RuntimeError, match=VIEW_WRITE):
        (G.compile(step) if static else step)()


@pytest.mark.parametrize("lib", [torch, G], ids=["torch", "graphnet"])
def test_gradient_after_the_input_was_written_raises(lib):
    p = lib.nn.Parameter(lib.ones(3))
    z = _functions(lib)[0].apply(p)
    with lib.no_grad():
        p.mul_(3)
    with pytest.raises(RuntimeError, match=BASE_WRITE):
        (z * 1).sum().backward()
    assert p.grad is None


@pytest.mark.parametrize("static", [False, True])
def test_training_through_an_identity_function_is_unchanged(static):
    """A Function returning a parameter as-is, trained: each step's output is a new view, and
    the step's in-place update of the parameter does not break the next backward."""
    results = []
    for lib in (torch, G):
        ident = _functions(lib)[0]
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0, -1.0]))
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)

        def step():
            opt.zero_grad()
            z = ident.apply(p)
            loss = (z * z).sum()
            loss.backward()
            opt.step()
            return loss.detach()

        run = G.compile(step) if static and lib is G else step
        losses = [float(run()) for _ in range(4)]
        results.append((losses, p.tolist()))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-6)
    assert results[1][1] == pytest.approx(results[0][1], rel=1e-6)
