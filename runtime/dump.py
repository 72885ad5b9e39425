"""`graphnet dump TARGET`: trace a model, or its whole training step, and print its graph.

TARGET is a built-in model (`MODELS`) or `FILE.py:NAME`, where NAME in that file is an
`nn.Module` instance, an `nn.Module` class (built with no arguments) or a function returning
`(module, example_inputs)`. A module without example inputs gets them from the file's
`example_inputs` (tensors, or a function returning them), its own `example_inputs`, or else
`zeros(batch, in_features)` of its first layer that has `in_features` (a Linear).
Formats: text | table | code | dot | json | hlo (docs/dumps.md)."""

from __future__ import annotations

import importlib.util
import os
import sys

FORMATS = ("text", "table", "code", "dot", "json", "plan", "hlo")


class DumpError(Exception):
    """A bad TARGET or option; the CLI prints it and exits with status 2."""


def _mlp(batch: int):
    import graphnet
    from graphnet import nn

    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    return model, (graphnet.zeros(batch, 784),)


# name -> builder(batch) returning (module, example_inputs); add built-in models here.
MODELS = {"mlp": _mlp}
from .workloads_zoo import DUMP_MODELS; MODELS.update(DUMP_MODELS)  # noqa: E402,E702  (lenet ...)


# ---- targets ----------------------------------------------------------------------------------
def _as_inputs(value) -> tuple:
    from graphnet import Tensor

    value = value() if callable(value) and not isinstance(value, Tensor) else value
    return (value,) if isinstance(value, Tensor) else tuple(value)


def _default_inputs(model, namespace, batch: int) -> tuple:
    import graphnet

    for source in (namespace, model):
        if getattr(source, "example_inputs", None) is not None:
            return _as_inputs(source.example_inputs)
    for sub in model.modules():
        if isinstance(getattr(sub, "in_features", None), int):
            guess = (graphnet.zeros(batch, sub.in_features),)
            try:   # a guess only: an Embedding or a conv first takes other inputs
                with graphnet.no_grad():
                    model(*guess)
            except Exception as err:   # noqa: BLE001 - whatever the model raises on it
                raise DumpError(
                    f"no example inputs for {type(model).__name__}, and the guess "
                    f"zeros({batch}, {sub.in_features}) (from a layer's in_features) does not "
                    f"fit it ({type(err).__name__}: {str(err).splitlines()[0][:200]}): define "
                    f"`example_inputs` (a tensor, a tuple of tensors, or a function returning "
                    f"them) in the file") from None
            return guess
    raise DumpError(f"no example inputs for {type(model).__name__}: define `example_inputs` "
                    f"(a tensor, a tuple of tensors, or a function returning them) in the file, "
                    f"or point NAME at a function returning (module, example_inputs)")


def _load_file(target: str, batch: int):
    from graphnet import nn

    path, name = target.rsplit(":", 1)
    if not os.path.isfile(path):
        raise DumpError(f"{target}: no file {path}")
    stem = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f"_graphnet_dump_{stem}", path)
    namespace = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # so it can import its siblings
    sys.modules[spec.name] = namespace
    try:
        spec.loader.exec_module(namespace)
    except Exception as error:   # noqa: BLE001 - the user's file: a syntax error, an import
        raise DumpError(f"{target}: running {path} raised {type(error).__name__}: "
                        f"{error}") from error
    finally:
        sys.path.pop(0)
    if not hasattr(namespace, name):
        found = sorted(n for n in vars(namespace) if not n.startswith("_"))
        raise DumpError(f"{target}: {path} defines no {name!r}; it defines {found}")
    obj = getattr(namespace, name)
    if isinstance(obj, type) and issubclass(obj, nn.Module):
        try:
            obj = obj()
        except TypeError as error:   # it needs constructor arguments
            raise DumpError(f"{target}: {name}() raised TypeError: {error}; name a function "
                            f"that returns (module, example_inputs) instead") from error
    if isinstance(obj, nn.Module):
        return obj, _default_inputs(obj, namespace, batch)
    if callable(obj):
        result = obj()
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], nn.Module):
            return result[0], _as_inputs(result[1])
        raise DumpError(f"{target}: {name}() returned {type(result).__name__}; it must return "
                        f"(module, example_inputs)")
    raise DumpError(f"{target}: {name} is a {type(obj).__name__}, not an nn.Module, a Module "
                    f"class or a function returning (module, example_inputs)")


def load_target(target: str, batch: int = 128):
    """(module, example_inputs) for a built-in model name or `FILE.py:NAME`."""
    if target in MODELS:
        return MODELS[target](batch)
    if ":" in target and target.rsplit(":", 1)[0].endswith(".py"):
        return _load_file(target, batch)
    raise DumpError(f"unknown model {target!r}; choose from {sorted(MODELS)} or pass "
                    f"FILE.py:NAME")


