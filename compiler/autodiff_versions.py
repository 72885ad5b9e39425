"""torch's "modified by an inplace operation" error for a backward inside a trace.

Eagerly, a tape node compares the tensors its backward reads with their values now
(graphnet/_autograd_versions.py). A traced backward differentiates graph values, and an
in-place write gives a tensor a new value while the op keeps reading the old one, so
`b = a * a; a.mul_(3); b.sum().backward()` compiled returned the gradient of the old values
where eager graphnet and torch raise. The tracer records, for each op recorded for
gradient, the tensors PyTorch's backward would read (the inputs it saves as themselves or
as views, per `_autograd_data_swap._checked`, or its outputs for ops that save those) with
their versions (`note_saved`); a traced backward checks every op on its path
(`refuse_modified`)."""

from __future__ import annotations

import weakref

from graphnet import _autograd_data_swap as _data_swap
from graphnet import _autograd_versions as _versions
from graphnet._errors import TraceError

from .autodiff_leaves import note_leaf_write
from .ir import Value


def note_saved(tracer, node, args, outs) -> None:
    """Remember what `node`'s backward reads (Tracer.run_op, for ops with gradient edges)."""
    if node.op == "custom_function":   # what its `ctx.save_for_backward` saved
        ctx = getattr(node.attrs.get("spec"), "ctx", None)
        saved = [(i, t) for i, (t, _) in enumerate(getattr(ctx, "_saved_at", None) or ())]
        outputs = False
    elif node.op in _data_swap._SAVES_OUTPUT:
        saved = [(i, t) for i, t in enumerate(outs)]
        outputs = True
    else:
        needs = tuple(i for i, a in enumerate(args) if getattr(a, "requires_grad", False))
        reads = _data_swap._checked(node.op, node.inputs, needs) or ()
        saved = [(i, args[i]) for i in reads if hasattr(args[i], "_value")
                 and _versions.RECOMPUTED not in args[i].__dict__]
        outputs = False
    entries = [_entry(i, t, outputs) for i, t in saved]
    sources = [(i, _data_swap.version_box(t._alias_src)) for i, t in saved if _data_alias(t)]
    if sources:     # `q @ queue.data`: a later write of `queue` is read by PyTorch's backward
        tracer.__dict__.setdefault("data_alias_reads", {})[node] = [
            (i, box, box[0]) for i, box in sources]
    if _data_swap.reads_output(node.op, node.inputs):     # its output too (`cdist`, `norm`)
        entries += [_entry(i, t, True) for i, t in enumerate(outs)]
    if entries:
        tracer.saved_versions[node] = entries


def _data_alias(t) -> bool:
    """Whether `t` is a `.data` alias (of its own version counter, sharing storage)."""
    state = t.__dict__
    return t._alias_src is not None and not state.get("_shares_version") \
        and "_storage" not in state and "_view" not in state


def _refuse_data_alias_reads(tracer, nodes) -> None:
    """A saved `x.data` whose source `x` was written in place after the op ran: PyTorch's
    backward reads the new values through the shared storage (eager mode too:
    graphnet/_autograd_data_swap.py `_alias_ref`); a traced one would read the old."""
    for node in nodes:
        for i, box, expected in tracer.__dict__.get("data_alias_reads", {}).get(node, ()):
            if box[0] != expected:
                raise TraceError(
                    f"backward inside graphnet.compile: `{node.op}` (at "
                    f"{node.source or 'unknown line'}) saved a `.data` alias (input {i}) whose "
                    f"source was written in place after the op ran; PyTorch's backward reads "
                    f"the new values through the shared storage, and a traced backward cannot. "
                    f"Take `.data` after the write, write after backward(), or run this code "
                    f"uncompiled.")


def _entry(i: int, t, outputs: bool) -> tuple:
    """(position, weak reference to the tensor whose version counts, that version, whether
    it is an output, what the error calls it, weak reference to the saved tensor itself). A
    view shares its storage owner's counter, as in PyTorch, and a temporary view
    (`x[0] * x[1]`) is gone before the owner is written (`x[2] = 0`): for a view, the
    owner's counter is the one remembered."""
    saved = weakref.ref(t)
    what = _versions._describe(t._value.shape, t.dtype)
    owner = t.__dict__.get("_storage")
    if owner is None:
        # the tensor's own counter in a box that outlives it: a temporary written and
        # dropped (`y = x * 2; z = y * y; y.add_(1)` in a helper) still refuses
        box = _data_swap.version_box(t)
        return i, box, box[0], outputs, what, saved
    what += " (a view of a tensor it shares its version with)"
    box = _data_swap.version_box(owner)    # outlives the owner (`(w * 1)[0]`)
    return i, box, box[0], outputs, what, saved


