"""Autograd corners where graphnet differed from torch 2.13: the deprecated
`Module.register_backward_hook` (it sees the gradients of the forward's LAST op: addmm's
(bias, input, weight.t()) for nn.Linear), in-place writes to the tensors a full backward hook
wraps (`nn.ReLU(inplace=True)`: torch raises), what a module backward hook may return, and
`checkpoint(use_reentrant=True)` with no input requiring grad (no parameter gradient)."""

import warnings

import numpy as np
import pytest
from parity import copy_torch_params, np_of, torch

import graphnet
from graphnet._errors import TraceError
from graphnet.utils import checkpoint as gn_checkpoint

X = np.random.default_rng(0).standard_normal(24).astype(np.float32)


def _pair(make):
    torch.manual_seed(0)
    ref = make(torch)
    ours = make(graphnet)
    copy_torch_params(ref, ours)
    return ours, ref


def _legacy_run(lib, module, x, requires_grad, scale):
    """grad_input / grad_output the hook saw, then every gradient after it scaled entry k by
    k + 2 (when `scale`)."""
    seen = []

    def hook(mod, grad_input, grad_output):
        seen.append(([None if g is None else np_of(g) for g in grad_input],
                     [None if g is None else np_of(g) for g in grad_output]))
        if scale:
            return tuple(None if g is None else g * (k + 2) for k, g in enumerate(grad_input))
        return None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module.register_backward_hook(hook)
        x = lib.tensor(x, requires_grad=requires_grad)
        y = module(x)
        weights = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape))
                             .astype(np.float32))
        (y * weights).sum().backward()
    grads = [None if p.grad is None else np_of(p.grad) for p in module.parameters()]
    return seen, grads + [None if x.grad is None else np_of(x.grad)]


def _assert_same(ours, ref):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        if isinstance(b, (list, tuple)):
            _assert_same(a, b)
        elif b is None:
            assert a is None
        else:
            assert a is not None and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


LEGACY_MODULES = {
    "linear": (lambda lib: lib.nn.Linear(3, 4), (4, 3)),
    "linear_batched": (lambda lib: lib.nn.Linear(3, 4), (2, 4, 3)),
    "linear_vector": (lambda lib: lib.nn.Linear(3, 4), (3,)),
    "linear_no_bias": (lambda lib: lib.nn.Linear(3, 4, bias=False), (4, 3)),
    "conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 2), (1, 2, 3, 4)),
    "conv2d_no_bias": (lambda lib: lib.nn.Conv2d(2, 3, 2, bias=False), (1, 2, 3, 4)),
    "sequential": (lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(),
                                                 lib.nn.Linear(4, 2)), (4, 3)),
    "layer_norm": (lambda lib: lib.nn.LayerNorm(3), (4, 3)),
    "batch_norm_eval": (lambda lib: lib.nn.BatchNorm1d(3).eval(), (4, 3)),
    "prelu": (lambda lib: lib.nn.PReLU(2), (3, 2, 2)),
}


@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("name", sorted(LEGACY_MODULES))
def test_register_backward_hook_sees_the_last_ops_gradients(name, requires_grad, scale):
    make, shape = LEGACY_MODULES[name]
    ours, ref = _pair(make)
    x = X[:int(np.prod(shape))].reshape(shape)
    _assert_same(_legacy_run(graphnet, ours, x, requires_grad, scale),
                 _legacy_run(torch, ref, x, requires_grad, scale))


class _SeveralOps:
    """A module whose forward ends in `x * w`: the hook sees mul's two gradients."""

    @staticmethod
    def make(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 3)
                self.w = lib.nn.Parameter(lib.tensor(np.linspace(0.5, 1.5, 3)
                                                     .astype(np.float32)))

            def forward(self, x):
                return lib.tanh(self.lin(x)) * self.w
        return Net()


@pytest.mark.parametrize("scale", [False, True])
def test_register_backward_hook_on_a_module_with_several_ops(scale):
    ours, ref = _pair(_SeveralOps.make)
    x = X[:12].reshape(4, 3)
    _assert_same(_legacy_run(graphnet, ours, x, True, scale),
                 _legacy_run(torch, ref, x, True, scale))


