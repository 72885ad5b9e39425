"""`graphnet.autograd.grad` and `graphnet.autograd.backward` (and so `Tensor.backward`).

Arguments are checked and normalised here, with PyTorch's errors; the work is done by the
eager tape's walk (_engine.py) or, inside `graphnet.compile`, by the recording mode's `grad`
hook (graphnet/_mode.py; the tracer's is compiler/grad_walk.py)."""

from __future__ import annotations

import jax.numpy as jnp

from .._autograd import ones_seed
from .._func_active import BACKWARD_IN_TRANSFORM, transforms_active
from .._mode import current_mode
from .._tensor import Tensor
from .._x64 import x64_scoped
from ._engine import run_backward


def _tuple(value) -> tuple:
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, dict):
        return tuple(value.values())
    return tuple(value)


def _check_outputs(outputs) -> None:
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected a Tensor as element {i} of the outputs, got "
                            f"{type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")


def _ones_like(t: Tensor) -> Tensor:
    from .._factories import ones_like   # NOTE: imported here only (create_graph seeds)

    return ones_like(t)


def _make_grads(outputs, grads, graph: bool) -> list:
    """Per output, its seed: ones for a scalar without one, else the given gradient, checked
    against the output's shape. Tensors with `graph` (create_graph), else arrays."""
    if grads is None:
        grads = (None,) * len(outputs)
    else:
        if isinstance(grads, (int, float)):   # PyTorch iterates it: backward(2.0) raises
            raise TypeError(f"'{type(grads).__name__}' object is not iterable")
        grads = _tuple(grads)
    if len(grads) != len(outputs):
        raise RuntimeError("grad can be implicitly created only for scalar outputs"
                           if not grads else
                           f"got {len(grads)} gradients for {len(outputs)} tensors: pass one "
                           f"per tensor (None for a scalar)")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = _ones_like(out) if graph else Tensor._wrap(ones_seed(out._value.shape,
                                                                   out._value.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(jnp.asarray(g, out._value.dtype))
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} "
                               f"and output[{i}] has a shape of {out.shape}.")
        if g.dtype != out.dtype:
            g = g.to(out.dtype)
        seeds.append(g if graph else g._value)
    return seeds


