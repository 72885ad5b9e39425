"""GradScaler against torch 2.13's: the numbers of a training run whose scale backs off and
grows (eager, and with `scaler.scale(loss).backward()` compiled: the scale is a graph input,
never the value traced), the getters, setters and state, and the misuse PyTorch refuses."""

import pickle
import warnings

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError

X = np.random.RandomState(0).randn(6, 4).astype(np.float32)
W = (np.arange(12, dtype=np.float32).reshape(3, 4) / 10)
BLOW_UP = (1, 2)   # steps whose loss is multiplied by inf: the scale backs off twice


def _run(T, compiled=False, steps=7):
    model = T.nn.Linear(4, 3)
    with T.no_grad():
        model.weight.copy_(T.tensor(W))
        model.bias.fill_(0.1)
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = T.amp.GradScaler("cpu", init_scale=2.0 ** 4, growth_interval=2)

    def forward_backward(x, m):
        opt.zero_grad()
        loss = (model(x) * m).pow(2).mean()
        scaled = scaler.scale(loss)
        scaled.backward()
        return scaled

    fn = gn.compile(forward_backward) if compiled else forward_backward
    seen = []
    for i in range(steps):
        scaled = fn(T.tensor(X), T.tensor(float("inf") if i in BLOW_UP else 1.0))
        grad = model.weight.grad.detach().numpy().copy()
        scaler.step(opt)
        scaler.update()
        seen.append((float(scaled.detach()), scaler.get_scale(), grad))
    return seen, model.weight.detach().numpy().copy(), fn


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_training_with_a_changing_scale_matches_torch(compiled):
    want, want_w, _ = _run(torch)
    got, got_w, fn = _run(gn, compiled)
    assert [s for _, s, _ in got] == [s for _, s, _ in want] == \
        [16.0, 8.0, 4.0, 4.0, 8.0, 8.0, 16.0]
    for (g_loss, _, g_grad), (t_loss, _, t_grad) in zip(got, want):
        assert g_loss == pytest.approx(t_loss, rel=1e-5)
        np.testing.assert_allclose(g_grad, t_grad, rtol=1e-5)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    if compiled:   # a changed scale is a new input value, not a recompile
        assert fn.explain()["graphs"] == 1


def test_two_scalers_in_one_program_keep_their_own_scales():
    a, b = gn.amp.GradScaler("cpu", init_scale=4.0), gn.amp.GradScaler("cpu", init_scale=4.0)
    fn = gn.compile(lambda x: (a.scale(x), b.scale(x)))
    assert [t.tolist() for t in fn(gn.ones(2))] == [[4.0, 4.0], [4.0, 4.0]]
    a.update(2.0)
    b.update(3.0)
    assert [t.tolist() for t in fn(gn.ones(2))] == [[2.0, 2.0], [3.0, 3.0]]
    assert fn.explain()["graphs"] == 1


def test_a_scale_read_as_a_number_in_a_compiled_function_is_guarded():
    scaler = gn.amp.GradScaler("cpu", init_scale=4.0)
    scaler.scale(gn.ones(1))
    fn = gn.compile(lambda x: x * scaler.get_scale())
    assert fn(gn.ones(1)).tolist() == [4.0]
    scaler.update(5.0)
    assert fn(gn.ones(1)).tolist() == [5.0]


@pytest.mark.parametrize("call", ["step", "unscale_", "update", "set_growth_factor"])
def test_host_side_methods_refuse_inside_a_compiled_function(call):
    model = gn.nn.Linear(2, 1)
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    scaler = gn.amp.GradScaler("cpu")
    calls = {"step": lambda: scaler.step(opt), "unscale_": lambda: scaler.unscale_(opt),
             "update": lambda: scaler.update(), "set_growth_factor":
             lambda: scaler.set_growth_factor(3.0)}

    def fn(x):
        opt.zero_grad()
        scaler.scale(model(x).sum()).backward()
        calls[call]()

    with pytest.raises(TraceError, match=f"GradScaler.{call}"):
        gn.compile(fn)(gn.ones(1, 2))


