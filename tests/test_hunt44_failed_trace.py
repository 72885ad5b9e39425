"""A compile that fails leaves the user's optimizer and modules as they were. A training step
refused after `opt.step()` (`return loss.item()`) had left tensors made inside the trace in
`opt.state[p]`, so the eager step the user ran next (or the fixed step compiled next) failed
on them; a module's `self.initialized = True` stayed set while the initialisation it guarded
was rolled back (the next eager call skipped it, silently); a buffer replaced by the code
(`self.count = self.count + 1`) and a tensor attribute (`self.last = x`) kept placeholders."""

import numpy as np
import pytest
import torch

import graphnet

_X = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
_Y = np.array([0, 1, 1, 0, 1, 0, 0, 1])


def _model(T):
    """The same model in torch and graphnet: every parameter set from a fixed ramp."""
    model = T.nn.Sequential(T.nn.Linear(4, 8), T.nn.ReLU(), T.nn.Linear(8, 2))
    with T.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = np.linspace(-1, 1, p.numel(), dtype=np.float32) * (0.5 + 0.1 * i)
            p.copy_(T.tensor(ramp.reshape(tuple(p.shape))))
    return model


_OPTIMIZERS = {
    "sgd_momentum": lambda T, ps: T.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda T, ps: T.optim.Adam(ps, lr=0.01),
    "adamw_amsgrad": lambda T, ps: T.optim.AdamW(ps, lr=0.01, amsgrad=True),
    "rmsprop": lambda T, ps: T.optim.RMSprop(ps, lr=0.01, momentum=0.5),
}


def _step(T, model, opt, as_number):
    def step(x, y):
        opt.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item() if as_number else loss.detach()
    return step