def _version_now(ref):
    """The version an entry's `ref` reads now (a view's owner's box, else the tensor's);
    None: the tensor is gone."""
    if type(ref) is list:
        return ref[0]
    t = ref()
    return None if t is None else _versions.version(t)


def refuse_modified(tracer, reachable: set) -> None:
    """Raise torch's error when a tensor an op on the gradient's path saved was written in
    place after that op ran."""
    nodes = {v.node for v in reachable if v.node is not None}
    _refuse_data_alias_reads(tracer, nodes)
    recorded = tracer.saved_versions
    if not recorded:
        return
    for node in nodes:
        for i, ref, expected, outputs, what, _ in recorded.get(node, ()):
            now = _version_now(ref)
            if now is None or now == expected:
                continue
            raise RuntimeError(_message(node, i, outputs, what, now, expected))


def _message(node, i: int, outputs: bool, what: str, now: int, expected: int) -> str:
    where = f"output {i}" if outputs else f"input {i}"
    return (f"one of the variables needed for gradient computation has been modified by "
            f"an inplace operation: {what}, {where} of `{node.op}`"
            f"{' at ' + node.source if node.source else ''}, is at version "
            f"{now}; expected version {expected} instead. Hint: the "
            f"op's backward reads it; change a clone of it instead, or make the change "
            f"after backward() (inside graphnet.compile, as eagerly)")


def refused_outputs(tracer) -> dict:
    """{graph output index: torch's error} for the outputs whose gradient passes an op that
    saved a tensor the code then wrote in place (`y = x.exp(); y += 1; return y`): a
    backward outside the call, through its tape node (runtime/artifact_tape.py), raises
    where PyTorch's would. Before, it differentiated the program and gave the gradient of
    values the write had replaced. Taken at the trace's end, before anything after the call
    could write (those `arm_checks` catches)."""
    stale = {}
    for node, entries in tracer.saved_versions.items():
        for i, ref, expected, outputs, what, _ in entries:
            now = _version_now(ref)
            if now is not None and now != expected:
                stale[node] = _message(node, i, outputs, what, now, expected)
                break
    if not stale:
        return {}
    from .autodiff import _default_edges

    tainted = {}
    for node in tracer.graph.nodes:     # in order: an op's inputs come first
        message = stale.get(node)
        if message is None:
            edges = tracer.grad_edges.get(node)
            for j in _default_edges(node) if edges is None else edges:
                x = node.inputs[j]
                if isinstance(x, Value) and x.node in tainted:
                    message = tainted[x.node]
                    break
        if message is not None:
            tainted[node] = message
    return {k: tainted[o.value.node] for k, o in enumerate(tracer.graph.outputs)
            if o.value.node in tainted}


def adopt_outputs(tracer, t, result, now: int) -> None:
    """`t.relu_()`: `t` takes over the output `result` of an op whose backward reads its
    output. That op's entry followed `result`, a temporary that is gone by the next write, so
    `t.relu_(); t.mul_(2)` raised eagerly and not here: the entry follows `t` from version
    `now` (this write's), as the eager tape marks its node when `t` is written."""
    refuse_tied_write(tracer, t)
    note_leaf_write(tracer, t)
    value = tracer.value_of(result)
    entries = tracer.saved_versions.get(value.node) if value.node is not None else None
    if not entries:
        return
    moved = []
    for entry in entries:
        if entry[3] and entry[5]() is result:     # an output entry that followed `result`
            entry = _entry(entry[0], t, True)
            entry = entry[:2] + (now,) + entry[3:]
        moved.append(entry)
    tracer.saved_versions[value.node] = moved


def refuse_tied_write(tracer, t) -> None:
    """An in-place write to a tensor that `p.data = view` tied to another inside the trace
    (graphnet/_shared_storage.py `_traced_tie`): PyTorch's write reaches both, this
    trace's would not."""
    ties = tracer.__dict__.get("data_ties")
    if ties and id(t) in ties and any(x is t for x in ties[id(t)]):
        raise TraceError(
            "an in-place write, inside a compiled function, to a tensor whose storage "
            "`p.data = ...` (or nn.utils.vector_to_parameters) shared with another earlier "
            "in the call: in PyTorch the write reaches both, and a compiled function does not "
            "tie them. Write before the `.data =`, or call it outside graphnet.compile.")


