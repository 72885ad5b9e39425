"""What a compiled call accepts and returns, and what happens at the cache limit."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import graphnet
from graphnet import nn

F = graphnet.nn.functional


def _np(t):
    return np.asarray(t.detach()._value)


def _model_and_opt(seed=0):
    graphnet.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    return model, graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _train_step(model, opt):
    """The usual step: zero_grad, cross-entropy, backward, opt.step."""
    def step(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


@pytest.mark.parametrize("make_result", [
    lambda loss: None,
    lambda loss: 3,
    lambda loss: "done",
    lambda loss: (loss, None, 1.5),
    lambda loss: {"loss": loss, "meta": {"n": 2, "names": ["a", None]}, "pair": (loss * 2, 0)},
    lambda loss: [None, [loss, (None,)]],
], ids=["none", "int", "str", "tuple", "nested-dict", "nested-list"])
def test_any_return_value_in_both_modes(make_result):
    results, params = [], []
    x, y = graphnet.randn(4, 3), graphnet.tensor([0, 1, 1, 0])
    for compiled in (False, True):
        model, opt = _model_and_opt()

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return make_result(loss)
        run = graphnet.compile(step) if compiled else step
        outs = [run(x, y) for _ in range(3)]
        results.append(outs)
        params.append([_np(p) for p in model.parameters()])
    for a, b in zip(*params):
        np.testing.assert_allclose(a, b, rtol=1e-6)

    def plain(obj):
        if isinstance(obj, graphnet.Tensor):
            return ("tensor", np.round(_np(obj), 5).tolist())
        if isinstance(obj, (list, tuple)):
            return (type(obj).__name__, [plain(v) for v in obj])
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        return obj
    assert plain(results[1]) == plain(results[0])


def test_a_step_without_return_runs_every_batch_in_map():
    model, opt = _model_and_opt()

    def step(x):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    fast = graphnet.compile(step)
    batches = [graphnet.randn(4, 3) for _ in range(5)]
    assert list(map(fast, batches)) == [None] * 5
    assert fast.explain()["per_graph"][-1]["calls"] == 4    # first call traced twice


def test_nested_tensor_arguments():
    model, _ = _model_and_opt()

    def f(batch, scale=1.0):
        return {"out": model(batch["x"]) * scale, "shifted": batch["extra"][1] + 1}
    fast = graphnet.compile(f)
    batch = {"x": graphnet.randn(4, 3), "extra": [graphnet.ones(2), graphnet.zeros(2)]}
    for kwargs in ({}, {"scale": 2.0}):
        got, want = fast(batch, **kwargs), f(batch, **kwargs)
        np.testing.assert_allclose(_np(got["out"]), _np(want["out"]), rtol=1e-6)
        np.testing.assert_allclose(_np(got["shifted"]), _np(want["shifted"]))
    batch["extra"] = [graphnet.ones(2)] * 3                   # a different nesting retraces
    np.testing.assert_allclose(_np(fast(batch, scale=2.0)["shifted"]), [2.0, 2.0])
    assert "nesting" in fast.explain()["recompile_reasons"][-1]


@pytest.mark.parametrize("bad", [np.ones((4, 3), np.float32), [[1.0, 2.0, 3.0]] * 4],
                         ids=["numpy", "list"])
def test_numpy_and_lists_refused_in_both_modes(bad):
    model, _ = _model_and_opt()
    with pytest.raises(TypeError) as eager:
        model(bad)
    with pytest.raises(TypeError) as static:
        graphnet.compile(model)(bad)
    for err in (eager, static):
        assert "graphnet.as_tensor" in str(err.value) or "graphnet.tensor" in str(err.value)


def test_cache_limit_keeps_compiled_shapes_compiled():
    model, _ = _model_and_opt()
    fast = graphnet.compile(model, cache_size=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in [1, 2, 3, 1, 2, 4, 1]:
            x = graphnet.randn(n, 3)
            np.testing.assert_allclose(_np(fast(x)), _np(model(x)), rtol=1e-5, atol=1e-6)
    messages = [str(w.message) for w in caught if "cache limit" in str(w.message)]
    assert len(messages) == 1 and "keep running compiled" in messages[0]
    info = fast.explain()
    assert info["graphs"] == 2 and info["dynamic_calls"] == 2
    assert [a.calls for a in fast.compiled.artifacts] == [3, 2]


def test_ema_through_state_dict_aliases():
    """timm's ModelEma: an in-place update through state_dict() values inside the step."""
    outs = []
    x = graphnet.randn(4, 3)
    for compiled in (False, True):
        model, opt = _model_and_opt()
        ema = copy.deepcopy(model)

        def step(x):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
            with graphnet.no_grad():
                current = model.state_dict()
                for k, v in ema.state_dict().items():
                    v.mul_(0.9).add_(current[k].detach() * 0.1)
                ema[0].bias.data = ema[0].bias.data * 1.0
        run = graphnet.compile(step) if compiled else step
        for _ in range(3):
            run(x)
        outs.append([_np(p) for p in ema.parameters()])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_deepcopy_of_a_compiled_model_is_a_compiled_copy():
    """copy.deepcopy(compiled) (target networks, EMA copies) copies the module and compiles
    the copy the same way; it used to recurse forever through __getattr__."""
    import copy

    model = graphnet.nn.Linear(2, 2)
    compiled = graphnet.compile(model, mode="static")
    twin = copy.deepcopy(compiled)
    assert twin.compiled.mode == "static" and twin.weight is not model.weight
    x = graphnet.ones(1, 2)
    assert (twin(x) == compiled(x)).all()
    with graphnet.no_grad():
        twin.weight.add_(1.0)
    assert not (twin(x) == compiled(x)).all()


