"""Custom autograd.Function against torch 2.13, dynamic and compiled: a saved output read as
the output itself (double backward), `ctx.mark_dirty`, a None gradient leaving `.grad` None
in a compiled step, non-tensor outputs, a backward that calls autograd.grad, grad_fn as the
ctx, a second backward through a Function that saves nothing, and functional's strict mode."""

import numpy as np
import pytest
import torch

import graphnet as G

XV = np.array([0.1, 0.5, -0.3], np.float32)
MODES = [False, True]
IDS = ["eager", "compiled"]


def _run(lib, fn, compiled, *args):
    if compiled and lib is G:
        fn = G.compile(fn)
    return fn(*args)


def _np(t):
    return None if t is None else np.asarray(t.detach().numpy())


def _exp(lib):
    class Exp(lib.autograd.Function):     # PyTorch's docs example: saves its output
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    return Exp


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_saved_output_double_backward_matches_torch(compiled):
    def step(lib):
        def f(x):
            y = _exp(lib).apply(x)
            (g,) = lib.autograd.grad((y * x).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad(g.sum(), x)
            return g.detach(), gg
        return f

    want = step(torch)(torch.tensor(XV, requires_grad=True))
    got = _run(G, step(G), compiled, G.tensor(XV, requires_grad=True))
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5)


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_saved_output_written_in_place_raises_as_torch(compiled):
    def f(lib):
        def run(x):
            y = _exp(lib).apply(x)
            y.mul_(2)
            y.sum().backward()
            return x.grad
        return run

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        f(torch)(torch.tensor(XV, requires_grad=True))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(G, f(G), compiled, G.tensor(XV, requires_grad=True))


def _add_one(lib):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return AddOne


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_mark_dirty_returns_the_input_rebased_onto_the_function(compiled):
    def f(lib):
        def run(x):
            h = x * 1
            z = _add_one(lib).apply(h)
            (g,) = lib.autograd.grad((h * h).sum(), x)
            return g, z is h, type(h.grad_fn).__name__
        return run

    want = f(torch)(torch.tensor([1., 2.], requires_grad=True))
    got = _run(G, f(G), compiled, G.tensor([1., 2.], requires_grad=True))
    np.testing.assert_allclose(_np(got[0]), _np(want[0]))   # [8, 12]
    assert got[1] is want[1] is True
    if not compiled:
        assert got[2] == want[2] == "AddOneBackward"


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_mark_dirty_on_a_leaf_that_requires_grad_raises_as_torch(compiled):
    def f(lib):
        def run(x):
            return _add_one(lib).apply(x) * 1
        return run

    message = "a leaf Variable that requires grad has been used in an in-place operation."
    with pytest.raises(RuntimeError, match=message):
        f(torch)(torch.tensor([1., 2.], requires_grad=True))
    with pytest.raises(RuntimeError, match=message):
        _run(G, f(G), compiled, G.tensor([1., 2.], requires_grad=True))


def _cube(lib):
    class Cube(lib.autograd.Function):      # no gradient for w: backward returns None
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x ** 3 * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return 3 * x ** 2 * w * g, None

    return Cube


def _cube_step(lib):
    Cube = _cube(lib)
    w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
    b = lib.nn.Parameter(lib.tensor([0.1, 0.2, 0.3]))
    opt = lib.optim.SGD([w, b], lr=0.1, momentum=0.9, weight_decay=0.1)

    def step(x):
        opt.zero_grad()
        (Cube.apply(x, w) + b * x).sum().backward()
        opt.step()
        return x.grad

    return step, w, b


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_none_gradient_leaves_grad_none_and_the_weight_unmoved(compiled):
    results = []
    for lib in (torch, G):
        step, w, b = _cube_step(lib)
        for _ in range(2):
            gx = _run(lib, step, compiled, lib.tensor(XV, requires_grad=True))
        results.append((w.grad, _np(w), _np(b), _np(gx)))
    (tw, tv, tb, tx), (gw, gv, gb, gx) = results
    assert tw is None and gw is None
    np.testing.assert_allclose(gv, tv)
    np.testing.assert_allclose(gb, tb, rtol=1e-6)
    np.testing.assert_allclose(gx, tx, rtol=1e-6)


def _cube_model(lib):
    Cube = _cube(lib)

    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
            self.b = lib.nn.Parameter(lib.tensor([0.1, 0.2, 0.3]))

        def forward(self, x):
            return Cube.apply(x, self.w) + self.b * x

    return Model()