@x64_scoped   # the seeds and the tape's VJPs keep PyTorch's dtypes (graphnet/_x64.py)
def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False):
    """The gradients of `outputs` with respect to `inputs`, returned (no `.grad` changes).

    `create_graph=True` records the backward pass, so the result can be differentiated
    again (a gradient penalty). Works eagerly and inside `graphnet.compile`.

    >>> (g,) = graphnet.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> g.sum().backward()        # x.grad == 6 * x
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                        allow_unused, materialize_grads)
    as_dict = isinstance(inputs, dict)
    outputs, inputs_t = _tuple(outputs), _tuple(inputs)
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    _check_outputs(outputs)
    for t in inputs_t:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    retain_graph = create_graph if retain_graph is None else retain_graph
    mode = current_mode()
    if mode is not None and mode.records_graph:
        seeds = _make_grads(outputs, grad_outputs, True)
        result = mode.grad(outputs, inputs_t, seeds, create_graph, retain_graph)
    else:
        seeds = _make_grads(outputs, grad_outputs, create_graph)
        captured = run_backward(outputs, seeds, retain_graph=retain_graph,
                                create_graph=create_graph, inputs=inputs_t, accumulate=False)
        result = [None if g is None else g if create_graph else Tensor._wrap(g)
                  for g in captured]
    result = _finish(result, inputs_t, allow_unused, materialize_grads, create_graph)
    return dict(zip(inputs.keys(), result)) if as_dict else result


def _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
             materialize_grads):
    """is_grads_batched=True: one gradient per row of every grad_output (PyTorch vmaps the
    backward over dim 0), stacked along a new dim 0."""
    from .._layout import stack

    grad_outputs = _tuple(grad_outputs)
    n = grad_outputs[0].shape[0]
    # NOTE: rows are not materialized one by one: PyTorch fills an unused input's gradient
    # after the batched backward, with zeros of the input's shape (not [n, *shape])
    rows = [grad(outputs, inputs, [g[i] for g in grad_outputs],
                 retain_graph=True if i < n - 1 else retain_graph, create_graph=create_graph,
                 allow_unused=allow_unused)
            for i in range(n)]
    per_input = [stack([r[k] for r in rows]) if rows[0][k] is not None else None
                 for k in range(len(rows[0]))]
    per_input = _finish(per_input, _tuple(inputs), allow_unused, materialize_grads,
                        create_graph)
    return dict(zip(inputs.keys(), per_input)) if isinstance(inputs, dict) else per_input


def _finish(result, inputs, allow_unused: bool, materialize: bool,
            create_graph: bool = False) -> tuple:
    out = []
    for i, (g, t) in enumerate(zip(result, inputs)):
        if g is None:
            if materialize:   # PyTorch's zeros require grad under create_graph
                from .._factories import zeros_like

                g = zeros_like(t, requires_grad=create_graph)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not "
                                   f"have been used in the graph. Set allow_unused=True if "
                                   f"this is the desired behavior.")
        out.append(g)
    return tuple(out)


@x64_scoped
def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves (or only of
    `inputs`), as `torch.autograd.backward`.

    >>> graphnet.autograd.backward([loss_a, loss_b])     # both losses' gradients summed
    """
    if transforms_active():   # inside graphnet.func.grad & co (graphnet/_func_active.py)
        raise RuntimeError(BACKWARD_IN_TRANSFORM)
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments "
                               "both passed to `backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    tensors = _tuple(tensors)
    inputs_t = None if inputs is None else _tuple(inputs)
    if inputs_t is not None and not inputs_t:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    _check_outputs(tensors)
    for t in inputs_t or ():
        if not t.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    retain_graph = create_graph if retain_graph is None else retain_graph
    mode = current_mode()
    if mode is not None and mode.records_graph:
        return _backward_in_trace(mode, tensors, grad_tensors, retain_graph, create_graph,
                                  inputs_t)
    if mode is not None and len(tensors) == 1 and not create_graph and inputs_t is None:
        return mode.backward(tensors[0], _one(grad_tensors), retain_graph)
    seeds = _make_grads(tensors, grad_tensors, create_graph)
    run_backward(tensors, seeds, retain_graph=bool(retain_graph), create_graph=create_graph,
                 inputs=inputs_t, accumulate=True)


def _one(grad_tensors):
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        return grad_tensors
    grads = _tuple(grad_tensors)
    return grads[0] if grads else None


def _backward_in_trace(mode, tensors, grad_tensors, retain_graph, create_graph, inputs):
    """backward() while a graph is recorded: the mode's own `backward` (one `grad` node) for
    the usual call; several tensors, `inputs=` or `create_graph` go through its `grad` hook
    and accumulate into `.grad` like eager mode."""
    if len(tensors) == 1 and inputs is None and not create_graph:
        return mode.backward(tensors[0], _one(grad_tensors), retain_graph)
    seeds = _make_grads(tensors, grad_tensors, True)
    if inputs is None:
        pairs = mode.grad(tensors, None, seeds, create_graph, bool(retain_graph))
    else:
        pairs = zip(inputs, mode.grad(tensors, inputs, seeds, create_graph, bool(retain_graph)))
    from .. import _autograd

    from ._hooks import run_post_accumulate_hooks

    with _autograd.set_grad_enabled(create_graph):
        for t, g in pairs:
            if g is not None:
                # `_grad`: reading `.grad` of a non-leaf (`inputs=[y]`) warns, as in PyTorch.
                # Told to the mode: the program holds while `.grad` is set (or None) as now, and
                # reads the grad tensor of each call (unguarded, a second call overwrote the
                # first call's gradient instead of adding to it)
                mode.on_grad_read(t)
                old = t._grad
                if old is None:
                    t.grad = g
                elif create_graph:
                    t.grad = old + g
                else:   # in place, as PyTorch's AccumulateGrad: a `.grad` held sees the sum
                    old.add_(g)
                if t.grad_fn is None:
                    run_post_accumulate_hooks(t)
