"""Tracing one call: `trace_call(fn, args)` runs `fn` under a `Tracer` (compiler/tracer.py)
with every tensor argument lifted to a graph input, and `trace` returns just the graph.
Names of graphs and of their inputs come from the function's signature."""

from __future__ import annotations

import inspect
import sys

import graphnet
from graphnet import _autograd, _dispatch
from graphnet._errors import TraceError
from graphnet._mode import intercept_print
from graphnet._tensor import Tensor
from graphnet._x64 import x64_scoped

from . import failed_trace
from .code_reads import CodeRecorder, entropy_changes
from .helper_state import global_changes, logging_changes, self_changes
from .ir import Graph
from .traced_text import refuse_kept_text, refuse_unprinted_text
from .tracer import TraceResult, Tracer
from .tree import attributed, flatten


def _arg_names(fn, n: int) -> list[str]:
    target = fn.forward if isinstance(fn, graphnet.nn.Module) else fn
    try:
        params = [p.name for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(n)]


def graph_name(fn) -> str:
    if isinstance(fn, graphnet.nn.Module):
        return type(fn).__name__
    return getattr(fn, "__name__", "graph").replace("<", "").replace(">", "")


@x64_scoped   # graph types are PyTorch's: int64 labels, float64 scalars (graphnet/_x64.py)
def trace_call(fn, args: tuple, name: str | None = None, keywords: tuple = (),
               rollback: bool = False) -> TraceResult:
    """Trace one call `fn(*args)`; tensor arguments become graph inputs, also inside nested
    tuples, lists and dicts (`("arg", i)` counts the flattened leaves of `args`). The last
    `len(keywords)` arguments are passed by those names (`fn(*rest, **dict(...))`).
    `rollback`: put the user's state back afterwards as for a failed trace (a graph only
    looked at, `trace`: no program will run to give the state it created values)."""
    tracer = Tracer(name or graph_name(fn), fn)
    n_pos = len(args) - len(keywords)
    names = _arg_names(fn, n_pos) + list(keywords)
    leaves, _ = flatten(tuple(args))
    tracer.arg_objects = [a for a in leaves if not isinstance(a, Tensor)] + attributed(args)
    tracer.caller_codes = _running_codes()
    tracer.python_state.watch_arguments(tracer.arg_objects)
    leaf_names = []
    for arg_name, a in zip(names, args):
        inner = flatten(a)[0]
        nested = len(inner) != 1 or inner[0] is not a
        leaf_names += [f"{arg_name}_{j}" if nested else arg_name for j in range(len(inner))]
    grad_mode = _autograd.grad_mode.enabled
    optimizer_states, modules = failed_trace.snapshot_all(tracer.python_state, fn,
                                                          tracer.arg_objects)
    with _dispatch.push_mode(tracer), intercept_print(), CodeRecorder() as ran:
        tracer.code_record = ran.codes      # the Python code that ran (code_reads.py)
        try:
            for i, a in enumerate(leaves):
                if isinstance(a, Tensor) and id(a) not in tracer.lifted:  # once if repeated
                    tracer.lift(a, "arg", leaf_names[i], ("arg", i))
            # NOTE: the caller's own containers, whose tensors are lifted in place: a list or
            # dict argument the code appends to or sets a key of is the caller's, as eagerly
            # (a rebuilt copy lost those changes, silently)
            returned = [fn(*args[:n_pos], **dict(zip(keywords, args[n_pos:], strict=True)))]
            refuse_kept_text(tracer.python_state, returned[0])
            refuse_unprinted_text(tracer)
            if tracer.refusals:
                _refuse_caught(tracer.refusals[0])
            failed_trace.forget(tracer)
            if not rollback:
                modules = optimizer_states = None   # nothing to put back: kept no longer
        except BaseException:
            for rec in tracer.lifted.values():
                rec.tensor._value = rec.original
            for t, original in tracer.grad_targets.values():
                t._grad = original
            failed_trace.undo(tracer, grad_mode, optimizer_states, modules)
            raise
    try:
        result = tracer.finish(returned)
        result.python_changes += entropy_changes(ran.entropy) + logging_changes(ran.logged)
        if not result.python_changes:   # a helper module's global (watched as it first ran)
            result.python_changes = global_changes(ran.first) + self_changes(ran.selves)
        if _autograd.grad_mode.enabled != grad_mode:
            result.grad_mode_effect = _autograd.grad_mode.enabled
        return result
    finally:
        if rollback:
            failed_trace.undo(tracer, grad_mode, optimizer_states, modules)
        else:
            tracer.python_state.release()   # the optimizers' own parameter-group dicts back


def _refuse_caught(error) -> None:
    """The traced code caught graphnet's refusal (`except RuntimeError`, `contextlib.
    suppress`) and went on: the program would hold the branch taken after it, which eager
    code need not take (`x.item()` has a value there). Raised at the end of the trace."""
    raise TraceError(f"the traced code caught this refusal and went on, so the compiled "
                     f"program would not do what the code does eagerly: {error}") from error


def trace(fn, *example_inputs, **example_kwargs) -> Graph:
    """Trace `fn(*example_inputs, **example_kwargs)` and return its graph (no passes run)."""
    keywords = tuple(sorted(example_kwargs))
    args = example_inputs + tuple(example_kwargs[k] for k in keywords)
    return trace_call(fn, args, keywords=keywords, rollback=True).graph


def _running_codes() -> frozenset:
    """The code objects of the frames running when the trace begins (the user's `fit()`
    that calls the compiled step, and graphnet's own): none of them runs in the trace
    unless it is called again, and then the code recorder sees it (object_reads.py)."""
    codes, frame = set(), sys._getframe(1)
    while frame is not None:
        codes.add(frame.f_code)
        frame = frame.f_back
    return frozenset(codes)


def replay_mode_effects(traced) -> None:
    """After each compiled call, the modes the traced code set and left set, as running the
    code does: its own `train()` / `eval()` calls, and a grad mode set without a `with`
    (`set_grad_enabled(False)` called as a function: before, only the traced call left it
    off, and the code after later calls recorded autograd that PyTorch does not)."""
    for module, mode in traced.training_effects:
        module.training = mode
    if traced.grad_mode_effect is not None:
        _autograd.grad_mode.enabled = traced.grad_mode_effect