def test_none_gradient_through_a_compiled_forward_and_an_eager_backward():
    """The compiled call joins the eager tape: its VJP reaches only what the custom
    backward returns a gradient for (runtime/artifact_tape.output_reach)."""
    grads = []
    for lib in (torch, G):
        model = _cube_model(lib)
        x = lib.tensor(XV, requires_grad=True)
        run = G.compile(model) if lib is G else model
        run(x).sum().backward()
        grads.append((model.w.grad, _np(model.b.grad), _np(x.grad)))
    (tw, tb, tx), (gw, gb, gx) = grads
    assert tw is None and gw is None
    np.testing.assert_allclose(gb, tb, rtol=1e-6)
    np.testing.assert_allclose(gx, tx, rtol=1e-6)


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_non_tensor_outputs_get_none_gradients(compiled):
    def f(lib):
        class WithNone(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * 2, None, k

            @staticmethod
            def backward(ctx, g, g_none, g_k):
                assert g_none is None and g_k is None
                return g * 2, None

        def run(x):
            o, n, k = WithNone.apply(x, 3)
            o.sum().backward()
            return x.grad, n, k
        return run

    want = f(torch)(torch.tensor([1., 2.], requires_grad=True))
    got = _run(G, f(G), compiled, G.tensor([1., 2.], requires_grad=True))
    np.testing.assert_allclose(_np(got[0]), _np(want[0]))
    assert got[1:] == want[1:] == (None, 3)


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_backward_that_recomputes_and_calls_autograd_grad(compiled):
    def f(lib):
        class Checkpointed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                return (x * w).tanh()

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                with lib.enable_grad():
                    xd, wd = x.detach().requires_grad_(), w.detach().requires_grad_()
                    return lib.autograd.grad((xd * wd).tanh(), (xd, wd), g)

        def run(x, w):
            Checkpointed.apply(x, w).pow(2).sum().backward()
            return x.grad, w.grad
        return run

    wv = np.array([1., 2., 3.], np.float32)
    want = f(torch)(torch.tensor(XV, requires_grad=True), torch.tensor(wv, requires_grad=True))
    got = _run(G, f(G), compiled, G.tensor(XV, requires_grad=True),
               G.tensor(wv, requires_grad=True))
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-7)


def test_grad_fn_is_the_ctx():
    got = []
    for lib in (torch, G):
        class Scaled(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                ctx.k = 3
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k

        y = Scaled.apply(lib.tensor([1., 2.], requires_grad=True))
        fn = y.grad_fn
        got.append((fn.k, _np(fn.saved_tensors[0]).tolist(), fn.needs_input_grad))
    assert got[0] == got[1] == (3, [1.0, 2.0], (True,))


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_second_backward_through_a_function_that_saves_no_tensor(compiled):
    def f(lib):
        class NoSave(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.c = 3.0
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return g * ctx.c

        def run(x):
            y = NoSave.apply(x).sum()
            y.backward()
            y.backward()
            return x.grad
        return run

    want = f(torch)(torch.tensor([1., 2.], requires_grad=True))
    got = _run(G, f(G), compiled, G.tensor([1., 2.], requires_grad=True))
    np.testing.assert_allclose(_np(got), _np(want))   # [6, 6]


@pytest.mark.parametrize("compiled", MODES, ids=IDS)
def test_backward_returning_a_float_raises_torchs_error(compiled):
    def f(lib):
        class Float(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return 2.0

        def run(x):
            Float.apply(x).sum().backward()
            return x.grad
        return run

    message = r"expected Variable or None \(got float\)"
    with pytest.raises(RuntimeError, match=message):
        f(torch)(torch.tensor([1., 2.], requires_grad=True))
    with pytest.raises(RuntimeError, match=message):
        _run(G, f(G), compiled, G.tensor([1., 2.], requires_grad=True))


def _strict_cases(lib):
    F, t = lib.autograd.functional, lib.tensor
    x, y, v = t([1., 2.]), t([3., 4.]), t([1., 1.])
    return {
        "vjp": lambda: F.vjp(lambda a, b: a * 2, (x, y), v, strict=True),
        "vjp_constant": lambda: F.vjp(lambda a: lib.ones(2), x, v, strict=True),
        "jacobian": lambda: F.jacobian(lambda a, b: a * 2, (x, y), strict=True),
        "jvp": lambda: F.jvp(lambda a, b: a * 2, (x, y), (v, v), strict=True),
        "hessian": lambda: F.hessian(lambda a, b: (a ** 3).sum(), (x, y), strict=True),
        "hessian_linear": lambda: F.hessian(lambda a: (a * 2).sum(), x, strict=True),
        "hvp": lambda: F.hvp(lambda a, b: (a ** 3).sum(), (x, y), (v, v), strict=True),
        "vhp_linear": lambda: F.vhp(lambda a: (a * 2).sum(), x, v, strict=True),
    }


@pytest.mark.parametrize("case", sorted(_strict_cases(torch)))
def test_functional_strict_raises_torchs_error(case):
    with pytest.raises(RuntimeError) as want:
        _strict_cases(torch)[case]()
    with pytest.raises(RuntimeError) as got:
        _strict_cases(G)[case]()
    assert str(got.value) == str(want.value)


def test_functional_strict_allows_a_dependent_output():
    got = G.autograd.functional.jacobian(lambda a: a ** 2, G.tensor([1., 2.]), strict=True)
    np.testing.assert_allclose(_np(got), [[2., 0.], [0., 4.]])
