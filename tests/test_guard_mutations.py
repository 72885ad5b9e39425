"""Mutation tests for the guards: for each kind of object a compiled function captured,
change it after compiling and check that the compiled call still equals the eager one.

A compiled program is only right while what the tracer read still holds. Each test here
builds two identical worlds, runs the step once in both (compiling one), changes the same
captured thing in both, and compares the next steps. A guard that misses the change makes
the compiled world silently run the old program, which these tests catch."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet
from graphnet import nn

F = graphnet.nn.functional


def _np(t):
    return np.asarray(t.detach()._value)


def _world(seed=0, norm=False):
    graphnet.manual_seed(seed)
    layers = [nn.Linear(4, 8), nn.BatchNorm1d(8) if norm else nn.LeakyReLU(0.1),
              nn.Linear(8, 3)]
    model = nn.Sequential(*layers)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return {"model": model, "opt": opt}


def _step_for(world):
    def step(x, y):
        opt, model = world["opt"], world["model"]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _data():
    graphnet.manual_seed(123)
    return graphnet.randn(6, 4), graphnet.tensor([0, 1, 2, 1, 0, 2])


def _compare(change, norm=False, steps=3):
    """Run eager and compiled worlds, apply `change(world)` to both after two steps, and
    return (eager losses, compiled losses, eager params, compiled params, compiled fn)."""
    x, y = _data()
    worlds = [_world(norm=norm), _world(norm=norm)]
    eager, compiled = _step_for(worlds[0]), graphnet.compile(_step_for(worlds[1]))
    for _ in range(2):
        eager(x, y)
        compiled(x, y)
    for w in worlds:
        change(w)
    losses = ([float(eager(x, y)) for _ in range(steps)],
              [float(compiled(x, y)) for _ in range(steps)])
    params = [[_np(p) for p in w["model"].parameters()] for w in worlds]
    return losses, params, compiled


def _assert_same(change, norm=False, reason=None):
    (eager, static), (pe, ps), compiled = _compare(change, norm)
    np.testing.assert_allclose(static, eager, rtol=1e-5, atol=1e-6)
    for a, b in zip(ps, pe, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if reason is not None:
        reasons = compiled.explain()["recompile_reasons"]
        assert any(reason in r for r in reasons), reasons
    return compiled


def test_replaced_submodule_recompiles():
    def change(w):
        graphnet.manual_seed(7)
        w["model"][2] = nn.Linear(8, 3)
        w["opt"].add_param_group({"params": list(w["model"][2].parameters())})
    _assert_same(change, reason="guard failed: 2 is the module traced")


def test_new_optimizer_object():
    def change(w):
        w["opt"] = graphnet.optim.Adam(w["model"].parameters(), lr=1e-2)
    _assert_same(change, reason="is the object traced")


def test_new_optimizer_bound_to_a_global_name():
    """`opt = Adam(...)` rebinding the global the step function reads."""
    namespace: dict = {}
    source = (
        "def step(x, y):\n"
        "    opt.zero_grad()\n"
        "    loss = F.cross_entropy(model(x), y)\n"
        "    loss.backward()\n"
        "    opt.step()\n"
        "    return loss\n")
    results = []
    x, y = _data()
    for compiled in (False, True):
        w = _world()
        namespace.update(F=F, model=w["model"], opt=w["opt"])
        exec(compile(source, "<user step>", "exec"), namespace)
        step = graphnet.compile(namespace["step"]) if compiled else namespace["step"]
        step(x, y)
        step(x, y)
        namespace["opt"] = graphnet.optim.Adam(w["model"].parameters(), lr=1e-2)
        results.append([float(step(x, y)) for _ in range(3)])
        opt = namespace["opt"]
        assert len(opt.state) == 4, "the new Adam must have been stepped"
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)


def test_optimizer_load_state_dict_is_read():
    """Resuming from a checkpoint: the loaded momentum is what the next step uses."""
    def change(w):
        state = w["opt"].state_dict()
        for entry in state["state"].values():
            entry["momentum_buffer"] = entry["momentum_buffer"] * 0 + 0.5
        w["opt"].load_state_dict(state)
    _assert_same(change)


def test_optimizer_load_state_dict_without_buffers_retraces():
    def change(w):
        fresh = graphnet.optim.SGD(w["model"].parameters(), lr=0.1, momentum=0.9)
        w["opt"].load_state_dict(fresh.state_dict())
    _assert_same(change, reason="parameter groups traced")


@pytest.mark.parametrize("option, value", [("nesterov", True), ("momentum", 0.0),
                                           ("maximize", True)])
def test_optimizer_structural_options(option, value):
    def change(w):
        for g in w["opt"].param_groups:
            g[option] = value
            if option == "nesterov":
                g["dampening"] = 0
    _assert_same(change, reason="guard failed")


def test_learning_rate_change_is_live_not_a_recompile():
    def change(w):
        w["opt"].param_groups[0]["lr"] = 0.01
    compiled = _assert_same(change)
    assert compiled.explain()["graphs"] <= 2       # first step creates momentum, then steady


@pytest.mark.parametrize("option, value", [("weight_decay", 0.1), ("dampening", 0.5)])
def test_an_option_that_was_zero_set_nonzero_recompiles(option, value):
    """A 0 weight decay or dampening is a constant of the traced step, its term left out as
    PyTorch's step leaves it out; setting it afterwards must not run that program."""
    def change(w):
        w["opt"].param_groups[0][option] = value
    compiled = _assert_same(change, reason=f"param_groups[0]['{option}'] == 0")
    assert f"group0.{option}" in str(compiled.compiled.artifacts[-1].graph)   # now live


