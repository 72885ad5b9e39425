"""A differential fuzzer of random module graphs: each seed makes a small network, built twice
from one description (in graphnet and in PyTorch, same weights), and dynamic mode, static mode
(`graphnet.compile`) and PyTorch must agree on the forward output, every parameter's gradient,
and parameters + buffers after two optimizer steps of a whole compiled training step.

    python -m tests.fuzz_graphs --n 300              # "graphs tried: 300, mismatches: M" + details
    python -m tests.fuzz_graphs --seed 17            # one graph: its code, then its mismatches

`generate(seed)` is deterministic in the seed. A `Case`'s `code()` lists the model (helper
modules as in HELPERS), its modes, the loss and the optimizer as PyTorch code; the weights
and data come from the seed (`initial_state`, `batches`), so `--seed` replays a failure.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

import graphnet

# float32 values of scale s must agree within ATOL * s + RTOL * |value| (+ slack, see `compare`);
# a tensor's scale is its largest magnitude, floored so all-tiny tensors get an absolute bound.
ATOL, RTOL, SCALE_FLOOR, FLOAT32_SLACK = 1e-5, 1e-4, 1e-2, 20.0


@dataclass
class Layer:
    kind: str                # an nn class name or a helper: "Residual", "Concat", "Twice"...
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    branches: tuple = ()     # Residual, Twice: (body,); Concat: (left, right); lists of Layers
    mode: str | None = None  # "train"/"eval": this module's own mode, set after the model's

    def code(self, indent: str) -> str:
        if self.branches:
            inner = ",\n".join(_sequential(b, indent + "    ") for b in self.branches)
            return f"{indent}{self.kind}(\n{inner})"
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        prefix = "" if self.kind in ("Reshape", "Fn") else "nn."
        return f"{indent}{prefix}{self.kind}({', '.join(parts)})"


def _sequential(layers: list[Layer], indent: str) -> str:
    body = "".join(layer.code(indent + "    ") + ",\n" for layer in layers)
    return f"{indent}nn.Sequential(\n{body}{indent})"


@dataclass
class Case:
    seed: int
    input_shape: tuple
    layers: list[Layer]
    train: bool              # model.train(train) before the per-module modes
    loss: str                # a torch.nn.functional loss name
    loss_kwargs: dict
    target: tuple            # ("classes", n) labels in [0, n), or ("values",) same shape as out
    optimizer: str
    opt_kwargs: dict

    def code(self) -> str:
        modes = [f'model.get_submodule("{path}").{mode}()\n' for path, mode in _modes(self.layers)]
        loss_args = "".join(f", {k}={v!r}" for k, v in self.loss_kwargs.items())
        opt_args = "".join(f", {k}={v!r}" for k, v in self.opt_kwargs.items())
        return (f"# seed {self.seed}: input {list(self.input_shape)}, target {self.target}\n"
                f"model = {_sequential(self.layers, '')}\n"
                f"model.train({self.train})\n{''.join(modes)}"
                f"opt = torch.optim.{self.optimizer}(model.parameters(){opt_args})\n"
                f"loss = F.{self.loss}(model(x), y{loss_args})")


def _modes(layers: list[Layer], prefix: str = ""):
    for i, layer in enumerate(layers):
        path = f"{prefix}{i}"
        if layer.mode:
            yield path, layer.mode
        names = ("left", "right") if layer.kind == "Concat" else ("body",)
        for name, branch in zip(names, layer.branches):
            yield from _modes(branch, f"{path}.{name}.")


HELPERS = '''
class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Concat(nn.Module):
    def __init__(self, left, right):
        super().__init__()
        self.left, self.right = left, right

    def forward(self, x):
        return torch.cat([self.left(x), self.right(x)], dim=1)


class Twice(nn.Module):  # one module applied twice: shared weights, stats updated twice
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return self.body(self.body(x))


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


class Fn(nn.Module):
    def __init__(self, name, **kwargs):
        super().__init__()
        self.name, self.kwargs = name, kwargs

    def forward(self, x):
        return getattr(F, self.name)(x, **self.kwargs)
'''


@functools.cache
def _helpers(lib) -> dict:
    """The helper modules above, defined against `lib` (graphnet or torch)."""
    scope = {"torch": lib, "nn": lib.nn, "F": lib.nn.functional}
    exec(HELPERS, scope)
    return scope


def build(layers: list[Layer], lib, modes: list | None = None):
    """`nn.Sequential` of `lib`'s modules; (module, mode) pairs are appended to `modes`."""
    helpers, modules = _helpers(lib), []
    for layer in layers:
        if layer.branches:
            module = helpers[layer.kind](*(build(b, lib, modes) for b in layer.branches))
        elif layer.kind in ("Reshape", "Fn"):
            module = helpers[layer.kind](*layer.args, **layer.kwargs)
        else:
            module = getattr(lib.nn, layer.kind)(*layer.args, **layer.kwargs)
        if layer.mode and modes is not None:
            modes.append((module, layer.mode))
        modules.append(module)
    return lib.nn.Sequential(*modules)


