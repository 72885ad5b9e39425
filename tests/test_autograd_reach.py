"""Autograd rules a compiled call used to get wrong without an error, against PyTorch: the
parameters only an unused output of a compiled model reads get no gradient (they got zeros,
which weight decay then moved); a leaf made by `ones`/`arange`/`full(...,
requires_grad=True)` inside a compiled function gets its gradient (the passes folded it
away: zeros); `enable_grad()` inside a compiled function called under `no_grad` records
the graph; `@no_grad` on a generator function holds while the generator runs. Also: a
tensor made from a NumPy array is a copy the caller's later changes never reach, and a NumPy
dtype graphnet lacks is refused at once."""

import graphnet as gt
import ml_dtypes
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")


def _two_heads(L, compile_it):
    nn = L.nn

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk, self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x):
            h = self.trunk(x).relu()
            return self.a(h), self.b(h)

    model = TwoHeads()
    with L.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(L.arange(p.numel(), dtype=L.float32).reshape(p.shape) * 0.1 - 0.2 + 0.01 * i)
    return model, (compile_it(model) if compile_it else model)


def _grad_sums(model):
    return [None if p.grad is None else round(float(p.grad.sum()), 5)
            for p in model.parameters()]


@pytest.mark.parametrize("use", ["a", "b", "both"])
@pytest.mark.parametrize("compiled", [False, True])
def test_parameters_only_an_unused_output_reads_get_no_gradient(use, compiled):
    def run(L, compile_it):
        model, forward = _two_heads(L, compile_it)
        opt = L.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
        a, b = forward(L.ones(3, 2))
        loss = {"a": a.sum(), "b": (b * b).sum(), "both": a.sum() + b.sum()}[use]
        loss.backward()
        opt.step()
        return _grad_sums(model), [p.detach().numpy().tolist() for p in model.parameters()]

    want = run(torch, None)
    got = run(gt, gt.compile if compiled else None)
    assert got[0] == want[0]
    for w, g in zip(want[1], got[1]):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("allow_unused", [False, True])
def test_autograd_grad_through_a_compiled_model_sees_the_unused_head(allow_unused):
    def run(L, compile_it):
        model, forward = _two_heads(L, compile_it)
        a, _ = forward(L.ones(3, 2))
        try:
            grads = L.autograd.grad(a.sum(), list(model.parameters()),
                                    allow_unused=allow_unused)
        except RuntimeError as err:
            return str(err).split(".")[0]
        return [None if g is None else round(float(g.sum()), 5) for g in grads]

    assert run(gt, gt.compile) == run(torch, None)


def _factory_leaves(L):
    def step(x):
        w = L.ones(3, requires_grad=True)
        v = L.ones(3, requires_grad=True)
        a = L.arange(3.0, requires_grad=True)
        z = L.zeros(3).fill_(1.0).requires_grad_()
        o = L.ones_like(x, requires_grad=True)
        f = L.full((3,), 2.0, requires_grad=True)
        e = L.eye(3, requires_grad=True)
        s = L.linspace(0, 1, 3, requires_grad=True)
        loss = (w * w * x + v * x + a * 1 + x * a + z * 2 + o * 0 + x / f + (e @ x) * s).sum()
        loss.backward()
        return w.grad, v.grad, a.grad, z.grad, o.grad, f.grad, e.grad, s.grad
    return step


@pytest.mark.parametrize("mode", ["static", "plan"])
def test_leaves_made_by_factories_inside_a_compiled_function_get_their_gradients(mode):
    want = _factory_leaves(torch)(torch.tensor([1.0, 2.0, 3.0]))
    got = gt.compile(_factory_leaves(gt), mode=mode)(gt.tensor([1.0, 2.0, 3.0]))
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


@pytest.mark.parametrize("compiled", [False, True])
def test_enable_grad_inside_a_compiled_function_called_under_no_grad(compiled):
    def run(L, compile_it):
        lin = L.nn.Linear(3, 1)
        with L.no_grad():
            lin.weight.fill_(0.5)

        def g(x):
            with L.enable_grad():
                return lin(x).sum()

        with L.no_grad():
            out = (compile_it(g) if compile_it else g)(L.ones(2, 3))
        needs = out.requires_grad
        out.backward()
        return needs, lin.weight.grad.numpy().tolist(), lin.bias.grad.numpy().tolist()

    assert run(gt, gt.compile if compiled else None) == run(torch, None)