def train_step_for(model, inputs: tuple):
    """A training step (SGD with momentum 0.9, cross-entropy against fixed class targets) and
    its arguments. One eager step runs first, so the optimizer's momentum buffers exist and the
    traced graph is the step that runs every time (not the first one, which creates them)."""
    import graphnet
    import graphnet.nn.functional as F
    import numpy as np

    graph = graphnet.trace_graph(model, *inputs)
    outs = [o.value for o in graph.outputs if o.role == "out"]
    if len(outs) != 1 or len(outs[0].shape) < 2 or not graphnet._autograd.floating(outs[0].dtype):
        raise DumpError(f"--train needs a model returning class logits [N, C, ...]; "
                        f"{type(model).__name__} returns {[v.type_str for v in outs]}")
    n, classes, rest = outs[0].shape[0], outs[0].shape[1], outs[0].shape[2:]
    count = int(np.prod((n,) + rest))
    target = graphnet.from_numpy((np.arange(count) % classes).reshape((n,) + rest))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def loss_of(args):
        return F.cross_entropy(model(*args[:-1]), args[-1])

    if len(inputs) == 1:
        def train_step(input, target):
            opt.zero_grad()
            loss = loss_of((input, target))
            loss.backward()
            opt.step()
            return loss
    else:
        def train_step(*args):
            opt.zero_grad()
            loss = loss_of(args)
            loss.backward()
            opt.step()
            return loss

    train_step(*inputs, target)
    return train_step, (*inputs, target)


# ---- dumping ----------------------------------------------------------------------------------
def prepare(target: str, batch: int = 128, train: bool = False):
    """(function to trace, its arguments): the module itself, or its training step."""
    model, inputs = load_target(target, batch)
    return train_step_for(model, inputs) if train else (model, inputs)


def render_graph(graph, fmt: str, train: bool = False) -> str:
    """Any graph format except plan and hlo (they need a compiled program, see `dump`)."""
    if fmt == "text":
        return str(graph)
    if fmt == "table":
        return graph.to_table()
    if fmt == "code":
        return graph.to_code("train_step" if train else "forward").rstrip("\n")
    if fmt == "dot":
        return graph.to_dot().rstrip("\n")
    if fmt == "json":
        return graph.to_json().rstrip("\n")
    raise DumpError(f"unknown format {fmt!r}; choose from {FORMATS}")


def dump(target: str, fmt: str = "text", batch: int = 128, train: bool = False,
         devices: int | None = None, sharding: str = "replicated") -> str:
    """The dump of TARGET in format `fmt`, as printed by `graphnet dump`. With `devices`
    (plan and hlo only) the program is compiled for a mesh of that many devices."""
    import graphnet

    if fmt not in FORMATS:
        raise DumpError(f"unknown format {fmt!r}; choose from {FORMATS}")
    fn, args = prepare(target, batch, train)
    if devices is not None:
        if fmt not in ("plan", "hlo"):
            raise DumpError("--devices shows a compiled program: use --format plan or hlo")
        return _mesh_dump(fn, args, fmt, devices, sharding)
    if fmt in ("plan", "hlo"):
        from .artifact_dumps import format_hlo_dump, format_plan_dump, hlo_dump, plan_dump

        # Traced, passed and lowered for these inputs, never run: a full-size model at a
        # large batch would cost a forward pass just to be printed.
        artifact = graphnet.compile(fn).compiled.artifact_for(*args)
        if fmt == "plan":
            return format_plan_dump(plan_dump(artifact, *args))
        return format_hlo_dump(hlo_dump(artifact, *args))
    return render_graph(graphnet.trace_graph(fn, *args), fmt, train)


def _mesh_dump(fn, args, fmt: str, devices: int, sharding: str) -> str:
    """The plan or HLO dump of `fn` compiled SPMD over `devices` devices, then the mesh, every
    input's and state value's layout and the collectives XLA inserted. It runs the program
    once, so the state is placed as a training run places it."""
    import jax

    import graphnet

    from .artifact_dumps import format_hlo_dump, format_plan_dump, hlo_dump, plan_dump
    from .collectives import collectives, format_collectives

    if jax.device_count() < devices:
        raise DumpError(f"--devices {devices}: JAX sees {jax.device_count()} device(s); on a "
                        f"CPU graphnet's CLI simulates them (XLA_FLAGS="
                        f"--xla_force_host_platform_device_count) only when JAX has not "
                        f"started yet")
    try:
        mesh = jax.sharding.Mesh(jax.devices()[:devices], ("data",))
        step = graphnet.compile(fn, mesh=mesh, sharding=sharding)
        step(*args)
    except ValueError as err:
        raise DumpError(str(err)) from None
    artifact, flat = step.compiled.artifacts[-1], step._last_args
    body = (format_plan_dump(plan_dump(artifact, *flat)) if fmt == "plan"
            else format_hlo_dump(hlo_dump(artifact, *flat)))
    info = step.mesh_info()
    lines = [body, "", f"// ---- mesh: {info['axes']} on {info['devices']} devices, "
                       f"{info['sharding']} ----"]
    lines += [f"input {name}: {spec}" for name, spec in info["inputs"].items()]
    lines += [f"state {name}: {spec}" for name, spec in info["state"].items()]
    with graphnet._x64.x64():
        compiled = artifact.lowered(flat).compile()
    lines.append("collectives: " + format_collectives(collectives(compiled)).replace(
        "\n", "\n             "))
    return "\n".join(lines)


def dump_to_file(target: str, fmt: str, out: str, batch: int = 128,
                 train: bool = False, devices: int | None = None,
                 sharding: str = "replicated") -> str:
    """Write the dump to `out`; with `--format dot` and an .svg/.png path, draw it with
    Graphviz (`compiler.dumps.render`). Returns what was written."""
    image = os.path.splitext(out)[1].lower().lstrip(".")
    if fmt == "dot" and image in ("svg", "png"):
        import graphnet
        from graphnet.compiler.dumps import render

        fn, args = prepare(target, batch, train)
        return render(graphnet.trace_graph(fn, *args), out, format=image)
    with open(out, "w") as f:
        f.write(dump(target, fmt, batch, train, devices, sharding) + "\n")
    return out