def build_model(case: Case, lib):
    modes: list = []
    model = build(case.layers, lib, modes)
    model.train(case.train)
    for module, mode in modes:
        module.train(mode == "train")
    return model


# The generator ---------------------------------------------------------------------------------
# A state is the shape of one example: (C, H, W) an image, (C, L) a sequence, (F,) a vector.
# Candidate layers are drawn freely and kept when PyTorch accepts them (`_shape_after`), so
# the generator needs no shape formulas and may propose edge cases (ceil_mode, big padding).


def _shape_after(layer: Layer, state: tuple) -> tuple | None:
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # padding="same" with an even kernel is fine here
            out = build([layer], torch).eval()(torch.zeros((2,) + state))
    except (RuntimeError, ValueError, TypeError, IndexError):
        return None
    return tuple(out.shape[1:]) if min(out.shape, default=1) > 0 else None


def _activation(rng: random.Random, state: tuple, inplace_ok: bool) -> Layer:
    kind = rng.choice(["ReLU", "GELU", "Tanh", "Sigmoid", "LeakyReLU", "SiLU", "ELU", "Softplus",
                       "Hardtanh", "ReLU6", "PReLU", "Fn"])
    inplace = {"inplace": True} if inplace_ok and rng.random() < 0.3 else {}
    if kind == "GELU":
        return Layer(kind, kwargs=rng.choice([{}, {"approximate": "tanh"}]))
    if kind == "LeakyReLU":  # PyTorch has no in-place backward for a negative slope
        slope = round(rng.uniform(-0.5, 0.5), 3)
        return Layer(kind, (slope,), inplace if slope >= 0 else {})
    if kind == "ELU":
        return Layer(kind, kwargs={"alpha": round(rng.uniform(0.2, 2.0), 3)})
    if kind == "Softplus":
        return Layer(kind, kwargs={"beta": rng.choice([0.5, 1.0, 2.0]),
                                   "threshold": rng.choice([1.0, 20.0])})
    if kind == "Hardtanh":
        return Layer(kind, (round(rng.uniform(-2, -0.2), 2), round(rng.uniform(0.2, 2), 2)),
                     inplace)
    if kind in ("ReLU", "ReLU6"):
        return Layer(kind, kwargs=inplace)
    if kind == "PReLU":
        return Layer(kind, kwargs={"num_parameters": rng.choice([1, state[0]]),
                                   "init": round(rng.uniform(0, 0.5), 3)})
    if kind == "Fn":
        return Layer("Fn", *rng.choice([
            (("relu",), {}), (("gelu",), {"approximate": "tanh"}), (("silu",), {}),
            (("leaky_relu",), {"negative_slope": 0.2}), (("elu",), {"alpha": 0.5}),
            (("softplus",), {"beta": 2.0}), (("hardtanh",), {}), (("relu6",), {}),
            (("softmax",), {"dim": 1}), (("log_softmax",), {"dim": 1})]))
    return Layer(kind)