def test_a_nonzero_weight_decay_stays_live_through_zero():
    """A nonzero weight decay is a live input: changing it does not recompile, and setting it
    to 0 keeps running that program (the term computes 0)."""
    x, y = _data()
    worlds = [_world(), _world()]
    for w in worlds:
        w["opt"].param_groups[0]["weight_decay"] = 0.05
    eager, compiled = _step_for(worlds[0]), graphnet.compile(_step_for(worlds[1]))
    for value in (0.05, 0.05, 0.2, 0.0, 0.0):
        for w in worlds:
            w["opt"].param_groups[0]["weight_decay"] = value
        np.testing.assert_allclose(float(compiled(x, y)), float(eager(x, y)), rtol=1e-5)
    for p, q in zip(worlds[1]["model"].parameters(), worlds[0]["model"].parameters()):
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-5, atol=1e-6)
    assert compiled.explain()["graphs"] <= 2   # first step creates momentum, then steady


def test_zero_weight_decay_and_dampening_are_left_out_of_the_program():
    x, y = _data()
    world = _world()
    compiled = graphnet.compile(_step_for(world))
    for _ in range(2):
        compiled(x, y)
    graph = str(compiled.compiled.artifacts[-1].graph)
    assert "group0.lr" in graph and "group0.momentum" in graph
    assert "group0.weight_decay" not in graph and "group0.dampening" not in graph


@pytest.mark.parametrize("attribute, value", [("eps", 10.0), ("momentum", 0.5)])
def test_batchnorm_hyperparameters(attribute, value):
    def change(w):
        setattr(w["model"][1], attribute, value)
    _assert_same(change, norm=True, reason=f"1.{attribute}")


def test_activation_negative_slope():
    def change(w):
        w["model"][1].negative_slope = 0.5
    _assert_same(change, reason="1.negative_slope")


def test_dropout_p():
    def change(w):
        w["model"][1] = nn.Dropout(0.0)
    _assert_same(change)

    def change_p(w):
        w["model"].insert(2, nn.Dropout(0.0)) if hasattr(w["model"], "insert") else None
    _assert_same(change_p)


def test_forward_hook_added_after_compiling():
    def change(w):
        w["model"][0].register_forward_hook(lambda m, inp, out: out * 2)
    _assert_same(change, reason="forward hooks")