@pytest.mark.parametrize("write", [
    lambda b, x: b.copy_(x),
    lambda b, x: b.zero_(),
    lambda b, x: b.fill_(x.sum()),
    lambda b, x: b.normal_(),
    lambda b, x: b.__setitem__(slice(None), x * 2),
], ids=["copy_", "zero_", "fill_tensor", "normal_", "setitem"])
def test_in_place_write_to_an_unread_outside_tensor(write):
    """A tensor the step writes in place without reading it first (a buffer outside any
    module): the write is written back after each compiled call, as eagerly. It was left
    holding a graph value, and the next use raised about an escaped tensor."""
    results = []
    for compiled in (False, True):
        graphnet.manual_seed(0)
        buf = graphnet.full((3,), 7.0)

        def step(x):
            write(buf, x)
            return x + 1
        run = graphnet.compile(step) if compiled else step
        seen = []
        for k in range(1, 3):
            run(graphnet.arange(3.0) * k)
            seen.append(_np(buf.clone()))
        results.append(seen)
    for eager, static in zip(*results):
        np.testing.assert_allclose(static, eager, rtol=1e-6)


def _pointer(t) -> int:
    return t._value.unsafe_buffer_pointer()


def test_a_static_step_updates_optimizer_state_in_place():
    """Static mode donates to its program the state buffers it overwrites and reads once
    (momentum): the step writes the new values over the old ones instead of allocating them
    afresh (until issue 13 the refcount test behind this counted one owner too few, and no
    call ever donated). A parameter, read by the forward and the backward, is not donated:
    XLA would copy it first. An alias the user holds (`.detach()`) reads the new values
    afterwards, as PyTorch's shared storage does."""
    model, opt = _model_and_opt()
    x, y = graphnet.randn(8, 3), graphnet.tensor([0, 1, 1, 0, 1, 0, 0, 1])

    step = _train_step(model, opt)
    run = graphnet.compile(step, mode="static")
    for _ in range(2):   # the first call creates the momentum buffers and retraces
        run(x, y)
    weight = model[0].weight
    buffer = lambda: opt.state[weight]["momentum_buffer"]   # noqa: E731
    donated = _pointer(buffer())
    run(x, y)
    # XLA writes an output of the buffer's shape into it (the new buffer or the new weight)
    assert donated in (_pointer(weight), _pointer(buffer()))

    held = buffer().detach()
    seen = _np(held).copy()
    run(x, y)
    assert not np.array_equal(_np(buffer()), seen)
    np.testing.assert_array_equal(_np(held), _np(buffer()))   # the alias reads the new values


