"""The dispatch-mode protocol (graphnet/_mode.py): one base class whose hooks default to eager
mode, a mode stack per thread, and a clear TraceError for tensors kept from a trace."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest

import graphnet
from graphnet import TraceError, nn
from graphnet._mode import DispatchMode, current_mode, push_mode, tracing
from graphnet.compiler.tracer import Tracer

HOOKS = ["run_op", "on_tensor_created", "on_write", "concretize", "on_grad_read",
         "on_grad_write", "backward", "on_module_call", "on_training_set", "cond",
         "while_loop", "live_scalar", "label", "depends_on"]


def _np(t):
    return np.asarray(t.detach()._value)


def _model_and_opt(seed=0):
    graphnet.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    return model, graphnet.optim.Adam(model.parameters(), lr=0.05)


def _train_step(model, opt, x, y):
    opt.zero_grad()
    h = model(x)
    h = graphnet.cond(h.sum() > 0, lambda t: t * 2, lambda t: t - 1, h)
    (n,) = graphnet.while_loop(lambda n: n < 3, lambda n: n + 1, (graphnet.tensor(0),))
    loss = nn.functional.cross_entropy(h, y) * n
    loss.backward()
    opt.step()
    model.eval()
    model.train()
    return loss


def _batch():
    graphnet.manual_seed(1)
    return graphnet.randn(6, 3), graphnet.tensor([0, 1, 1, 0, 1, 0])


def test_every_hook_is_named_on_the_base_class_with_a_docstring():
    for name in HOOKS:
        hook = getattr(DispatchMode, name)
        assert inspect.getdoc(hook), name
    assert DispatchMode.records_graph is False and Tracer.records_graph is True
    assert issubclass(Tracer, DispatchMode)
    overridden = {n for n in HOOKS if getattr(Tracer, n) is not getattr(DispatchMode, n)}
    assert overridden == set(HOOKS)   # the tracer overrides every hook, through the base


def test_a_mode_overriding_nothing_is_eager_mode():
    x, y = _batch()
    results = []
    for mode in (None, DispatchMode()):
        model, opt = _model_and_opt()
        losses = []
        for _ in range(2):
            if mode is None:
                losses.append(_train_step(model, opt, x, y).item())
            else:
                with push_mode(mode):
                    assert current_mode() is mode and not tracing()
                    losses.append(_train_step(model, opt, x, y).item())
        results.append((losses, [_np(p) for p in model.parameters()]))
    (eager_losses, eager_params), (mode_losses, mode_params) = results
    np.testing.assert_allclose(mode_losses, eager_losses, rtol=1e-6)
    assert eager_losses[0] != eager_losses[1]        # the step did train
    for a, b in zip(mode_params, eager_params):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_mode_overrides_only_what_it_needs():
    class CountOps(DispatchMode):
        def __init__(self):
            self.ops, self.modules = [], []

        def run_op(self, opdef, args, attrs):
            self.ops.append(opdef.name)
            return super().run_op(opdef, args, attrs)

        def on_module_call(self, module):
            self.modules.append(type(module).__name__)

    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    x = graphnet.randn(4, 3)
    with push_mode(CountOps()) as counter:
        y = model(x)
    assert counter.modules == ["Sequential", "Linear", "Tanh"]
    assert counter.ops == ["linear", "tanh"]
    np.testing.assert_allclose(_np(y), _np(model(x)), rtol=1e-6)
    assert current_mode() is None


def test_push_mode_takes_only_dispatch_modes():
    class DuckTyped:
        def run_op(self, opdef, args, attrs):
            return None

    with pytest.raises(TypeError, match="subclass graphnet._mode.DispatchMode"):
        push_mode(DuckTyped())


def test_tracing_is_true_only_under_a_recording_mode():
    seen = []

    def f(x):
        seen.append(graphnet.tracing())
        return x * 2

    assert not graphnet.tracing()
    graphnet.compile(f)(graphnet.ones(2))
    assert seen == [True]


# ---- one mode stack per thread ------------------------------------------------------------------
def test_a_trace_in_one_thread_does_not_capture_eager_ops_in_another():
    both_inside = threading.Barrier(2, timeout=60)
    eager_done = threading.Barrier(2, timeout=60)
    results, errors = {}, []

    def traced(x):
        y = x * 3
        both_inside.wait()     # the trace is half done: the other thread now runs eager ops
        eager_done.wait()
        return (y + 1).sum()

    def tracing_thread():
        try:
            compiled = graphnet.compile(traced)
            results["first"] = compiled(graphnet.arange(4.0)).item()
            results["graph"] = str(compiled.graph)
        except BaseException as err:     # reported by the main thread
            errors.append(err)
            both_inside.abort()
            eager_done.abort()

    def eager_thread():
        try:
            both_inside.wait()
            results["mode"] = current_mode()
            a = graphnet.tensor([1.0, -2.0], requires_grad=True)
            out = graphnet.tanh(a).exp().sum()
            out.backward()
            results["eager"] = out.item()
            results["grad"] = _np(a.grad)
            eager_done.wait()
        except BaseException as err:
            errors.append(err)
            both_inside.abort()
            eager_done.abort()

    threads = [threading.Thread(target=tracing_thread), threading.Thread(target=eager_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert results["mode"] is None
    a = np.array([1.0, -2.0])
    np.testing.assert_allclose(results["eager"], np.exp(np.tanh(a)).sum(), rtol=1e-6)
    np.testing.assert_allclose(results["grad"], np.exp(np.tanh(a)) * (1 - np.tanh(a) ** 2),
                               rtol=1e-5)
    assert results["first"] == pytest.approx(3 * 6 + 4)
    assert "tanh" not in results["graph"] and "exp" not in results["graph"]


# ---- tensors kept from a trace ------------------------------------------------------------------
def test_backward_on_a_tensor_kept_from_a_compiled_step_raises_a_trace_error():
    x, y = _batch()
    eager_model, eager_opt = _model_and_opt()
    model, opt = _model_and_opt()
    kept, eager_kept = [], []

    def make_step(keep):
        def step(model, opt, x, y):
            opt.zero_grad()
            out = model(x)
            keep.append(out)
            loss = nn.functional.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss
        return step

    compiled, eager_step = graphnet.compile(make_step(kept)), make_step(eager_kept)
    for _ in range(2):
        loss = compiled(model, opt, x, y)
        expected = eager_step(eager_model, eager_opt, x, y)
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-5)
    # NOTE: the first Linear's bias feeds a training-mode BatchNorm, which subtracts the batch
    # mean: its exact gradient is 0, so its float32 gradient is rounding noise (about 1e-8)
    # and Adam, dividing by the gradient's own size, steps it by about lr either way. Which
    # way depends on the order XLA sums in (it flipped with XLA-CPU's fusion emitters off).
    # It is held to that bound; every other parameter to float32 noise.
    noise_only = model[0].bias
    assert np.abs(_np(noise_only.grad)).max() < 1e-6
    for a, b in zip(model.parameters(), eager_model.parameters()):
        atol = 2 * 2 * 0.05 if a is noise_only else 1e-6    # 2 steps of lr 0.05, either sign
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=atol)
    assert len(kept) == 2      # NOTE: kept tensors are new state: each call traces again
    np.testing.assert_allclose(_np(kept[-1]), _np(eager_kept[-1]), rtol=1e-5, atol=1e-6)
    with pytest.raises(TraceError, match=r"made inside the graphnet.compile trace of `step` "
                                         r"\(by `linear` at .*test_mode_protocol.py:\d+\) and "
                                         r"kept after the trace ended") as info:
        kept[0].sum().backward()
    assert "Return it from the compiled function instead" in str(info.value)
    with pytest.raises(TraceError, match="trace of `step`"):
        kept[-1].backward(graphnet.ones(6, 2))
    w = graphnet.ones(6, 2, requires_grad=True)
    with pytest.raises(TraceError, match="trace of `step`"):   # behind an eager op too
        (kept[0] * w).sum().backward()
    assert w.grad is None     # refused before any gradient was written, not halfway through


def test_a_kept_cond_result_raises_too():
    kept = []

    def f(w):
        out = graphnet.cond(w.sum() > 0, lambda t: t * 2, lambda t: -t, w)
        kept.append(out)
        return out.sum()

    w = graphnet.tensor([1.0, 2.0], requires_grad=True)
    assert graphnet.compile(f)(w).item() == pytest.approx(6.0)
    with pytest.raises(TraceError, match=r"trace of `f` \(by `cond`"):
        kept[0].sum().backward()


def test_reading_a_placeholder_kept_from_a_trace_raises_a_trace_error():
    # NOTE: a list the function names gets its items back after trace_graph (it only looks:
    # compiler/failed_trace.py); one held inside another container keeps what was appended
    holder = {"kept": []}

    def f(x):
        y = x * 2
        holder["kept"].append(y)
        holder["kept"].append(y.detach() + 1)
        return y.sum()

    graphnet.trace_graph(f, graphnet.randn(3, requires_grad=True))   # traced, never run
    grad_kept, plain_kept = holder["kept"]
    placeholder = "It holds the traced graph's placeholder %mul"
    with pytest.raises(TraceError, match=f"item\\(\\): .*inside a graphnet.compile trace "
                                         f".*{placeholder}"):
        grad_kept.detach().item()
    with pytest.raises(TraceError, match=f"add\\(\\): .*trace of `f` .*{placeholder}"):
        grad_kept + 1
    with pytest.raises(TraceError, match="numpy\\(\\): .*inside a graphnet.compile trace"):
        plain_kept.numpy()
    with pytest.raises(TraceError, match="sum\\(\\): .*placeholder %add"):
        plain_kept.sum()


def test_a_placeholder_kept_from_a_failed_trace_raises_a_trace_error():
    kept, holder = [], {"kept": []}

    def f(x):
        kept.append(x.exp())
        holder["kept"].append(x.exp())
        raise ValueError("user bug")

    with pytest.raises(ValueError, match="user bug"):
        graphnet.compile(f)(graphnet.ones(2))
    assert kept == []   # a list the function names gets its items back (failed_trace.py)
    with pytest.raises(TraceError, match="tolist\\(\\): .*placeholder %exp"):
        holder["kept"][0].tolist()


def test_module_calls_are_tracked_per_thread():
    inside = threading.Barrier(2, timeout=60)
    done = threading.Barrier(2, timeout=60)
    seen, errors = {}, []

    class Pause(nn.Module):
        def forward(self, x):
            seen["traced path"] = graphnet._dispatch.module_path()
            inside.wait()      # the other thread calls its own modules now
            done.wait()
            return x + 1

    traced_model = nn.Sequential(nn.Linear(2, 2), Pause())
    eager_model = nn.Sequential(nn.Tanh())

    def record_path(module, args):
        seen["eager path"] = graphnet._dispatch.module_path()

    eager_model[0].register_forward_pre_hook(record_path)

    def run(fn):
        try:
            fn()
        except BaseException as err:
            errors.append(err)
            inside.abort()
            done.abort()

    def trace():
        seen["graph"] = str(graphnet.trace_graph(traced_model, graphnet.ones(1, 2)))

    def eager():
        inside.wait()
        seen["eager value"] = eager_model(graphnet.zeros(3)).tolist()
        done.wait()

    threads = [threading.Thread(target=run, args=(f,)) for f in (trace, eager)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert seen["traced path"] == "1" and seen["eager path"] == "0"
    assert seen["eager value"] == [0.0, 0.0, 0.0]
    assert "# 1" in seen["graph"] and "tanh" not in seen["graph"]
