"""What a compiled call returns: its results wrapped as tensors and put back in the code's
own structure, with what eager code would have given them: a tape node when they need
grads (runtime/artifact_tape.py), the aliases and views of arguments and state they are,
the very tensors the code returned (`return x`), and the inference-tensor mark of results
made under `inference_mode()`."""

from __future__ import annotations

from graphnet import _autograd
from graphnet._aliases import remember_alias, remember_view
from graphnet._rebound_views import rebound
from graphnet._overlap import note_view
from graphnet._tensor import Tensor
from graphnet.compiler.tracer import TENSOR_SLOT

from .artifact_tape import arm_checks, record_tape, returned_objects, state_tensor


def call_outputs(artifact, args, arrays, results):
    """The call's return value, built from `results` (the program's output arrays)."""
    traced = artifact.traced
    leaves = list(traced.out_static)
    tensors = [Tensor._wrap(a) for a in results]
    it = iter(tensors)
    leaves = [next(it) if s is TENSOR_SLOT else s for s in leaves]
    for i, flag in traced.arg_requires_grad:   # the code's own `x.requires_grad_()`
        args[i].requires_grad = flag
    if (tensors or traced.arg_grad_written or traced.grads_with_history
            or traced.attrs_with_history) and \
            artifact.records_tape and (
            _autograd.grad_mode.enabled or any(traced.out_requires_grad or ())):
        # under no_grad too when the code enabled grad itself (`with enable_grad():`)
        record_tape(artifact, args, arrays, tensors)
    elif tensors and any(name is not None for name in traced.out_freed):
        # the step's loss, whose history its own backward() freed: it shows its grad_fn,
        # whose backward raises, as eagerly and in PyTorch. The trace ran in this call's
        # grad mode (part of the cache key), so under no_grad this is a loss made inside
        # the code's own `with enable_grad():`
        for t, name in zip(tensors, traced.out_freed):
            if name is not None:
                t.requires_grad, t.grad_fn = True, _autograd.freed_node(name, t)
    artifact.slot_inputs = None   # (writeback.py) held for record_tape only
    for t, made in zip(tensors, traced.out_created_leaf):
        if made:   # a leaf the code made (`x.clone().requires_grad_()`): a leaf, as eagerly
            t.grad_fn, t.requires_grad = None, True
    for t, layout in zip(tensors, traced.out_layouts):
        if layout is not None:    # a transposed or stepped view's strides, as eagerly
            t.__dict__["_layout"] = layout
    identity = traced.out_identity
    # `return model.weight`, `return x`, `return p.grad`, `return y, y`: those very tensors,
    # as eagerly (an in-place change of one then reaches the model)
    objects = returned_objects(identity, args, tensors) \
        if any(source is not None for source in identity) else tensors
    _link_aliases(tensors, traced, args)
    _link_views(tensors, traced, args, objects)
    arm_checks(artifact, args, tensors)
    _mark_inference(tensors, traced)
    if objects is not tensors:
        it = iter(objects)
        leaves = [next(it) if s is TENSOR_SLOT else leaf
                  for s, leaf in zip(traced.out_static, leaves)]
    return traced.out_tree(leaves)


def _link_aliases(tensors, traced, args) -> None:
    for t, source in zip(tensors, traced.out_aliases):
        if source is not None and not t.requires_grad:
            # `return model.weight.detach()`: it follows the weight's later steps, as
            # eagerly (PyTorch's shared storage), and its in-place changes reach the weight
            base = args[source[1]] if source[0] == "arg" else state_tensor(source)
            if base is not None:
                t._alias_src = base
                remember_alias(base, t)


def _link_views(tensors, traced, args, objects) -> None:
    for t, view in zip(tensors, traced.out_views):
        if view is not None:    # `return model.weight[0]`: a view of it, as eagerly
            (kind, base), chain = view
            # this call's argument, or the returned object the view was taken of, or the
            # tensor the code keeps (state, or made and kept on a module: "new")
            base = args[base] if kind == "arg" else objects[base] if kind == "out" else base
            for i, (forward, write, traced_view) in enumerate(chain):
                last = i == len(chain) - 1
                if forward is None:   # a `.data` / `detach()` alias: it shares the values
                    if last:
                        t._alias_src = base
                        remember_alias(base, t)
                    base = t if last else base._alias()
                    continue
                # the views between are taken again of this call's source
                view_t = t if last else forward(base)
                view_t.__dict__["_view"] = rebound(write, traced_view, base)
                note_view(view_t, base)
                remember_view(base, view_t, forward)
                base = view_t


def _mark_inference(tensors, traced) -> None:
    """Results made under `inference_mode()`, around the call or inside the code, are
    inference tensors, as eagerly; an alias or a view of an argument or of state is not
    (PyTorch: a view of a normal tensor is normal)."""
    around = _autograd.grad_mode.inference
    made = [t for t, alias, view, inside in zip(tensors, traced.out_aliases, traced.out_views,
                                                 traced.out_inference)
            if (around and alias is None and view is None) or inside]
    if made:
        _autograd.mark_inference(made)