def test_replaced_parameter_tensor():
    def change(w):
        old = w["model"][0].weight
        w["model"][0].weight = nn.Parameter(old.detach() * 0.5)
        w["opt"].param_groups[0]["params"][0] = w["model"][0].weight
    _assert_same(change, reason="0.weight is the tensor traced")


def test_train_eval_flag():
    def change(w):
        w["model"].eval()
    _assert_same(change, norm=True, reason="training")


def test_plain_attribute_list_mutated_in_place():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)
            self.scales = [1.0, 2.0]

        def forward(self, x):
            return self.lin(x) * self.scales[-1]

    results = []
    x, _ = _data()
    for compiled in (False, True):
        graphnet.manual_seed(0)
        m = Scaled()
        f = graphnet.compile(m) if compiled else m
        f(x)
        m.scales.append(5.0)
        results.append(_np(f(x)))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_unchanged_world_never_recompiles():
    x, y = _data()
    w = _world(norm=True)
    step = graphnet.compile(_step_for(w))
    for _ in range(6):
        step(x, y)
    assert step.explain()["graphs"] == 2, step.explain()["recompile_reasons"]


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adamax", "NAdam", "RAdam",
                                  "Adadelta", "Rprop", "Adagrad", "ASGD"])
@pytest.mark.parametrize("change", ["load_state_dict", "clear", "replace an entry"])
def test_state_a_compiled_step_created_is_read_where_the_optimizer_keeps_it(name, change):
    """The first compiled call creates the optimizer's state. Rolling it back afterwards
    (load_state_dict of a copy taken after one step), clearing it, or replacing an entry must
    reach the next compiled step, as eagerly: before, the program kept stepping the tensors
    it had created (Adam's `step` stuck at 1 after a load_state_dict)."""
    import copy

    x, y = _data()
    results = []
    for compiled in (False, True):
        graphnet.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = getattr(graphnet.optim, name)(model.parameters(), lr=0.05)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        run = graphnet.compile(step) if compiled else step
        losses = []
        for i in range(6):
            if i == 1:
                saved = copy.deepcopy(opt.state_dict())
            if i == 3:
                if change == "load_state_dict":
                    opt.load_state_dict(saved)
                elif change == "clear":
                    opt.state.clear()
                else:
                    state = opt.state[model.weight]
                    key = next(k for k, v in state.items() if k != "step"
                               and getattr(v, "shape", ()) == model.weight.shape)
                    state[key] = state[key] * 0 + 0.01
            losses.append(float(run()))
        results.append((losses, _np(model.weight)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)


# ---- state read through the user's own objects, module forwards and containers ---------------
class _Trainer:
    """A training loop's object: the compiled step reads its model, optimizer and numbers."""

    def __init__(self):
        self.model = nn.Linear(4, 3)
        self.opt = graphnet.optim.SGD(self.model.parameters(), lr=0.1)
        self.kl_weight = 0.0
        self.use_l2 = False

    def step(self, x, y):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(x), y) + self.kl_weight * self.model.weight.abs().sum()
        if self.use_l2:
            loss = loss + self._l2()
        loss.backward()
        self.opt.step()
        return loss

    def _l2(self):
        return self.model.weight.pow(2).sum()


@pytest.mark.parametrize("change", ["anneal a number", "switch a flag", "new model and optimizer"])
def test_a_bound_methods_object_is_guarded(change):
    """k-fold loops, annealing and flags: a compiled `trainer.step` used to keep the first
    model (a new fold's model was never trained) and the first numbers."""
    x, y = _data()
    losses = []
    for compiled in (False, True):
        graphnet.manual_seed(0)
        trainer = _Trainer()
        step = graphnet.compile(trainer.step) if compiled else trainer.step
        run = []
        for epoch in range(3):
            if change == "anneal a number":
                trainer.kl_weight = 0.5 * epoch
            elif change == "switch a flag":
                trainer.use_l2 = epoch >= 1
            elif epoch:
                trainer.model = nn.Linear(4, 3)
                trainer.opt = graphnet.optim.SGD(trainer.model.parameters(), lr=0.1)
            run += [float(step(x, y)) for _ in range(2)]
        losses.append((run, _np(trainer.model.weight)))
    np.testing.assert_allclose(losses[1][0], losses[0][0], rtol=1e-5)
    np.testing.assert_allclose(losses[1][1], losses[0][1], rtol=1e-5)


