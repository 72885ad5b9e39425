"""A compiled forward inside a dynamic backward: a compiled call whose graph did not run
backward() itself joins the eager tape as one node, whose VJP is `jax.vjp` of the lowered
program (runtime/artifact.py calls `record_tape` after such a call)."""

from __future__ import annotations

import weakref

import jax
from graphnet import _autograd
from graphnet import _autograd_data_swap as _data_swap
from graphnet import _autograd_versions as _versions
from graphnet import _xla as xla
from graphnet._errors import TraceError
from graphnet.compiler.autodiff import carrying, while_loop_backward_message
from graphnet.compiler.ir import Value


def record_tape(artifact, args, arrays, tensors) -> None:
    """Make `artifact`'s whole compiled call one node of the eager tape, so `loss.backward()`
    on its outputs works (grads by jax.vjp of the lowered program)."""
    needs, edges = [], []
    slots = getattr(artifact, "slot_inputs", None) or {}   # as the call read them
    for i, (kind, obj) in enumerate(artifact.sources):
        t = args[obj] if kind == "arg" else slots[i] if i in slots \
            else state_tensor((kind, obj))
        if t is not None and t.requires_grad and _autograd.floating(t._value.dtype):
            needs.append(i)
            edges.append((t.grad_fn, t._oi) if t.grad_fn is not None else (t, None))
    traced = artifact.traced
    n_out = [i for i, e in enumerate(traced.effects) if e is None]
    # arguments written in place with values that require grad, and the .grads a
    # `backward(create_graph=True)` made: outputs of the node too
    written = traced.arg_grad_written if _autograd.grad_mode.enabled else []
    graphed = traced.grads_with_history if _autograd.grad_mode.enabled else []
    # and the tensors the code set on modules (`self.loss = ...`, just written back), unless
    # the code's own backward() ran (then, as a returned loss, they are plain results)
    attrs = traced.attrs_with_history if _autograd.grad_mode.enabled \
        and not artifact.graph.differentiates() else []
    if not needs or not (written or graphed or attrs
                         or any(traced.out_requires_grad or [True])):
        return
    returned = len(tensors)
    n_out += [k for k, _ in written] + list(graphed) + list(attrs)
    tensors = list(tensors) + [args[i] for _, i in written] + [
        _grad_tensor(traced.effects[k], args) for k in graphed] + [
        _attr_tensor(traced.effects[k]) for k in attrs]
    extra = len(tensors) - returned
    key = (tuple(needs), len(written), len(graphed), len(attrs))
    vjp = artifact._vjp_cache.get(key)
    if vjp is None:
        vjp = artifact._vjp_cache[key] = make_vjp(artifact.run_fn, key[0], n_out,
                                                  artifact.graph)
        artifact._vjp_cache["reach", key] = output_reach(
            artifact.graph, n_out, needs, list(traced.out_tape_inputs) + [None] * extra)
    if "rewritten" not in artifact._vjp_cache:
        artifact._vjp_cache["rewritten"] = _rewritten_leaf_read(artifact, args, n_out)
    rewritten = artifact._vjp_cache["rewritten"]
    avals = [(t._value.shape, t._value.dtype) for t in tensors]
    node = (_CompiledNode if rewritten is None else _RefusingNode)(
        artifact.graph.name, tuple(edges), avals, tuple(arrays), vjp)
    if rewritten is not None:
        node.message = rewritten
    node.reach = artifact._vjp_cache["reach", key]   # once per set of inputs needing grads
    if traced.out_refused:
        node.refused = [(j, traced.out_refused[k]) for j, k in enumerate(n_out)
                        if k in traced.out_refused]
    # Only outputs that required grad when traced: one computed under no_grad (or
    # detached) inside the compiled code stays a plain tensor, as it would eagerly.
    traced_grad = traced.out_requires_grad or [True] * returned
    if artifact.graph.differentiates():   # not a loss the step's own backward freed
        traced_grad = traced.out_history_kept
    traced_grad = list(traced_grad) + [True] * extra
    for i, (t, wanted) in enumerate(zip(tensors, traced_grad, strict=True)):
        if wanted and _autograd.floating(t._value.dtype):
            t.grad_fn, t._oi, t.requires_grad = node, i, True


def _grad_tensor(effect, args):
    """The `.grad` tensor a "grad" or "grad_of_arg" output was just written to."""
    kind, target = effect
    return (args[target] if kind == "grad_of_arg" else target)._grad


def _attr_tensor(effect):
    """The tensor an "attr" output was just set to on its module (runtime/writeback.py)."""
    module, name = effect[1]
    return module.__dict__[name]


