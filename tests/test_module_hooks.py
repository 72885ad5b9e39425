"""Module hooks against PyTorch: full backward hooks and pre-hooks (what they see, what their
return values replace), forward hooks with `with_kwargs`, `prepend` and `always_call`, the
state-dict hooks, `get_extra_state` / `set_extra_state`, overridden `_save_to_state_dict` /
`_load_from_state_dict`, `set_submodule` and `to_empty`. Before, the backward hooks,
the hook options and the state-dict hooks were missing names, and a module's extra state was
silently left out of its state dict."""

import numpy as np
import pytest
from parity import copy_torch_params, np_of, torch

import graphnet
from graphnet._errors import TraceError

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3)).astype(np.float32)


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))


def _pair():
    ours, ref = _net(graphnet), _net(torch)
    copy_torch_params(ref, ours)
    return ours, ref


def _arrays(values):
    return [None if v is None else np_of(v) for v in values]


def _run_backward_hooks(lib, net, input_grad: bool):
    seen = []

    def full(module, grad_input, grad_output):
        seen.append(("full", _arrays(grad_input), _arrays(grad_output)))
        if grad_input[0] is not None:
            return (grad_input[0] * 3,)

    def pre(module, grad_output):
        seen.append(("pre", _arrays(grad_output)))
        return (grad_output[0] * 2,)

    net[1].register_full_backward_hook(full)
    net[1].register_full_backward_pre_hook(pre)
    net[0].register_full_backward_hook(full)   # the first layer: x may need no gradient
    x = lib.tensor(X, requires_grad=input_grad)
    (net(x) ** 2).sum().backward()
    grads = [np_of(p.grad) for p in net.parameters()]
    return seen, grads, (np_of(x.grad) if input_grad else None)


@pytest.mark.parametrize("input_grad", [True, False])
def test_full_backward_hooks_see_and_replace_gradients_as_in_torch(input_grad):
    ours, ref = _pair()
    got, want = _run_backward_hooks(graphnet, ours, input_grad), \
        _run_backward_hooks(torch, ref, input_grad)
    assert [entry[0] for entry in got[0]] == [entry[0] for entry in want[0]]
    for mine, theirs in zip(got[0], want[0]):
        for a, b in zip(mine[1:], theirs[1:]):
            assert [v is None for v in a] == [v is None for v in b]
            for u, v in zip(a, b):
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if input_grad:
        np.testing.assert_allclose(got[2], want[2], rtol=1e-5, atol=1e-6)


def test_backward_hook_on_a_module_with_two_inputs_and_two_outputs():
    def run(lib):
        class Split(lib.nn.Module):
            def forward(self, a, scale, b):
                return a * scale + b, a - b

        seen = []
        split = Split()
        split.register_full_backward_hook(
            lambda m, gi, go: seen.append((_arrays(gi), _arrays(go))))
        a = lib.tensor(X, requires_grad=True)
        b = lib.tensor(X[::-1].copy())              # needs no gradient
        first, second = split(a, 2.0, b)
        (first * 3 + second).sum().backward()
        return seen, np_of(a.grad)

    (got, got_grad), (want, want_grad) = run(graphnet), run(torch)
    assert len(got) == len(want) == 1
    for mine, theirs in zip(got[0], want[0]):
        assert [v is None for v in mine] == [v is None for v in theirs]
        for u, v in zip(mine, theirs):
            if u is not None:
                np.testing.assert_allclose(u, v)
    np.testing.assert_allclose(got_grad, want_grad)


def test_backward_hooks_are_refused_in_a_compiled_program():
    net = _net(graphnet)
    net[0].register_full_backward_hook(lambda *a: None)
    with pytest.raises(TraceError, match=r"backward hooks of module 0 \(Linear\)"):
        graphnet.compile(lambda x: net(x).sum())(graphnet.tensor(X))


def test_forward_hook_options_run_as_in_torch():
    def run(lib):
        calls = []

        class Scale(lib.nn.Module):
            def forward(self, x, *, factor=1.0):
                if factor < 0:
                    raise ValueError("negative factor")
                return x * factor

        m = Scale()
        m.register_forward_hook(lambda mod, args, out: calls.append("plain"))
        m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(
            ("kwargs", dict(kwargs))) or out + 1, with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: calls.append("first"), prepend=True)
        m.register_forward_hook(lambda mod, args, out: calls.append("always"), always_call=True)
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}),
                                    with_kwargs=True)
        out = m(lib.ones(2), factor=2.0)
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": -1.0}),
                                    with_kwargs=True)
        with pytest.raises(ValueError, match="negative factor"):
            m(lib.ones(2))
        return calls, np_of(out)

    (got, got_out), (want, want_out) = run(graphnet), run(torch)
    assert got == want
    np.testing.assert_array_equal(got_out, want_out)