def test_an_objects_attribute_read_by_a_global_or_an_argument_is_guarded():
    class Config:
        pass

    config = Config()
    w = nn.Parameter(graphnet.ones(2))

    def scaled(x, c):
        return (w * x).sum() * c.alpha * SETTINGS.beta

    compiled = graphnet.compile(scaled)
    for alpha, beta in [(1.0, 1.0), (2.0, 1.0), (2.0, 3.0)]:
        config.alpha, SETTINGS.beta = alpha, beta
        assert float(compiled(graphnet.ones(2), config)) == 2 * alpha * beta


class _Settings:
    beta = 1.0


SETTINGS = _Settings()
SCALE = [2.0]


class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3)])
        self.extra = nn.ParameterList([nn.Parameter(graphnet.ones(3))])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        for p in self.extra:
            x = x * p
        return x * SCALE[0] * GLOBAL_FACTOR


GLOBAL_FACTOR = 1.0


@pytest.mark.parametrize("change", ["global read by forward", "ModuleList append",
                                    "ModuleList setitem", "ParameterList append"])
def test_module_forward_globals_and_uncalled_containers_are_guarded(change):
    global GLOBAL_FACTOR
    graphnet.manual_seed(0)
    model = _Scaled()
    compiled = graphnet.compile(model)
    x = graphnet.randn(2, 3)
    compiled(x)
    try:
        if change == "global read by forward":
            GLOBAL_FACTOR = 3.0
        elif change == "ModuleList append":
            model.layers.append(nn.Linear(3, 3))
        elif change == "ModuleList setitem":
            model.layers[0] = nn.Linear(3, 3)
        else:
            model.extra.append(nn.Parameter(graphnet.full((3,), 2.0)))
        np.testing.assert_allclose(_np(compiled(x)), _np(model(x)), rtol=1e-6)
    finally:
        GLOBAL_FACTOR = 1.0


def test_a_learning_rate_set_inside_the_compiled_step_is_set_on_every_call():
    """`group['lr'] = lr` inside the compiled step: a compiled call skips the Python write, so
    it runs only while the group already holds that lr; else the step traces again. Before,
    calls that hit a cached program ran with whatever lr the last trace had left."""
    results = []
    for compiled in (False, True):
        w = nn.Parameter(graphnet.tensor([1.0, -2.0, 3.0]))
        opt = graphnet.optim.SGD([w], lr=0.1, momentum=0.5)

        def step(lr):
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()

        run = graphnet.compile(step) if compiled else step
        group = opt.param_groups[0]
        for lr in [0.1, 0.2, 0.1, 0.2, 0.2, 0.05]:
            run(lr)
            assert opt.param_groups[0]["lr"] == lr
        assert opt.param_groups[0] is group     # the optimizer's own dict, as in torch
        results.append(_np(w))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_a_scheduler_outside_the_step_still_needs_no_recompile():
    w = nn.Parameter(graphnet.tensor([1.0, -2.0]))
    opt = graphnet.optim.SGD([w], lr=0.1)
    sched = graphnet.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    def step():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    run = graphnet.compile(step)
    expected = np.array([1.0, -2.0])
    for _ in range(4):
        lr = opt.param_groups[0]["lr"]
        run()
        expected = expected - lr * 2 * expected
        sched.step()
    np.testing.assert_allclose(_np(w), expected, rtol=1e-6)
    assert len(run.compiled.artifacts) == 1