def test_held_state_dicts_and_changes_between_static_steps_match_dynamic():
    """Now that static steps donate optimizer state: an `opt.state_dict()` held across steps
    reads the state of the latest step (PyTorch's holds the state tensors themselves), a
    learning rate changed between calls and a `no_grad` block inside the step apply, and
    static ends where dynamic does."""
    x, y = graphnet.randn(8, 3), graphnet.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    results = []
    for compiled in (False, True):
        graphnet.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
        opt = graphnet.optim.Adam(model.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            out = model(x)
            with graphnet.no_grad():
                scale = out.detach().abs().mean() + 1.0
            (F.cross_entropy(out, y) * scale).backward()
            opt.step()

        run = graphnet.compile(step, mode="static") if compiled else step
        held = []
        for i in range(4):
            run(x, y)
            moments = opt.state_dict()["state"][0]
            held.append((moments["exp_avg"], _np(moments["exp_avg"]).copy()))
            if i == 1:
                opt.param_groups[0]["lr"] = 0.01
        latest = _np(opt.state[next(model.parameters())]["exp_avg"])
        for i, (tensor, seen) in enumerate(held):   # every held moment reads the latest
            np.testing.assert_array_equal(_np(tensor), latest)
            assert i == len(held) - 1 or not np.array_equal(seen, latest)
        results.append([_np(p).copy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_live_numbers_reach_the_program_as_device_arrays_made_once_per_value():
    """An lr (a live number) is passed to the program as a device array kept while the value
    stays the same, and made again when it changes: the steps still equal eager steps."""
    x, y = graphnet.randn(8, 3), graphnet.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    results = []
    for compiled in (False, True):
        model, opt = _model_and_opt()

        step = _train_step(model, opt)
        run = graphnet.compile(step, mode="static") if compiled else step
        arrays = []
        for i in range(5):
            if i == 3:
                opt.param_groups[0]["lr"] = 0.5
            run(x, y)
            if compiled and i >= 1:
                artifact = run.compiled.artifacts[-1]
                [(position, (value, array))] = [
                    (p, held) for p, held in artifact._scalars.items()
                    if artifact.graph.inputs[p].name.endswith("lr")]
                assert float(array) == value == opt.param_groups[0]["lr"]
                arrays.append(array)
        results.append([_np(p).copy() for p in model.parameters()])
    # calls 2 and 3 share the lr's array; call 4 changed the lr, call 5 keeps the new one
    assert arrays[0] is arrays[1] and arrays[2] is not arrays[1] and arrays[3] is arrays[2]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("zeroing", ["set_to_none", "to_zeros", "module_to_zeros",
                                     "accumulate"])
def test_a_grad_held_across_steps_behaves_as_in_torch(zeroing):
    """`g = p.grad` kept across a step: zero_grad() (to None) gives the step a new `.grad`
    tensor and `g` keeps the old values; zero_grad(set_to_none=False) zeroes the same tensor
    and backward accumulates into it, so `g` is the new gradient; without zero_grad backward
    accumulates into it too. Eager, compiled and torch agree (the compiled step once wrote
    every new gradient into the old tensor, so a list of held gradients all read the last)."""
    from parity import torch

    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 1, 1, 0])

    def run(lib, compiled):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 7))
            model.bias.fill_(0.1)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        xs, ys = lib.tensor(x), lib.tensor(y)

        def step(xs, ys):
            if zeroing == "set_to_none":
                opt.zero_grad()
            elif zeroing == "to_zeros":
                opt.zero_grad(set_to_none=False)
            elif zeroing == "module_to_zeros":
                model.zero_grad(set_to_none=False)
            lib.nn.functional.cross_entropy(model(xs), ys).backward()
            opt.step()

        fn = graphnet.compile(step) if compiled else step
        fn(xs, ys)
        fn(xs, ys)
        held = model.weight.grad
        seen = held.detach().numpy().copy()
        fn(xs, ys)
        return (held is model.weight.grad, held.detach().numpy().copy(), seen,
                model.weight.grad.detach().numpy().copy())

    want = run(torch, False)
    for compiled in (False, True):
        got = run(graphnet, compiled)
        assert got[0] == want[0], ("same .grad tensor", compiled)
        for a, b in zip(got[1:], want[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_static_step_writes_its_outputs_into_the_gradients_it_replaces():
    """A step that replaces .grad (zero_grad() to None, then backward()) hands the old
    gradients' buffers to its program, donated: XLA writes outputs of their shapes into them
    instead of allocating new ones. A .grad the user holds is not handed over."""
    model, opt = _model_and_opt()
    x, y = graphnet.randn(8, 3), graphnet.tensor([0, 1, 1, 0, 1, 0, 0, 1])

    step = _train_step(model, opt)
    run = graphnet.compile(step, mode="static")
    for _ in range(3):
        run(x, y)
    params = list(model.parameters())

    def buffers():
        return {_pointer(t) for p in params
                for t in (p, p.grad, opt.state[p]["momentum_buffer"])}

    old = [_pointer(p.grad) for p in params]
    run(x, y)
    assert set(old) <= buffers()
    held = params[0].grad
    seen = _np(held).copy()
    run(x, y)
    np.testing.assert_array_equal(_np(held), seen)   # kept: the step made a new buffer
    assert params[0].grad is not held
    alias = params[1].grad.detach()                   # shares the array, not the tensor
    seen = _np(alias).copy()
    run(x, y)
    np.testing.assert_array_equal(_np(alias), seen)


def _grad_styles(model, opt):
    def two_backwards(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        F.cross_entropy(model(x * 2), y).backward()
        opt.step()

    def zero_after(x, y):
        F.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()

    def zero_after_to_zeros(x, y):
        F.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad(set_to_none=False)

    def clipped(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()

    def grad_replaced_by_hand(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        model[0].weight.grad = model[0].weight.grad * 0.5
        opt.step()

    def grad_scaled_in_place(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        with graphnet.no_grad():
            model[0].weight.grad.mul_(0.5)
        opt.step()
    return {f.__name__: f for f in (two_backwards, zero_after, zero_after_to_zeros, clipped,
                                    grad_replaced_by_hand, grad_scaled_in_place)}


@pytest.mark.parametrize("style", list(_grad_styles(None, None)))
def test_held_grads_are_the_same_tensors_with_the_same_values_eager_and_compiled(style):
    """Whatever a step does with .grad, the .grad tensors held after each of four steps are
    the same objects (or new ones) with the same values, eager and compiled."""
    x, y = graphnet.randn(8, 3), graphnet.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    results = []
    for compiled in (False, True):
        model, opt = _model_and_opt()
        step = _grad_styles(model, opt)[style]
        run = graphnet.compile(step, mode="static") if compiled else step
        held = []
        for _ in range(4):
            run(x, y)
            grad = model[0].weight.grad
            held.append((grad, None if grad is None else _np(grad).copy()))
        identities = [[a is b for b, _ in held] for a, _ in held]
        values = [(None, None) if g is None else (_np(g), seen) for g, seen in held]
        results.append((identities, values, _np(model[0].weight).copy()))
    (ids_e, vals_e, w_e), (ids_c, vals_c, w_c) = results
    assert ids_c == ids_e
    np.testing.assert_allclose(w_c, w_e, rtol=1e-5, atol=1e-6)
    for (now_e, seen_e), (now_c, seen_c) in zip(vals_e, vals_c):
        assert (now_e is None) == (now_c is None)
        if now_e is not None:
            np.testing.assert_allclose(now_c, now_e, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(seen_c, seen_e, rtol=1e-5, atol=1e-6)