# How many graph nodes behind an in-place op's result `release_own_nodes` looks at: the eager
# tape's number, so both modes count the same ops as the in-place op's own.
_OWN_NODES = _versions._OWN_NODES


def release_own_nodes(tracer, t, result_value, now: int) -> None:
    """The nodes that computed an in-place op's result (`x.mish_()`: softplus, tanh, mul)
    read `t` before this write: PyTorch's in-place op is one op, which keeps those values for
    its own backward, so the write is not an error for them. As eagerly, the nodes within
    `_OWN_NODES` behind the result along gradient edges count as the op's own; a result
    without gradient history has none."""
    recorded, edges = tracer.saved_versions, tracer.grad_edges
    if not recorded or result_value.node is None or not edges.get(result_value.node):
        return      # a result with no gradient history (`w.sub_(lr * w.grad)` under no_grad)
    # what made `t`'s values before the write is not the op's own (`b = a.exp(); b.add_(1)`)
    before = t._value.node if isinstance(t._value, Value) else None
    # nor what made the method's other operands (`y += h * (y @ w)`: the matmul's entry stays)
    seen = {before} | {a._value.node for a in _versions.operands
                       if isinstance(getattr(a, "_value", None), Value)}
    queue, limit = [result_value.node], _OWN_NODES + len(seen)
    while queue and len(seen) < limit:
        node = queue.pop(0)
        if node in seen:
            continue
        seen.add(node)
        entries = recorded.get(node)
        if entries:
            # NOTE: the saved tensor itself (a view, not its owner) is what the op wrote. Its
            # entry is dropped, as eagerly: PyTorch keeps the values before the write for
            # the op's own backward, so a later write (`x.sin_(); x.exp_()`) is no error
            # either (before, the entry took version `now`, and that later write raised)
            recorded[node] = [e for e in entries
                              if not (e[5]() is t and e[2] == now - 1)]
        # NOTE: along the gradient edges only, as the eager tape's walk: the data path runs
        # on into the backward's own values (`.grad`), which reach every forward op
        inputs = node.inputs
        queue += [inputs[i].node for i in edges.get(node, ())
                  if isinstance(inputs[i], Value) and inputs[i].node is not None]


def saved_tensor_ids(tracer) -> set:
    """The ids of the tensors (and of their views' storage owners) that an op of the trace
    saved for its backward. Taken while the returned tensors are alive (Tracer.finish)."""
    saved, boxes = set(), set()
    for entries in tracer.saved_versions.values():
        for entry in entries:
            if type(entry[1]) is list:   # a saved view, maybe gone: its owner's version box
                boxes.add(id(entry[1]))
            t = entry[5]()
            if t is not None:
                saved.add(id(t))
    for rec in tracer.lifted.values():
        box = rec.tensor.__dict__.get("_version_box")
        if box is not None and id(box) in boxes:
            saved.add(id(rec.tensor))
    return saved


def saved_across_the_call(tracer, saved: set, returned_ids: list,
                          owners: list) -> tuple[frozenset, list]:
    """What the eager tape's node for the whole compiled call must check at its backward
    (runtime/artifact_tape.py), as PyTorch's nodes inside would: the placeholder names of the
    inputs (arguments, parameters, buffers) some op saved, itself or through a view, and per
    returned tensor whether an op saved it or the tensor it is a view of (`exp` saves its
    output, `y * y` its input y; `owners`: the ids of the returned views' storage owners);
    `saved` is `saved_tensor_ids`.
    NOTE: before, the call's node read the values of the call with no check: `y = f(x);
    opt.step(); y.backward()` (the GAN mistake) or `y.add_(1)` after a compiled `x.exp()`
    gave the gradient of values that no longer existed, where eager code raises."""
    names = frozenset(rec.placeholder.name for rec in tracer.lifted.values()
                      if id(rec.tensor) in saved)
    # a returned view of a saved tensor counts (`f = compile(lambda x: x.exp()[1:])`, then
    # `out[0] = 1`: the write reaches what exp's backward reads; it was not checked)
    return names, [rid in saved or owner in saved for rid, owner in zip(returned_ids, owners)]