def _norm(rng: random.Random, state: tuple) -> Layer:
    c, eps = state[0], rng.choice([1e-5, 1e-3])
    kind = rng.choice(["BatchNorm", "BatchNorm", "GroupNorm", "LayerNorm"])
    if kind == "BatchNorm":
        kind = "BatchNorm2d" if len(state) == 3 else "BatchNorm1d"
        kwargs = {"eps": eps, "momentum": rng.choice([0.1, 0.5, None]),
                  "affine": rng.random() < 0.8, "track_running_stats": rng.random() < 0.85}
        mode = rng.choice([None, None, None, "train", "eval"])
        return Layer(kind, (c,), kwargs, mode=mode)
    if kind == "GroupNorm":
        groups = rng.choice([g for g in range(1, c + 1) if c % g == 0])
        return Layer(kind, (groups, c), {"eps": eps, "affine": rng.random() < 0.8})
    dims = rng.randint(1, len(state))
    affine = rng.random() < 0.8
    kwargs = {"eps": eps, "elementwise_affine": affine}
    if affine and rng.random() < 0.2:
        kwargs["bias"] = False
    return Layer("LayerNorm", (list(state[len(state) - dims:]),), kwargs)


def _conv(rng: random.Random, state: tuple, keep: str | None) -> Layer:
    c = state[0]
    groups = rng.choice([g for g in range(1, c + 1) if c % g == 0])
    out = c if keep == "shape" else groups * rng.randint(max(1, -(-2 // groups)),
                                                         max(1, 8 // groups))
    k = rng.choice([1, 2, 3]) if rng.random() < 0.8 else (rng.randint(1, 3), rng.randint(1, 3))
    stride = 1 if keep or rng.random() < 0.5 else rng.choice([2, (1, 2)])
    dilation = 2 if rng.random() < 0.15 else 1
    # NOTE: padding stays below the kernel's reach, so no output sees padding alone. Such an
    # output is the bias, constant along a row; a LayerNorm of it is 0 exactly, and float32
    # noise there (divided by its own size by Adam or RMSprop) is no verdict on anything.
    reach = [dilation * (size - 1) for size in (k if isinstance(k, tuple) else (k, k))]
    padding = rng.choice(["same", (rng.randint(0, min(2, reach[0])),
                                   rng.randint(0, min(2, reach[1])))])
    if padding == "same":
        padding = "same" if stride == 1 else 0
    elif padding[0] == padding[1]:
        padding = padding[0]
    return Layer("Conv2d", (c, out, k), {"stride": stride, "padding": padding,
                                         "dilation": dilation, "groups": groups,
                                         "bias": rng.random() < 0.7})


def _pool(rng: random.Random, state: tuple) -> Layer:
    kind = rng.choice(["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"])
    h, w = state[1:]
    if kind.startswith("Adaptive"):
        size = rng.choice([1, rng.randint(1, h), (rng.randint(1, h), rng.randint(1, w))])
        return Layer(kind, (size,))
    k = rng.choice([2, 2, 3])
    kwargs = {"stride": rng.choice([None, 1, 2]), "padding": rng.randint(0, k // 2),
              "ceil_mode": rng.random() < 0.3}
    if kind == "AvgPool2d":
        kwargs["count_include_pad"] = rng.random() < 0.5
    elif rng.random() < 0.15:
        kwargs["dilation"] = 2
    return Layer(kind, (k,), kwargs)


def _candidate(rng: random.Random, state: tuple, keep: str | None, depth: int,
               fresh: bool) -> Layer:
    """One layer for `state`; keep="shape"/"spatial" asks it to keep all / all but dim 1."""
    image, vector = len(state) == 3, len(state) == 1
    options = {"act": 3.0, "norm": 2.0, "dropout": 0.4, "linear": 0.0 if image else 2.5,
               "conv": 3.0 if image else 0.0, "pool": 1.5 if image else 0.0,
               "reshape": 0.0 if keep or vector else 0.5,
               "residual": 1.0 if depth < 2 else 0.0, "concat": 0.8 if depth < 2 else 0.0,
               "twice": 0.4 if depth < 2 else 0.0}
    kind = rng.choices(list(options), weights=list(options.values()))[0]
    if kind == "act":
        return _activation(rng, state, inplace_ok=fresh)
    if kind == "norm":
        return _norm(rng, state)
    if kind == "dropout":
        p = rng.choice([0.0, 0.3])
        name = rng.choice(["Dropout", "Dropout2d"]) if image else "Dropout"
        return Layer(name, (p,), mode="eval" if p else None)
    if kind == "linear":
        n = state[-1] if keep == "shape" else rng.randint(3, 12)
        return Layer("Linear", (state[-1], n), {"bias": rng.random() < 0.8})
    if kind == "conv":
        return _conv(rng, state, keep)
    if kind == "pool":
        return _pool(rng, state)
    if kind == "reshape":
        if image:
            return rng.choice([Layer("Flatten"), Layer("Reshape", (state[0], -1)),
                               Layer("Reshape", (state[0] * state[1], state[2]))])
        return rng.choice([Layer("Flatten"), Layer("Reshape", (-1,))])
    if kind in ("residual", "twice"):
        body = _sequence(rng, state, rng.randint(1, 3), "shape", depth + 1)[0]
        return Layer(kind.capitalize(), branches=(body,))
    left = _sequence(rng, state, rng.randint(0, 2), "spatial", depth + 1)[0]
    right = _sequence(rng, state, rng.randint(1, 2), "spatial", depth + 1)[0]
    return Layer("Concat", branches=(left, right))


def _sequence(rng: random.Random, state: tuple, n: int, keep: str | None = None,
              depth: int = 0) -> tuple[list[Layer], tuple]:
    """`n` layers from `state` (each kept if PyTorch accepts it and it fits `keep`)."""
    layers, fresh = [], False  # fresh: the value is no other module's input (in-place is safe)
    for _ in range(n):
        for _attempt in range(30):
            layer = _candidate(rng, state, keep, depth, fresh)
            after = _shape_after(layer, state)
            if after is None or max(after) > 800 or (len(after) == 3 and min(after[1:]) < 1):
                continue
            if keep == "shape" and after != state or keep == "spatial" and (
                    after[1:] != state[1:] or after[0] > 16):
                continue
            break
        else:
            layer, after = Layer("Tanh"), state
        layers.append(layer)
        fresh = layer.kind in ("Conv2d", "Linear", "BatchNorm1d", "BatchNorm2d", "GroupNorm",
                               "LayerNorm")
        state = after
    return layers, state


def generate(seed: int) -> Case:
    rng = random.Random(seed)
    c = rng.randint(3, 8)
    start = rng.choice([(c, rng.randint(6, 9), rng.randint(6, 9))] * 3 +
                       [(c, rng.randint(4, 10)), (rng.randint(4, 16),)])
    layers, state = _sequence(rng, start, rng.randint(2, 6))
    loss = rng.choice(["cross_entropy", "cross_entropy", "mse_loss"])
    if loss == "cross_entropy":
        classes = rng.randint(2, 6)
        if len(state) == 3 and rng.random() < 0.2:  # a class per pixel, as in segmentation
            head = [Layer("Conv2d", (state[0], classes, 1))]
        elif len(state) == 2 and rng.random() < 0.2:  # a class per position: dim 1 is C
            head, classes = [Layer("Linear", (state[1], state[1]))], state[0]
        else:
            pool = [Layer("AdaptiveAvgPool2d", (1,))] if len(state) == 3 and rng.random() < 0.5 \
                else []
            head = pool + ([Layer("Flatten")] if len(state) > 1 else []) + [
                Layer("Linear", (None, classes))]
        layers += head
        target = ("classes", classes)
        loss_kwargs = {"label_smoothing": 0.1} if rng.random() < 0.3 else {}
    else:
        loss_kwargs = {"reduction": "sum"} if rng.random() < 0.2 else {}
        target = ("values",)
        if not list(build(layers, torch).parameters()):  # something must learn
            layers.append(Layer("Conv2d", (state[0], state[0], 1)) if len(state) == 3 else
                          Layer("Linear", (state[-1], state[-1])))
    _fill_linear_inputs(layers, start)
    optimizer, opt_kwargs = _optimizer(rng)
    batch = rng.choice([3, 4, 4, 5])  # NOTE: not 2, where a BatchNorm output is +-1 exactly
    return Case(seed, (batch,) + start, layers, rng.random() < 0.65, loss, loss_kwargs, target,
                optimizer, opt_kwargs)


def _fill_linear_inputs(layers: list[Layer], start: tuple) -> None:
    """The head's Linear(None, n) takes whatever the layers before it produce."""
    state = start
    for layer in layers:
        if layer.kind == "Linear" and layer.args[0] is None:
            layer.args = (state[-1],) + layer.args[1:]
        state = _shape_after(layer, state)


def _optimizer(rng: random.Random) -> tuple[str, dict]:
    name = rng.choice(["SGD", "Adam", "AdamW", "RMSprop"])
    decay = rng.choice([0.0, 1e-4, 1e-2])
    if name == "SGD":
        momentum = rng.choice([0.0, 0.5, 0.9])
        kwargs = {"lr": round(rng.uniform(0.01, 0.2), 4), "momentum": momentum,
                  "weight_decay": decay}
        if momentum and rng.random() < 0.3:
            kwargs["nesterov"] = True
        return name, kwargs
    kwargs = {"lr": round(rng.uniform(1e-3, 2e-2), 5), "weight_decay": decay}
    if name == "AdamW":
        kwargs["weight_decay"] = rng.choice([0.01, 0.1])
    if name in ("Adam", "AdamW") and rng.random() < 0.3:
        kwargs["amsgrad"] = True
    if name == "RMSprop":
        kwargs.update(momentum=rng.choice([0.0, 0.9]), centered=rng.random() < 0.3)
    return name, kwargs


# The checks ------------------------------------------------------------------------------------
NORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.GroupNorm, torch.nn.LayerNorm)


def initial_state(case: Case) -> dict[str, np.ndarray]:
    """PyTorch's initial weights for the seed, norms' affine and statistics moved off 1 and 0."""
    torch.manual_seed(case.seed)
    model = build_model(case, torch)
    rng = np.random.default_rng(case.seed)
    values = {"weight": lambda n: rng.normal(1, 0.3, n), "bias": lambda n: rng.normal(0, 0.3, n),
              "running_mean": lambda n: rng.normal(0, 0.3, n),
              "running_var": lambda n: rng.uniform(0.5, 1.5, n),
              "num_batches_tracked": lambda n: rng.integers(0, 5, n)}
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, NORMS):
                for name, tensor in module.state_dict(keep_vars=True).items():
                    tensor.copy_(torch.from_numpy(np.asarray(values[name](tensor.shape))))
            elif isinstance(module, torch.nn.PReLU):
                module.weight.copy_(torch.from_numpy(rng.normal(0.2, 0.2, module.weight.shape)))
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def batches(case: Case, init: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two (input, target) batches; the first is used by the forward and backward checks."""
    with torch.no_grad():
        out_shape = tuple(_model(case, init, torch)(torch.zeros(case.input_shape)).shape)
    rng = np.random.default_rng(case.seed + 1)
    data = []
    for _ in range(2):
        x = rng.standard_normal(case.input_shape).astype(np.float32)
        if case.target[0] == "classes":
            y = rng.integers(0, case.target[1], out_shape[:1] + out_shape[2:]).astype(np.int64)
        else:
            y = rng.standard_normal(out_shape).astype(np.float32)
        data.append((x, y))
    return data


def _model(case: Case, init: dict, lib, double: bool = False):
    model = build_model(case, lib)
    model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in init.items()})
    return model.double() if double else model


def _inputs(lib, arrays, double: bool) -> list:
    return [lib.from_numpy(a.astype(np.float64) if double and a.dtype.kind == "f" else a)
            for a in arrays]


def _np(t) -> np.ndarray:
    return np.array(t.detach()._value) if isinstance(t, graphnet.Tensor) else \
        t.detach().numpy().copy()


def _state(model, label: str) -> dict[str, np.ndarray]:
    return {f"{label} {k}": _np(v) for k, v in model.state_dict().items()}


# Each check runs one library in one mode: `compiled` is graphnet's static mode, `double` runs
# PyTorch in float64 to measure how far float32 itself strays (see `compare`).
def _inference(case, init, data, lib, compiled=False, double=False) -> dict:
    model = _model(case, init, lib, double)
    forward = graphnet.compile(model) if compiled else model
    with lib.no_grad():
        out = {"inference output": _np(forward(*_inputs(lib, data[0][:1], double)))}
    return out | _state(model, "after inference:")


def _forward_backward(case, init, data, lib, compiled=False, double=False) -> dict:
    model = _model(case, init, lib, double)
    loss_fn = getattr(lib.nn.functional, case.loss)

    def forward_backward(x, y):
        result = model(x)
        loss = loss_fn(result, y, **case.loss_kwargs)
        loss.backward()
        return result, loss

    run = graphnet.compile(forward_backward) if compiled else forward_backward
    result, loss = run(*_inputs(lib, data[0], double))
    out = {"output": _np(result), "loss": _np(loss)}
    out |= {f"grad of {name}": _np(p.grad) for name, p in model.named_parameters()
            if p.grad is not None}
    return out | _state(model, "after forward:")


def _training(case, init, data, lib, compiled=False, double=False) -> dict:
    model = _model(case, init, lib, double)
    opt = getattr(lib.optim, case.optimizer)(model.parameters(), **case.opt_kwargs)
    loss_fn = getattr(lib.nn.functional, case.loss)

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y, **case.loss_kwargs)
        loss.backward()
        opt.step()
        return loss

    step = graphnet.compile(train_step) if compiled else train_step
    out = {f"step {i + 1} loss": _np(step(*_inputs(lib, batch, double)))
           for i, batch in enumerate(data)}
    return out | _state(model, "after 2 steps:")


CHECKS = [_inference, _forward_backward, _training]


# How far one step of a normalizing optimizer can move a parameter, in units of lr: Adam's
# step is about lr; RMSprop's first is lr * g / sqrt((1 - alpha) g^2) = 10 lr (alpha 0.99).
NORMALIZED_STEP = {"Adam": 1.0, "AdamW": 1.0, "RMSprop": 10.0}


def normalized_step_slack(case, grads32: dict, grads64: dict, steps: int = 2) -> dict:
    """Per parameter, extra tolerance for its values after `steps` steps of a normalizing
    optimizer (Adam, RMSprop), keyed as the training check names them.

    NOTE: such an optimizer divides each gradient by its own running size, so an element whose
    gradient is near float32's rounding noise for its tensor (a gradient that is almost zero
    in exact arithmetic) gets a step whose size that noise decides: PyTorch float32 and
    graphnet may then each land anywhere within about lr * NORMALIZED_STEP of the exact step
    (seed 22: gradient 4e-7 plus weight decay 7e-7, against noise 7e-8 in PyTorch's own float32
    gradients; a change of XLA's summation order moved graphnet's parameter by 1e-4). The
    slack is that bound scaled by noise / |gradient + weight decay * parameter|, so a
    well-conditioned element gets almost none. The noise is PyTorch float32's own largest
    gradient error on the tensor."""
    factor = NORMALIZED_STEP.get(case.optimizer)
    if factor is None:
        return {}
    lr, decay = case.opt_kwargs["lr"], case.opt_kwargs.get("weight_decay", 0.0)
    init = initial_state(case)
    slack = {}
    for key, g64 in grads64.items():
        name = key[len("grad of "):]
        if key not in grads32 or name not in init:
            continue
        g64 = g64.astype(np.float64)
        noise = float(np.abs(grads32[key].astype(np.float64) - g64).max(initial=0))
        effective = np.abs(g64 + decay * init[name].astype(np.float64))
        ratio = np.minimum(1.0, noise / np.maximum(effective, 1e-30))
        slack[f"after {steps} steps: {name}"] = steps * lr * factor * ratio
    return slack


def compare(label: str, got: dict, want: dict, exact: dict,
            slack: dict | None = None) -> tuple[list[str], float]:
    """Mismatches of `got` against PyTorch float32 `want`, and the worst |diff| / tolerance.

    Values are measured against PyTorch float64 (`exact`): graphnet may stray from it by the
    float32 tolerance plus FLOAT32_SLACK times PyTorch float32's own largest error on that
    tensor. Ill-conditioned values (a gradient that is zero in exact arithmetic, so float32
    gives rounding noise, which Adam then divides by its own size) are thus judged by how far
    float32 can be trusted there, and well-conditioned ones by the float32 tolerance."""
    problems, worst = [], 0.0
    slack_of = slack or {}
    for key in sorted(set(got) - set(want)):
        problems.append(f"{label} {key}: graphnet has it, torch does not")
    for key, w in want.items():
        if key not in got:
            problems.append(f"{label} {key}: missing (torch has {w.dtype}{list(w.shape)})")
            continue
        g = got[key]
        if g.shape != w.shape or g.dtype.kind != w.dtype.kind:
            problems.append(f"{label} {key}: {g.dtype}{list(g.shape)}, torch "
                            f"{w.dtype}{list(w.shape)}")
            continue
        g64, w64, e64 = (a.astype(np.float64) for a in (g, w, exact[key]))
        nan = np.isnan(g64) & np.isnan(w64)
        g64, w64, e64 = (np.where(nan, 0, a) for a in (g64, w64, e64))
        if w.dtype.kind == "f":
            scale = max(float(np.abs(e64).max(initial=0)), SCALE_FLOOR)
            slack = FLOAT32_SLACK * float(np.abs(w64 - e64).max(initial=0))
            tol = ATOL * scale + RTOL * np.abs(e64) + slack + (slack_of.get(key, 0.0))
        else:
            tol = np.full(w.shape, 0.5)
        ratio = np.abs(g64 - e64) / tol
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        worst = max(worst, float(ratio.max(initial=0)))
        if (ratio > 1).any():
            i = np.unravel_index(int(np.argmax(ratio)), w.shape)
            problems.append(f"{label} {key}: {int((ratio > 1).sum())}/{w.size} differ; worst "
                            f"at {list(map(int, i))}: {g[i].item()!r} vs torch {w[i].item()!r} "
                            f"(float64 {e64[i].item():.8g}, tolerance {float(tol[i]):.2g})")
    return problems, worst


def run_case(case: Case) -> tuple[list[str], float]:
    """Every mismatch or error of graphnet (dynamic and static) against PyTorch."""
    init = initial_state(case)
    data = batches(case, init)
    problems, worst = [], 0.0
    step_slack = {}
    for check in CHECKS:
        want, exact = check(case, init, data, torch), check(case, init, data, torch, double=True)
        if check is _forward_backward:
            step_slack = normalized_step_slack(case, want, exact)
        for mode, compiled in (("dynamic", False), ("static", True)):
            label = f"{mode} {check.__name__.strip('_').replace('_', ' ')}:"
            try:
                got = check(case, init, data, graphnet, compiled)
            except Exception as error:  # noqa: BLE001  (a crash is a finding too)
                problems.append(f"{label} raised {type(error).__name__}: "
                                f"{str(error).splitlines()[0][:300] if str(error) else ''}")
                continue
            found, ratio = compare(label, got, want, exact,
                                   step_slack if check is _training else None)
            problems += found
            worst = max(worst, ratio)
    return problems, worst


def report(case: Case, problems: list[str]) -> str:
    return (f"graph {case.seed} disagrees with PyTorch ({len(problems)} problems); "
            f"reproduce with: python -m tests.fuzz_graphs --seed {case.seed}\n"
            f"{case.code()}\n" + "\n".join(f"  {p}" for p in problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="graphs to try")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--seed", type=int, action="append", help="run only these seeds")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = args.seed or range(args.start, args.start + args.n)
    mismatches, worst, worst_seed, start = 0, 0.0, None, time.perf_counter()
    for seed in seeds:
        case = generate(seed)
        try:
            problems, ratio = run_case(case)
        except Exception as error:  # noqa: BLE001  (graphnet's errors are caught in run_case)
            problems, ratio = [f"PyTorch refused the graph (a generator bug): {error!r}"], 0.0
        if problems:
            mismatches += 1
            print(report(case, problems), end="\n\n", flush=True)
            continue
        if ratio >= worst:
            worst, worst_seed = ratio, seed
        if args.seed:
            print(f"graph {seed} agrees\n{case.code()}")
    print(f"graphs tried: {len(seeds)}, mismatches: {mismatches} (closest call among the graphs "
          f"that agree: |diff| / tolerance {worst:.3g} in graph {worst_seed}; "
          f"{time.perf_counter() - start:.0f} s)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