@pytest.mark.parametrize("then", ["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(_OPTIMIZERS))
@pytest.mark.parametrize("warm", [False, True])
def test_optimizer_state_survives_a_failed_compile(name, then, warm):
    want_model = _model(torch)
    want_opt = _OPTIMIZERS[name](torch, want_model.parameters())
    want_step = _step(torch, want_model, want_opt, as_number=False)
    model = _model(graphnet)
    opt = _OPTIMIZERS[name](graphnet, model.parameters())
    x, y = graphnet.tensor(_X), graphnet.tensor(_Y)
    tx, ty = torch.tensor(_X), torch.tensor(_Y)
    if warm:   # state already there: the trace must not leave it replaced either
        want_step(tx, ty)
        _step(graphnet, model, opt, as_number=False)(x, y)
    before = {id(p): dict(s) for p, s in opt.state.items()}
    with pytest.raises(graphnet.TraceError):
        graphnet.compile(_step(graphnet, model, opt, as_number=True))(x, y)
    assert {id(p): dict(s) for p, s in opt.state.items()}.keys() == before.keys()
    for p, s in opt.state.items():
        assert all(s[k] is v for k, v in before[id(p)].items()) and s.keys() == before[id(p)].keys()
    step = _step(graphnet, model, opt, as_number=False)
    if then == "compiled":
        step = graphnet.compile(step)
    for _ in range(3):
        want, got = want_step(tx, ty), step(x, y)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(model.parameters(), want_model.parameters()):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


class _ActNormish(graphnet.nn.Module):
    """Data-dependent initialisation on the first call, a call counter kept as a replaced
    buffer, an optional running mean buffer set on first use, and a plain tensor attribute."""

    def __init__(self):
        super().__init__()
        self.lin = graphnet.nn.Linear(4, 4)
        self.initialized = False
        self.register_buffer("calls", graphnet.zeros(()))
        self.register_buffer("running", None)

    def forward(self, x):
        if not self.initialized:
            with graphnet.no_grad():
                self.lin.bias.copy_(-x.mean(0))
            self.initialized = True
        self.calls = self.calls + 1
        self.running = x.mean(0) if self.running is None else 0.5 * (self.running + x.mean(0))
        self.last = x * 2
        return self.lin(x)


def test_module_state_survives_a_failed_compile():
    m = _ActNormish()
    bias = m.lin.bias.detach().clone()
    x = graphnet.tensor(_X)
    with pytest.raises(graphnet.TraceError):
        graphnet.compile(lambda x: m(x).sum().item())(x)
    assert m.initialized is False and "last" not in m.__dict__
    assert m.running is None and float(m.calls) == 0.0
    assert np.array_equal(m.lin.bias.detach().numpy(), bias.numpy())
    out = m(x)   # eagerly now: the initialisation runs, as the first call's would
    np.testing.assert_allclose(m.lin.bias.detach().numpy(), -_X.mean(0), rtol=1e-6, atol=1e-6)
    assert m.initialized is True and float(m.calls) == 1.0 and out.shape == (8, 4)
    compiled = graphnet.compile(lambda x: m(x))
    compiled(x)
    assert float(m.calls) == 2.0
    np.testing.assert_allclose(m.running.numpy(), _X.mean(0), rtol=1e-6, atol=1e-6)


class _Trainer:
    calls = 0

    def __init__(self):
        self.steps = 0
        self.history = []
        self.config = {"lr": 0.1}


class _Logging(graphnet.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = graphnet.nn.Linear(4, 2)
        self.seen = []
        self.stats = {"calls": 0}

    def forward(self, x):
        self.seen.append(x.shape[0])
        self.stats["calls"] += 1
        return self.lin(x)


def test_python_objects_survive_a_failed_compile():
    trainer, model = _Trainer(), _Logging()
    history, seen = trainer.history, model.seen

    def step(x):
        trainer.steps += 1
        trainer.history.append(trainer.steps)
        trainer.config["lr"] = 0.5
        trainer.extra = "added"
        _Trainer.calls += 1
        return model(x).sum().item()

    with pytest.raises(graphnet.TraceError):
        graphnet.compile(step)(graphnet.tensor(_X))
    assert (trainer.steps, trainer.history, trainer.config) == (0, [], {"lr": 0.1})
    assert not hasattr(trainer, "extra") and _Trainer.calls == 0
    assert trainer.history is history and model.seen is seen   # the same objects, refilled
    assert model.seen == [] and model.stats == {"calls": 0}
    assert step(graphnet.tensor(_X)) == pytest.approx(float(model(graphnet.tensor(_X)).sum()))
    assert (trainer.steps, trainer.history, _Trainer.calls) == (1, [1], 1)


def _net():
    return graphnet.nn.Sequential(graphnet.nn.Linear(4, 4), graphnet.nn.BatchNorm1d(4),
                                  graphnet.nn.Linear(4, 2))


def test_flags_groups_and_hooks_survive_a_failed_compile():
    model = _net()
    opt = graphnet.optim.SGD(model.parameters(), lr=0.5, weight_decay=0.0)
    x = graphnet.tensor(_X)

    def validate(x):   # fails between eval() and train()
        model.eval()
        score = model(x).sum().item()
        model.train()
        return score

    def predict(x):    # the function form of set_grad_enabled, never undone by the code
        graphnet.set_grad_enabled(False)
        return model(x).sum().item()

    def decay(x):
        for group in opt.param_groups:
            group["lr"] *= 0.5
            group["weight_decay"] = 0.1
        return model(x).sum().item()

    def probe(x):      # Grad-CAM style: a hook and a frozen layer, both undone after .item()
        acts = []
        handle = model[0].register_forward_hook(lambda m, i, o: acts.append(o))
        model[0].weight.requires_grad_(False)
        value = model(x).sum().item()
        model[0].weight.requires_grad_(True)
        handle.remove()
        return value

    for fn in (validate, predict, decay, probe):
        with pytest.raises(graphnet.TraceError):
            graphnet.compile(fn)(x)
        assert model.training and all(m.training for m in model.modules())
        assert graphnet.is_grad_enabled()
        assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["weight_decay"] == 0.0
        assert len(model[0]._forward_hooks) == 0
        assert all(p.requires_grad for p in model.parameters())
    loss = model(x).sum()   # an eager step works as if nothing had been tried
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_functional_call_with_made_weights_compiles_once():
    """What a trace keeps to put back on failure must not outlive a trace that succeeded: the
    weights a `functional_call` swapped in, made by the trace, were held by it and counted
    as state the trace created, so every call traced again."""
    model = graphnet.nn.Linear(4, 3)
    mean = {k: v.detach().clone() for k, v in model.named_parameters()}
    std = {k: graphnet.full_like(v, 0.1) for k, v in mean.items()}

    @graphnet.compile
    def predict(x):
        weights = {k: mean[k] + std[k] * graphnet.randn_like(mean[k]) for k in mean}
        return graphnet.func.functional_call(model, weights, (x,)).softmax(-1)

    x = graphnet.tensor(_X)
    for _ in range(4):
        assert predict(x).shape == (8, 3)
    assert predict.compiled.recompile_reasons == ["first call"]


@pytest.mark.parametrize("name", ["sgd_momentum", "adam"])
def test_trace_graph_of_a_first_step_leaves_no_placeholders(name):
    """`graphnet.trace_graph` only looks: a first optimizer step traced had left its state
    made inside the trace, so every later step (eager or compiled) raised."""
    want_model = _model(torch)
    want_opt = _OPTIMIZERS[name](torch, want_model.parameters())
    model = _model(graphnet)
    opt = _OPTIMIZERS[name](graphnet, model.parameters())
    x, y = graphnet.tensor(_X), graphnet.tensor(_Y)
    graph = graphnet.trace_graph(_step(graphnet, model, opt, as_number=False), x, y)
    assert "update" in str(graph)
    assert len(opt.state) == 0 and all(p.grad is None for p in model.parameters())
    step = _step(graphnet, model, opt, as_number=False)
    want_step = _step(torch, want_model, want_opt, as_number=False)
    for _ in range(2):
        np.testing.assert_allclose(step(x, y).numpy(),
                                   want_step(torch.tensor(_X), torch.tensor(_Y)).numpy(),
                                   rtol=1e-5, atol=1e-6)


_HIST, _CFG = [], {}


def test_more_state_survives_a_failed_compile():
    """Optimizers held in a list or dict, a group added, a hook registered on a parameter or
    globally, a global list or dict changed in place: all as before the failed compile."""
    model = graphnet.nn.Linear(4, 2)
    extra = graphnet.nn.Parameter(graphnet.zeros(2))
    opts = {"main": graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)}
    in_list = [graphnet.optim.Adam([extra], lr=0.1)]
    calls = []

    def step(x):
        model.weight.register_hook(lambda g: g * 2)
        graphnet.nn.modules.module.register_module_forward_hook(
            lambda m, i, o: calls.append(1))
        opts["main"].add_param_group({"params": [graphnet.nn.Parameter(graphnet.ones(1))]})
        _HIST.append("step")
        _CFG["seen"] = True
        loss = model(x).sum() + extra.sum()
        loss.backward()
        opts["main"].step()
        in_list[0].step()
        return loss.item()

    x = graphnet.tensor(_X)
    with pytest.raises(graphnet.TraceError):
        graphnet.compile(step)(x)
    assert len(opts["main"].param_groups) == 1
    assert len(opts["main"].state) == 0 and len(in_list[0].state) == 0
    assert _HIST == [] and _CFG == {}
    assert "_hooks" not in model.weight.__dict__ or len(model.weight._hooks) == 0
    calls.clear()
    loss = model(x).sum()
    assert calls == []   # the global forward hook is gone
    loss.backward()
    want = torch.nn.Linear(4, 2)
    want_x = torch.tensor(_X)
    want(want_x).sum().backward()   # the weight's gradient: x summed, not doubled
    np.testing.assert_allclose(model.weight.grad.numpy(), want.weight.grad.numpy(), rtol=1e-5)
