"""Writing a compiled call's results back to the live tensors, on every call of a step.

`Artifact.execute` hands each output to what it stands for: a parameter or buffer the step
updated (`state`), optimizer state (`slot`, re-read through the optimizer), an argument
changed in place (`arg`), a `.grad` (`grad`; an argument's: `grad_of_arg`, or `arg_grad`
when written in place), a tensor the call created (`new`), or a plain result (None). The
loop runs on every call, beside XLA's threads on the same cores, so its decisions are made
once per artifact (`plan`) and each call only follows them."""

from __future__ import annotations

from graphnet._aliases import forget_ties, store
from graphnet._tensor import Tensor
from graphnet.nn.utils._norms import recomputed_tensor

_RESULT, _ARG, _SLOT, _GRAD, _GRAD_NEW, _STORE = range(6)
_ARG_GRAD, _ARG_GRAD_NEW, _ARG_GRAD_STORE = range(6, 9)
_ATTR = 9   # a module attribute each forward sets anew (compiler/recomputed_attributes.py)


def plan(artifact) -> list:
    """(output position, action, target, gives new storage) for each output."""
    traced, steps = artifact.traced, []
    for i, effect in enumerate(traced.effects):
        if effect is None:
            steps.append((i, _RESULT, None, False))
            continue
        kind, target = effect
        if kind == "grad":
            # a .grad the code replaced (zero_grad() to None, then backward()) is a new
            # tensor, as eagerly: one the user still holds keeps the old values
            action = _GRAD_NEW if id(target) in artifact.grad_replaced else _GRAD
        elif kind == "grad_of_arg":     # the `.grad` of this call's argument `target`
            action = _ARG_GRAD_NEW if target in traced.arg_grad_replaced else _ARG_GRAD
        else:
            action = {"arg": _ARG, "slot": _SLOT, "arg_grad": _ARG_GRAD_STORE,
                      "attr": _ATTR}.get(kind, _STORE)
        steps.append((i, action, target, i in traced.new_storage))
    return steps


def write_back(artifact, args, outs, failed: bool) -> list:
    """Give `outs` to their tensors; return the plain results, in order. `failed`: a check
    in the program failed, so the .grads keep their values (state and created tensors hold
    what checks.guard_outputs kept)."""
    steps = artifact.writeback_plan
    if steps is None:
        steps = artifact.writeback_plan = plan(artifact)
    # the `.grad` tensors the call read (its "slot" inputs), taken before this call's new
    # .grad replaces them: an accumulated `.grad` with history (`backward(create_graph=True)`
    # twice) is an input of the call's tape node, whose edge must reach the old one's history
    # (runtime/artifact_tape.py); read afterwards, the slot gave the new tensor, and a penalty
    # on the sum lost every earlier call's part
    slots = artifact.__dict__.get("slot_positions")
    if slots is None:   # once per artifact: most calls read no .grad
        slots = artifact.slot_positions = [(i, obj) for i, (kind, obj)
                                           in enumerate(artifact.sources) if kind == "slot"]
    artifact.slot_inputs = {i: obj() for i, obj in slots} \
        if slots and artifact.records_tape else None
    results = []
    for i, action, target, new_storage in steps:
        array = outs[i]
        if action == _RESULT:
            results.append(array)
        elif action == _ATTR:   # a new tensor, as each eager forward gives
            module, name = target
            module.__dict__[name] = recomputed_tensor(array)
        elif _GRAD <= action <= _GRAD_NEW or _ARG_GRAD <= action <= _ARG_GRAD_NEW:
            if failed:
                continue
            if action >= _ARG_GRAD:
                target = args[target]
            if action == _GRAD_NEW or action == _ARG_GRAD_NEW or target._grad is None:
                target._grad = Tensor._wrap(array)
            else:
                target._grad._value = array
        else:
            if action == _ARG:
                target = args[target]
            elif action == _SLOT:
                target = target()
            elif action == _ARG_GRAD_STORE:     # written in place: `x.grad.mul_(2)`
                target = args[target]._grad
            if failed and (array.shape != target._value.shape
                           or array.dtype != target._value.dtype):
                continue   # reshaped in place (checks.guard_outputs): keeps its old value
            if new_storage:     # `p.data = other`: earlier aliases keep the old
                forget_ties(target)
            store(target, array)
    return results
