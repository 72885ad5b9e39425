"""The built-in programs of the flexibility matrix (flexibility.py runs and classifies them).

Each program builds its own state (seeded, so every run starts the same), wraps its step with
`wrap`, calls it three or four times with inputs chosen so the feature matters (the branch
flips, the loop runs a different number of times, the mask keeps a different count) and
returns what a user would look at afterwards."""

from __future__ import annotations

import graphnet
from graphnet import nn

from .flexibility import Feature

# The sum's sign flips from call to call, and so does the branch a value-dependent `if` takes.
_FLIPPING = ([1.0, 2.0, -0.5], [-1.0, -2.0, 0.5], [3.0, -1.0, 4.0])
# Halving until the sum of |x| is at most 1 takes 2, 5 and 0 steps.
_HALVINGS = ([1.0, 2.0, 0.0], [8.0, -8.0, 0.0], [0.25, 0.25, 0.25])


def _calls(step, rows) -> list:
    return [step(graphnet.tensor(row)) for row in rows]


def python_if(wrap):
    def step(x):
        if x.sum() > 0:
            return x * 2
        return -x
    return {"results": _calls(wrap(step), _FLIPPING)}


def with_cond(wrap):
    def step(x):
        return graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, x)
    return {"results": _calls(wrap(step), _FLIPPING)}


def python_while(wrap):
    def step(x):
        while x.abs().sum() > 1:
            x = x / 2
        return x
    return {"results": _calls(wrap(step), _HALVINGS)}


def with_while_loop(wrap):
    def step(x):
        return graphnet.while_loop(lambda t: t.abs().sum() > 1, lambda t: t / 2, x)
    return {"results": _calls(wrap(step), _HALVINGS)}


def boolean_mask(wrap):
    return {"results": _calls(wrap(lambda x: x[x > 0] * 2), _FLIPPING)}


def nonzero(wrap):
    return {"results": _calls(wrap(lambda x: graphnet.nonzero(x)), _FLIPPING)}


def print_each_call(wrap):
    def step(x):
        total = x.sum()
        print("sum:", total)
        return total
    return {"results": _calls(wrap(step), _FLIPPING)}


def append_to_list(wrap):
    history = []

    def step(x):
        loss = (x * x).sum()
        history.append(loss)        # a loss history, as a training loop keeps one
        return loss
    return {"results": _calls(wrap(step), _FLIPPING), "history": history}


def count_calls(wrap):
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.calls = nn.Linear(3, 2), 0

        def forward(self, x):
            self.calls += 1
            return self.linear(x)
    graphnet.manual_seed(0)
    model = Counting()
    return {"results": _calls(wrap(model), _FLIPPING), "model.calls": model.calls}


def item_in_step(wrap):
    def step(x):
        return x / x.abs().max().item()
    return {"results": _calls(wrap(step), _FLIPPING)}


def in_place_input(wrap):
    def step(x):
        x.add_(1)
        return x * 2
    run, x = wrap(step), graphnet.zeros(3)
    return {"results": [run(x) for _ in range(3)], "x afterwards": x}


def buffer_update(wrap):
    graphnet.manual_seed(0)
    norm = nn.BatchNorm1d(3)        # training mode: running statistics are buffers updated
    results = _calls(wrap(lambda x: norm(graphnet.stack([x, 2 * x]))), _FLIPPING)
    return {"results": results, "running_mean": norm.running_mean,
            "running_var": norm.running_var, "num_batches_tracked": norm.num_batches_tracked}


def _small_model():
    graphnet.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU())


def replace_layer(wrap):
    model = _small_model()
    run, x = wrap(model), graphnet.ones(1, 3)
    results = [run(x)]
    graphnet.manual_seed(1)
    model[0] = nn.Linear(3, 2)
    results += [run(x), run(x)]
    return {"results": results}