def test_a_compiled_call_under_no_grad_still_records_nothing():
    lin = gt.nn.Linear(3, 1)
    f = gt.compile(lambda x: lin(x).sum())
    with gt.no_grad():
        out = f(gt.ones(2, 3))
    assert not out.requires_grad and out.grad_fn is None
    assert f(gt.ones(2, 3)).requires_grad


@pytest.mark.parametrize("context", ["no_grad", "enable_grad"])
def test_a_grad_mode_decorator_holds_while_a_generator_runs(context):
    def run(L):
        x = L.ones(2, requires_grad=True)
        outer = L.no_grad() if context == "enable_grad" else L.enable_grad()

        @getattr(L, context)()
        def gen():
            for i in range(3):
                received = yield (x * i).requires_grad
                assert received is None
            return "done"

        seen = []
        with outer:
            for flag in gen():
                seen.append((flag, (x * 2).requires_grad))   # the caller's own mode between
        return seen

    assert run(gt) == run(torch)


def test_a_tensor_of_a_numpy_array_never_sees_later_changes_to_it():
    rng = np.random.default_rng(0)
    for i in range(240):
        array = rng.standard_normal(int(rng.choice([20, 1000, 100_000]))).astype(np.float32)
        original = array.copy()
        t = [gt.tensor, gt.as_tensor, gt.from_numpy][i % 3](array)
        array += 1.0
        np.testing.assert_array_equal(t.numpy(), original)


@pytest.mark.parametrize("kind", [np.complex64, ml_dtypes.float8_e4m3fn])
def test_a_numpy_dtype_graphnet_lacks_is_refused_when_the_tensor_is_made(kind):
    array = np.array([1], dtype=kind)
    for make in (gt.tensor, gt.from_numpy):
        with pytest.raises(TypeError, match=f"type numpy.{np.dtype(kind).name}"):
            make(array)
    assert gt.tensor(array.astype(np.int32)).tolist() == [1]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_leaf_frozen_between_forward_and_backward_gets_no_gradient(compiled):
    def run(L, compile_it):
        w = L.nn.Parameter(L.tensor([1.0, 2.0]))
        b = L.nn.Parameter(L.tensor([0.5, 0.5]))
        opt = L.optim.SGD([w, b], lr=0.1)

        def step():
            loss = (w * b).sum()
            w.requires_grad_(False)
            loss.backward()
            opt.step()
            w.requires_grad_(True)
            return loss

        (compile_it(step) if compile_it else step)()
        return (w.grad, b.grad.tolist(), w.detach().tolist(), b.detach().tolist())

    assert run(gt, gt.compile if compiled else None) == run(torch, None)


def test_a_compiled_backward_reaching_an_input_with_eager_history_is_refused():
    w = gt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    lin = gt.nn.Linear(3, 1)
    step = gt.compile(lambda h: lin(h).sum().backward())
    with pytest.raises(gt.TraceError, match="eager autograd history"):
        step(w * 2)
    assert w.grad is None and lin.bias.grad is None     # nothing half-done
    step((w * 2).detach())                               # the remedy the message names
    assert w.grad is None and lin.bias.grad.tolist() == [1.0]


@pytest.mark.parametrize("variant", ["no_grad", "data", "used_again"])
def test_a_parameter_changed_in_place_before_backward_keeps_its_gradient(variant):
    """The traced backward found the weight by its value after the change, so the weight got
    no `.grad` and SGD skipped it; PyTorch (and eager mode) give the forward's gradient."""
    def run(L, compile_it):
        lin = L.nn.Linear(2, 1)
        with L.no_grad():
            lin.weight.copy_(L.tensor([[1.0, -1.0]]))
            lin.bias.fill_(0.0)
        opt = L.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad()
            out = lin(x)
            if variant == "data":
                lin.weight.data.mul_(0.5)
            else:
                with L.no_grad():
                    lin.weight.mul_(0.5)
            if variant == "used_again":       # both values of the weight reach the loss
                out = out + lin(x) * 3
            out.sum().backward()
            opt.step()
            return out.detach()

        fn = compile_it(step) if compile_it else step
        seen = []
        for i in range(3):
            out = fn(L.tensor([[1.0, 2.0], [0.5, -1.0]]) * (i + 1))
            seen.append((out.numpy().round(5).tolist(), lin.weight.grad.numpy().tolist(),
                         lin.weight.detach().numpy().round(5).tolist()))
        return seen

    want = run(torch, None)
    assert run(gt, None) == want
    assert run(gt, gt.compile) == want
