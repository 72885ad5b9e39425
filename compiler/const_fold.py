"""Python reading a value the traced code computed from constants only.

`int(torch.tensor(x.shape).prod())`, `torch.arange(4).sum().item()`, `if torch.tensor(2.0) >
1:`: the tensor is a graph value, but every input it depends on is a tensor the code made
from data (the same on every call the trace applies to) or a captured tensor left as it was
(a parameter, a buffer: its values are guarded, as `Tracer.concretize` guards a direct read).
So its value is known while tracing: the ops that made it run once on the host, and Python
goes on with the number, as eagerly. NOTE: before, such a read raised "needs the value of a
traced tensor", which a value computed from the data does, and this one does not.

Not folded (the read stays refused): anything reached from an argument, a live scalar (a
learning rate), a slot (`.grad`, optimizer state after `load_state_dict`), the RNG state, a
random op, or a node with sub-graphs."""

from __future__ import annotations

from graphnet._ops import OPS
from graphnet._ops._checks import host_error
from graphnet._x64 import x64

from .ir import Value
from .made_data import MADE
from .value_reads import guard_value

# at most this many nodes are run on the host for one read (a long chain is data work)
MAX_NODES = 256


def folded(tracer, value: Value, what: str):
    """The array `value` holds, computed on the host, or None where it depends on more than
    constants and unchanged captured tensors."""
    if not isinstance(value, Value):
        return None
    by_placeholder = {rec.placeholder: rec for rec in tracer.lifted.values()}
    needed, guarded, stack, seen = set(), [], [value], set()
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        node = v.node
        if node is None:
            rec = by_placeholder.get(v)
            if rec is None or rec.source[0] not in (MADE, "state") \
                    or rec.tensor is _rng_state():
                return None
            if rec.source[0] == "state":
                guarded.append(rec)
            continue
        opdef = OPS.get(node.op)
        # NOTE: a grad node (`w.grad` of a tensor made in the step) has no kernel of its
        # own; evaluating it raised an internal NotImplementedError for `w.grad.item()`
        if opdef is None or opdef.random or opdef.gradient or node.subgraphs() or \
                len(needed) >= MAX_NODES:
            return None
        needed.add(node)
        stack.extend(x for x in node.inputs if isinstance(x, Value))
    env = {rec.placeholder: rec.original for rec in
           (by_placeholder[v] for v in seen if v.node is None)}
    from .lower import eval_node

    with x64():
        for node in tracer.graph.nodes:     # in the order recorded: inputs before uses
            if node not in needed:
                continue
            opdef = OPS[node.op]
            if opdef.check is not None:     # an index out of range raises, as eagerly
                arrays = [env[x] if isinstance(x, Value) else x for x in node.inputs]
                error = host_error(opdef.check, arrays, node.attrs)
                if error is not None:
                    raise error
            eval_node(node, env)
    for rec in guarded:
        guard_value(tracer, rec.tensor, rec.original, what)
    return env[value]


def _rng_state():
    import graphnet

    return graphnet.default_generator.state