class _CompiledNode(_autograd.TapeNode):
    """A compiled call's tape node. Its backward is handed None, not zeros, for an output no
    gradient reached (the engine's `materialize`), and differentiates only the outputs that
    have one: a zero cotangent times the derivative of an unused output that is inf or NaN
    there (`(x - 1.5).sqrt()` at 1.0) made the other outputs' gradients NaN. `checks`: the
    tensors PyTorch's nodes inside would have saved (`arm_checks`)."""

    __slots__ = ("checks", "refused")
    materialize = False

    def apply(self, cts):
        if all(c is None for c in cts):
            return [None] * len(self.edges)
        for j, message in getattr(self, "refused", ()):
            if cts[j] is not None:   # an op inside saved what the code then overwrote
                raise RuntimeError(message)
        refuse_written(self, getattr(self, "checks", None))
        return super().apply(cts)


def arm_checks(artifact, args, tensors) -> None:
    """After a call whose outputs joined the tape: remember, for its node, the version and
    values of each input an op inside saved and of each saved output (TraceResult's
    `saved_inputs`, `out_saved`), as the call left them."""
    traced = artifact.traced
    node = next((t.grad_fn for t in tensors if isinstance(t.grad_fn, _CompiledNode)), None)
    if node is None or not (traced.saved_inputs or any(traced.out_saved)):
        return
    saved = artifact._vjp_cache.get("saved sources")
    if saved is None:   # once per artifact: the call only follows the list
        saved = artifact._vjp_cache["saved sources"] = [
            source for v, source in zip(artifact.graph.inputs, artifact.sources)
            if v.name in traced.saved_inputs]
    checks = []
    for kind, obj in saved:
        t = args[obj] if kind == "arg" else state_tensor((kind, obj))
        owner = None if t is None else t.__dict__.get("_storage")
        if owner is not None:   # a view: its owner's counter is its own, and outlives a
            # temporary view (`f(xb[1:], w)`, then `xb[2] = 3`: the check went with the view)
            checks.append((weakref.ref(owner), _versions.version(t), None, "input"))
        elif t is not None:
            checks.append((weakref.ref(t), _versions.version(t), t._value, "input"))
    for t, kept in zip(tensors, traced.out_saved):
        if kept:
            checks.append((weakref.ref(t), _versions.version(t), None, "output"))
    node.checks = tuple(checks)


def refuse_written(node, checks) -> None:
    """PyTorch's error when a tensor the compiled call's ops saved was written since: in
    place (its version moved), or by an optimizer step or a compiled step's write-back (new
    values, same version). A `.data` write is refused too: PyTorch's backward would read the
    new values, and this node computes from the call's."""
    for ref, expected, value, kind in checks or ():
        t = ref()
        if t is None:
            continue
        if _versions.version(t) != expected or (
                value is not None and t._value is not value
                and _data_swap._swapped_to(t, value) is None):
            raise _versions._modified_error_at(t, expected, node.name())
        if value is not None and t._value is not value:
            raise TraceError(
                f"{node.name()}: an {kind} of the compiled call that its backward reads was "
                f"written through `.data` after the call. PyTorch's backward would read the "
                f"new values; a compiled call's backward computes from the call's. Make the "
                f"change after backward(), or call backward() inside the compiled function.")


class _RefusingNode(_CompiledNode):
    """A compiled call's tape node whose backward would be wrong: it refuses, naming why."""

    __slots__ = ("message",)

    def refusal(self):
        return TraceError(self.message)


def _rewritten_leaf_read(artifact, args, n_out) -> str | None:
    """Why the tape cannot differentiate this call, or None: an argument that is a leaf
    requiring grad was written inside (under no_grad, through `.detach()` or `.data`) and an
    output reads its new values. PyTorch gives the leaf the gradient at those new values; the
    program's VJP is taken at the values it was called with, so it gave 0 there."""
    graph, effects = artifact.graph, artifact.traced.effects
    written = {graph.outputs[k].value: target for k, effect in enumerate(effects)
               if effect is not None and effect[0] == "arg"
               for target in (effect[1],)
               if args[target].requires_grad and args[target].grad_fn is None}
    # a parameter too (Embedding(max_norm=...) renormalises its rows under no_grad): its
    # .grad stayed None, silently
    params = {graph.outputs[k].value: graph.outputs[k].target for k, effect in enumerate(effects)
              if effect is not None and effect[0] == "state"
              for t in (state_tensor(effect),)
              if t is not None and t.requires_grad and t.grad_fn is None}
    if params and _reads_new_values(graph, params, n_out):
        return (f"{graph.name}: parameter {sorted(params.values())[0]}, a leaf that requires "
                f"grad, was written in place inside the compiled forward (under no_grad: "
                f"Embedding's max_norm, a weight clamp) and then read; PyTorch's backward gives "
                f"it the gradient at its new values, which a backward outside the compiled "
                f"call cannot. Compile the whole training step (forward, backward and step) "
                f"instead.")
    if written and _reads_new_values(graph, written, n_out):
        return (f"{graph.name}: argument {min(written.values())}, a leaf that requires "
                f"grad, was written in place inside the compiled function (under no_grad, "
                f"through .detach() or .data) and then read; PyTorch's backward gives the "
                f"leaf the gradient at its new values, which a compiled call's backward "
                f"outside it cannot. Call backward() inside the compiled function, or write "
                f"the tensor before calling it.")
    return None