def set_parameter_value(wrap):
    model = _small_model()
    run, x = wrap(model), graphnet.ones(1, 3)
    results = []
    for value in (0.5, -0.25, 1.0):
        with graphnet.no_grad():
            model[0].weight.fill_(value)
        results.append(run(x))
    return {"results": results}


def _training(wrap, between):
    """Four SGD-with-momentum steps on a small linear regression, `between(i, model, opt)`
    run before step i."""
    graphnet.manual_seed(0)
    model = nn.Linear(2, 1)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    run = wrap(step)
    x, y = graphnet.tensor([[1.0, 2.0], [3.0, -1.0]]), graphnet.tensor([[1.0], [0.0]])
    losses = []
    for i in range(4):
        between(i, model, opt)
        losses.append(run(x, y))
    return {"losses": losses, "weight": model.weight, "bias": model.bias}


def change_lr(wrap):
    def decay(i, model, opt):
        opt.param_groups[0]["lr"] = 0.05 / (i + 1)
    return _training(wrap, decay)


def freeze_parameter(wrap):
    def freeze(i, model, opt):
        if i == 2:
            model.bias.requires_grad_(False)
    return _training(wrap, freeze)


def varying_shapes(wrap):
    run = wrap(lambda x: (x * 2).sum(0))
    return {"results": [run(graphnet.ones(n, 3) * n) for n in (2, 3, 4, 2)]}


def keep_intermediate(wrap):
    class Keeping(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.hidden = nn.Linear(3, 2), None

        def forward(self, x):
            self.hidden = self.linear(x)      # kept to look at after the call
            return self.hidden.relu()
    graphnet.manual_seed(0)
    model, hidden = Keeping(), []
    run = wrap(model)
    for row in _FLIPPING:
        run(graphnet.tensor([row]))
        hidden.append(model.hidden)
    return {"hidden": hidden}


def forward_hook(wrap):
    model, seen = _small_model(), []
    model[0].register_forward_hook(lambda module, args, out: seen.append(out.detach()))
    return {"results": _calls(wrap(model), [[row] for row in _FLIPPING]), "seen": seen}


FEATURES = [
    Feature("python if on a value", "`if x.sum() > 0:` in the step; the branch flips",
            python_if),
    Feature("graphnet.cond", "the same branch written with graphnet.cond", with_cond),
    Feature("python while on a value", "`while x.abs().sum() > 1: x = x / 2`; 2, 5, 0 trips",
            python_while),
    Feature("graphnet.while_loop", "the same loop written with graphnet.while_loop",
            with_while_loop),
    Feature("boolean mask", "`x[x > 0]`: the result's length depends on the values",
            boolean_mask),
    Feature("nonzero", "`graphnet.nonzero(x)`: a data-dependent number of rows", nonzero),
    Feature("print", "`print('sum:', x.sum())` in the step", print_each_call),
    Feature("append to a list", "`history.append(loss)` in the step, loss also returned",
            append_to_list),
    Feature("counter", "`self.calls += 1` in a module's forward", count_calls),
    Feature(".item()", "`x / x.abs().max().item()` in the step", item_in_step),
    Feature("in-place update of an input", "`x.add_(1)` on the argument, three calls",
            in_place_input),
    Feature("buffer update", "BatchNorm1d in training mode: running statistics",
            buffer_update),
    Feature("replace a layer", "`model[0] = nn.Linear(...)` between calls", replace_layer),
    Feature("set a parameter's value", "`weight.fill_(v)` under no_grad between calls",
            set_parameter_value),
    Feature("change the learning rate", "`opt.param_groups[0]['lr'] = ...` between SGD steps",
            change_lr),
    Feature("freeze a parameter", "`bias.requires_grad_(False)` between SGD steps",
            freeze_parameter),
    Feature("varying input shapes", "batch sizes 2, 3, 4, 2", varying_shapes),
    Feature("keep an intermediate", "`self.hidden = ...` in forward, read after each call",
            keep_intermediate),
    Feature("forward hook", "a hook that appends the layer's output to a list",
            forward_hook),
]