def test_forward_hooks_with_kwargs_compile():
    net = _net(graphnet)
    net[2].register_forward_hook(lambda mod, args, kwargs, out: out * 2, with_kwargs=True)
    x = graphnet.tensor(X)
    np.testing.assert_allclose(np_of(graphnet.compile(net)(x)), np_of(net(x)), rtol=1e-6)


class _Counter:
    def __init__(self, lib):
        class Counted(lib.nn.Linear):
            def __init__(self):
                super().__init__(3, 2)
                self.seen = {"steps": 0}

            def get_extra_state(self):
                return dict(self.seen)

            def set_extra_state(self, state):
                self.seen = dict(state)

        self.cls = Counted


def test_extra_state_is_saved_loaded_and_required_as_in_torch():
    for lib in (graphnet, torch):
        Counted = _Counter(lib).cls
        net = lib.nn.Sequential(Counted())
        net[0].seen["steps"] = 7
        state = net.state_dict()
        assert list(state) == ["0.weight", "0.bias", "0._extra_state"]
        assert state["0._extra_state"] == {"steps": 7}
        fresh = lib.nn.Sequential(Counted())
        fresh.load_state_dict(state)
        assert fresh[0].seen == {"steps": 7}
        del state["0._extra_state"]
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0._extra_state"'):
            fresh.load_state_dict(state)
        plain = lib.nn.Sequential(lib.nn.Linear(3, 2))
        keys = plain.load_state_dict(net.state_dict(), strict=False)
        assert keys.unexpected_keys == ["0._extra_state"] and keys.missing_keys == []


def test_state_dict_hooks_and_overridden_load_run_as_in_torch():
    def run(lib):
        calls = []

        class Renamed(lib.nn.Linear):
            """Loads checkpoints that still call the weight `w` (a common migration)."""

            def _load_from_state_dict(self, state, prefix, *args):
                if prefix + "w" in state:
                    state[prefix + "weight"] = state.pop(prefix + "w")
                super()._load_from_state_dict(state, prefix, *args)

        net = lib.nn.Sequential(Renamed(3, 2))
        net[0].register_state_dict_pre_hook(lambda m, prefix, keep: calls.append(("pre", prefix)))
        net[0].register_state_dict_post_hook(
            lambda m, sd, prefix, meta: calls.append(("post", prefix, sorted(sd))))
        net.register_load_state_dict_pre_hook(
            lambda m, sd, prefix, *rest: calls.append(("load_pre", prefix, sorted(sd))))
        net.register_load_state_dict_post_hook(
            lambda m, keys: calls.append(("load_post", list(keys.missing_keys))))
        state = net.state_dict()
        old = {("0.w" if k == "0.weight" else k): v for k, v in state.items()}
        old["0.w"] = old["0.w"] * 0 + 5
        net.load_state_dict(old)
        return calls, np_of(net[0].weight)

    (got, got_w), (want, want_w) = run(graphnet), run(torch)
    assert got == want
    np.testing.assert_array_equal(got_w, want_w)
    assert (got_w == 5).all()


def test_set_submodule_and_to_empty():
    for lib in (graphnet, torch):
        net = _net(lib)
        net.set_submodule("1", lib.nn.ReLU())
        assert type(net[1]).__name__ == "ReLU"
        with pytest.raises(AttributeError):
            net.set_submodule("9", lib.nn.ReLU(), strict=True)
        with pytest.raises(AttributeError):
            net.set_submodule("0.weight", lib.nn.ReLU())
        weight = net[0].weight
        assert net.to_empty(device="cpu") is net and net[0].weight is weight
        assert tuple(net[0].weight.shape) == (5, 3)


def test_a_replaced_parameter_or_submodule_keeps_its_place():
    """Before, `self.a = new` moved `a` to the end: parameters() then came in another order
    than PyTorch's, so an optimizer state_dict loaded by position paired the wrong tensors."""
    for lib in (graphnet, torch):
        m = lib.nn.Module()
        m.a, m.b = lib.nn.Linear(1, 1), lib.nn.Linear(1, 1)
        m.p, m.q = lib.nn.Parameter(lib.ones(1)), lib.nn.Parameter(lib.ones(2))
        m.a, m.p = lib.nn.Linear(1, 2), lib.nn.Parameter(lib.zeros(3))
        assert list(m._modules) == ["a", "b"] and list(m._parameters) == ["p", "q"]
        assert [tuple(p.shape) for p in m.parameters()] == [(3,), (2,), (2, 1), (2,), (1, 1),
                                                            (1,)]