def _reads_new_values(graph, new_values, n_out) -> bool:
    """Whether one of the outputs `n_out` depends on one of the graph values `new_values`."""
    tainted = set(new_values)
    for node in graph.nodes:
        if any(v in tainted for v in node.input_values()):
            tainted.update(node.outputs)
    return any(graph.outputs[o].value in tainted for o in n_out)


def output_reach(graph, out_positions, needs, tape_inputs=()):
    """Per user output of the compiled call: the positions in `needs` (its tape node's
    edges) of the inputs it depends on in `graph` and, when `tape_inputs` (per output, the
    input names the trace's gradient edges reach) says, reaches through them: a parameter
    read only through `x > t`, `detach()` or an index keeps `.grad` None, as eagerly (it
    got zeros, and weight decay then moved it). None when a node holds sub-graphs (cond,
    while_loop), whose reads are not all node inputs: then every output counts as reading
    every input."""
    if any(node.subgraphs() for node in graph.nodes):
        return None
    if len(tape_inputs) == len(out_positions):
        names = [v.name for v in graph.inputs]
        taped = [None if t is None else frozenset(k for k, i in enumerate(needs)
                                                  if names[i] in t) for t in tape_inputs]
        return [r if t is None else r & t
                for r, t in zip(output_reach(graph, out_positions, needs), taped)]
    depends = {v: frozenset((i,)) for i, v in enumerate(graph.inputs)}
    for node in graph.nodes:
        # a custom Function's gradient reaches only the arguments its backward returns a
        # gradient for (compiler/autodiff.carrying): a None one leaves that `.grad` None
        # (per output, after `ctx.set_materialize_grads(False)`: the others' are then None)
        separate = node.op == "custom_function" and not node.attrs["spec"].ctx.materialize_grads
        for k, value in enumerate(node.outputs):
            if k == 0 or separate:
                reads = frozenset().union(*(
                    depends.get(node.inputs[i], frozenset()) for i in carrying(
                        node, range(len(node.inputs)), [k] if separate else None)
                    if isinstance(node.inputs[i], Value)))
            depends[value] = reads
    edge_of = {i: k for k, i in enumerate(needs)}
    return [frozenset(edge_of[i] for i in depends.get(graph.outputs[o].value, ())
                      if i in edge_of) for o in out_positions]


def state_tensor(source):
    """The tensor a `state` or `slot` input reads now (None for a scalar input)."""
    kind, obj = source
    return obj if kind == "state" else obj() if kind == "slot" else None


def make_vjp(run_fn, needs, out_positions, graph):
    """The call's VJP: `call(primals, cts)`, `cts` one per output, None where no gradient
    reached it; one program per set of outputs that have one (the others leave the VJP)."""
    def vjp(primals, cts, reached):
        def partial_run(*diff):
            full = list(primals)
            for i, d in zip(needs, diff):
                full[i] = d
            outs = run_fn(*full)
            return tuple(outs[i] for i, r in zip(out_positions, reached) if r)

        _, pull = jax.vjp(partial_run, *[primals[i] for i in needs])
        return pull(tuple(cts))

    jitted = xla.jit(vjp, xla.graph_has_conv(graph), program=True, static_argnums=(2,))

    def call(primals, cts):
        reached = tuple(c is not None for c in cts)
        try:
            return jitted(primals, tuple(c for c in cts if c is not None), reached)
        except ValueError as err:   # JAX refuses reverse mode through lax.while_loop
            loops = [n for n in graph.nodes if not n.opdef.reverse_mode]
            if not loops or "while_loop" not in str(err):
                raise
            raise TraceError(while_loop_backward_message(loops[0].source)) from None

    return call


def returned_objects(identity: list, args, tensors: list) -> list:
    """The tensors a compiled call hands back, given `TraceResult.out_identity` (one entry per
    returned tensor) and the call's new output tensors: the kept objects where there are
    some, else the new tensors."""
    kept = []
    for source, t in zip(identity, tensors):
        kept.append(kept[source[1]] if source is not None and source[0] == "out"
                    else _returned_object(source, args, t))
    return kept


def _returned_object(source, args, computed):
    """The object a returned tensor is (`source`: an entry of `out_identity` other than
    "out"), or `computed` when it is a new one."""
    if source is None:
        return computed
    kind, obj = source
    if kind == "arg":
        found = args[obj]
    elif kind == "grad":
        found = obj._grad
    elif kind == "arg_grad":    # this call's argument's `.grad`
        found = args[obj]._grad
    elif kind == "new":
        found = obj
    else:
        found = state_tensor(source)
    return computed if found is None else found