@pytest.mark.parametrize("dtype,shape", [("bfloat16", ()), ("bfloat16", (2,)),
                                         ("float16", ()), ("float64", ()), ("float32", (3,))])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_scaled_dtype_matches_torch(dtype, shape, compiled):
    want = torch.amp.GradScaler("cpu").scale(torch.ones(shape, dtype=getattr(torch, dtype)))
    scaler = gn.amp.GradScaler("cpu")
    fn = gn.compile(scaler.scale) if compiled else scaler.scale
    got = fn(gn.ones(shape, dtype=getattr(gn, dtype)))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == want.tolist()


def _misuse(T):
    """What each misuse raises (or returns), in order."""
    out = []

    def attempt(f):
        try:
            out.append(("ok", f()))
        except Exception as e:   # noqa: BLE001 - the type and message are compared
            out.append((type(e).__name__, str(e)))

    model = T.nn.Linear(2, 1)
    opt = T.optim.SGD(model.parameters(), lr=0.1)
    s = T.amp.GradScaler("cpu", init_scale=0.1, growth_factor=1.7, growth_interval=1)
    attempt(lambda: (s.get_scale(), s.state_dict()))
    attempt(lambda: s.update())
    attempt(lambda: s.step(opt))
    attempt(lambda: s.scale(3.0))
    attempt(lambda: type(s.scale(iter([T.ones(1)]))).__name__)
    s.scale(model(T.ones(1, 2)).sum()).backward()
    attempt(lambda: s.get_scale())
    attempt(lambda: s.update())
    s.unscale_(opt)
    attempt(lambda: s.unscale_(opt))
    attempt(lambda: s.step(opt, closure=lambda: 0))
    s.step(opt)
    attempt(lambda: s.step(opt))
    attempt(lambda: s.unscale_(opt))
    attempt(lambda: pickle.dumps(s))
    s.update()
    attempt(lambda: s.state_dict())
    for bad in (T.tensor([2.0, 1.0]), T.tensor(2.0, requires_grad=True), 3):
        attempt(lambda: s.update(bad))
    s.update(T.tensor(2.5))
    s.set_growth_factor(3.0)
    s.set_backoff_factor(0.25)
    s.set_growth_interval(5)
    attempt(lambda: (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval(),
                     s.is_enabled(), s.state_dict()))
    other = T.amp.GradScaler("cpu")
    other.load_state_dict(s.state_dict())
    attempt(lambda: (other.get_scale(), other.state_dict()))
    attempt(lambda: pickle.loads(pickle.dumps(s)).state_dict())
    attempt(lambda: other.load_state_dict({}))
    off = T.amp.GradScaler("cpu", enabled=False)
    attempt(lambda: (off.scale(3.0), off.get_scale(), off.state_dict(), off.is_enabled()))
    attempt(lambda: off.get_growth_factor())
    for kwargs in ({"growth_factor": 1.0}, {"backoff_factor": 1.0}):
        attempt(lambda: T.amp.GradScaler("cpu", **kwargs))
    return out


def test_getters_setters_state_and_refusals_match_torch():
    got = _misuse(gn)
    want = _misuse(torch)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w


def test_growth_skips_an_overflowing_scale_and_rounds_to_float32():
    results = []
    for T in (torch, gn):
        model = T.nn.Linear(2, 1)
        opt = T.optim.SGD(model.parameters(), lr=0.0)
        s = T.amp.GradScaler("cpu", init_scale=3e38, growth_interval=1)
        t = T.amp.GradScaler("cpu", init_scale=3.0, growth_factor=1.7, backoff_factor=0.3,
                             growth_interval=1)
        scales = []
        for i in range(4):
            for scaler in (s, t):
                opt.zero_grad()
                scaler.scale(model(T.ones(1, 2)).sum() * (float("inf") if i == 2 else 1.0)
                             ).backward()
                scaler.step(opt)
                scaler.update()
                scales.append(scaler.get_scale())
        results.append(scales)
    assert results[0] == results[1]


def test_fp16_grads_refuse_and_cpu_amp_spelling_is_a_subclass():
    model = gn.nn.Linear(2, 1).to(gn.float16)
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    scaler = gn.amp.GradScaler("cpu")
    scaler.scale(model(gn.ones(1, 2, dtype=gn.float16)).sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not gn.cuda.amp.GradScaler().is_enabled() or gn.cuda.is_available()