def test_register_backward_hook_warns_and_refuses_as_torch():
    for lib in (graphnet, torch):
        m = lib.nn.Linear(3, 2)
        m.register_backward_hook(lambda *a: None)
        with pytest.warns(FutureWarning, match="forward contains multiple autograd Nodes"):
            m(lib.tensor(X[:6].reshape(2, 3), requires_grad=True))
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
            m.register_full_backward_hook(lambda *a: None)
        bad = lib.nn.Linear(3, 2)
        bad.register_backward_hook(lambda mod, gi, go: (gi[0], gi[1]))
        with pytest.raises(RuntimeError, match="incorrect number of values"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            bad(lib.tensor(X[:6].reshape(2, 3), requires_grad=True)).sum().backward()


def test_register_backward_hook_is_refused_when_compiled():
    m = graphnet.nn.Linear(3, 2)
    m.register_backward_hook(lambda *a: None)
    with pytest.raises(TraceError, match="backward hooks"):
        graphnet.compile(lambda x: m(x).sum())(graphnet.tensor(X[:6].reshape(2, 3)))


def _inplace_outcome(lib, case: str, pre: bool, input_grad: bool):
    lib.manual_seed(0)
    if case == "relu":
        m = lib.nn.ReLU(inplace=True)
    else:
        m = lib.nn.Linear(3, 3)
    if pre:
        m.register_full_backward_pre_hook(lambda mod, go: None)
    else:
        m.register_full_backward_hook(lambda mod, gi, go: None)
    x = lib.tensor(X[:12].reshape(4, 3), requires_grad=input_grad)
    try:
        y = m(x * 1 if input_grad else x)
        if case == "output":
            y.mul_(2)
        return "ok", np_of(y.detach())
    except RuntimeError as error:
        return "error", str(error).split(".")[0]


@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("pre", [False, True])
@pytest.mark.parametrize("case", ["relu", "output"])
def test_in_place_write_to_a_backward_hooked_tensor(case, pre, input_grad):
    ours = _inplace_outcome(graphnet, case, pre, input_grad)
    ref = _inplace_outcome(torch, case, pre, input_grad)
    assert ours[0] == ref[0]
    if ref[0] == "error":
        assert ours[1] == ref[1]     # "Output 0 of BackwardHookFunction is a view ..."


def test_in_place_write_to_a_hooked_output_under_no_grad_is_allowed():
    for lib in (graphnet, torch):
        m = lib.nn.Linear(3, 2)
        m.register_full_backward_hook(lambda *a: None)
        y = m(lib.tensor(X[:6].reshape(2, 3), requires_grad=True))
        with lib.no_grad():
            y.mul_(2)
        y.detach().add_(1)


@pytest.mark.parametrize("returned", ["tensor", "two", "wrong_shape", "list"])
def test_what_a_full_backward_hook_may_return(returned):
    def outcome(lib):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(X[:6].reshape(2, 3)))
        pre = {"tensor": lambda go: go[0] * 2, "two": lambda go: (go[0], go[0]),
               "list": lambda go: [go[0] * 2]}
        if returned in pre:
            m.register_full_backward_pre_hook(lambda mod, go: pre[returned](go))
        else:
            m.register_full_backward_hook(lambda mod, gi, go: (gi[0][:1],))
        x = lib.tensor(X[:12].reshape(4, 3), requires_grad=True)
        try:
            m(x).sum().backward()
        except RuntimeError as error:
            return str(error).split(",")[0].split(" (")[0]
        return np_of(x.grad)

    ours, ref = outcome(graphnet), outcome(torch)
    if isinstance(ref, str):
        assert ours == ref
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-6)


def _checkpoint_grads(lib, ckpt, compiled: bool, reentrant, input_grad: bool):
    inner, outer = lib.nn.Linear(3, 2), lib.nn.Linear(2, 1)
    with lib.no_grad():
        for p in (*inner.parameters(), *outer.parameters()):
            p.copy_(lib.tensor(X[:p.numel()].reshape(tuple(p.shape))))

    def step(x):
        y = ckpt(inner, x, use_reentrant=reentrant)
        loss = outer(y).sum()
        loss.backward()
        return loss, y.requires_grad

    x = lib.tensor(X[:12].reshape(4, 3), requires_grad=input_grad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss, y_requires_grad = (graphnet.compile(step) if compiled else step)(x)
    messages = sorted({str(w.message)[:40] for w in caught if w.category is UserWarning})
    grads = [None if p.grad is None else np_of(p.grad)
             for p in (*inner.parameters(), *outer.parameters())]
    return np_of(loss.detach()), y_requires_grad, messages, grads


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("input_grad", [False, True])
@pytest.mark.parametrize("reentrant", [True, False, None])
def test_checkpoint_gradients_as_torch(reentrant, input_grad, compiled):
    ours = _checkpoint_grads(graphnet, gn_checkpoint.checkpoint, compiled, reentrant,
                             input_grad)
    ref = _checkpoint_grads(torch, torch.utils.checkpoint.checkpoint, False, reentrant,
                            input_grad)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-6)
    assert ours[1] == bool(ref[1])
    assert ours[2] == ref[2]
    _assert_same(ours[3], ref[3])


def test_checkpoint_sequential_and_argument_errors_as_torch():
    def run(lib, ckpt_module):
        seq = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Tanh(), lib.nn.Linear(3, 1))
        with lib.no_grad():
            for p in seq.parameters():
                p.copy_(lib.tensor(X[:p.numel()].reshape(tuple(p.shape))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out = ckpt_module.checkpoint_sequential(seq, 2, lib.tensor(X[:12].reshape(4, 3)),
                                                    use_reentrant=True)
        out.sum().backward()
        return [None if p.grad is None else np_of(p.grad) for p in seq.parameters()]

    ours, ref = run(graphnet, gn_checkpoint), run(torch, torch.utils.checkpoint)
    assert [g is None for g in ours] == [g is None for g in ref] == [True, True, False, False]
    _assert_same(ours, ref)
    for ckpt in (gn_checkpoint.checkpoint, torch.utils.checkpoint.checkpoint):
        with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
            ckpt(lambda x: x, X, use_reentrant=True, foo=1)
        with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
            ckpt(lambda x: x, X, use_reentrant=True, context_fn=lambda: None)


# ---- inference_mode() inside graphnet.compile ---------------------------------------------
def test_inference_tensor_saved_for_backward_raises_compiled_as_eager():
    """A value made under inference_mode() and then used where autograd saves it: eager
    graphnet and torch raise; the compiled function returned a gradient."""
    def run(lib, compiled):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2)

        def f(x):
            with lib.inference_mode():
                y = lin(x)
            return (y * lin.weight.sum()).sum()
        (graphnet.compile(f) if compiled else f)(lib.ones(4, 3)).backward()
    for lib, compiled in ((torch, False), (graphnet, False), (graphnet, True)):
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved"):
            run(lib, compiled)

    def g(x):   # nothing saved: runs, compiled and eager alike
        with graphnet.inference_mode():
            y = x * 2
        return y.sum()
    assert graphnet.compile(g)(graphnet.ones(3)).item() == g(graphnet.ones(3)).item() == 6.0
