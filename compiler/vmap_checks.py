"""Value checks inside a `vmap` (compiler/vmap_trace.py): labels and indices the mapped
function reads, checked before the program runs, as every other host check is
(compiler/checks.py).

A checked node inside a `vmap` body of the program itself is a *mapped site* when each
value its check reads is a body input standing for an input of the program (a mapped one,
or one every sample shares), possibly reshaped on the way (`y.unsqueeze(0)`, `y[None]`).
Its rule runs once per sample, as eager mode's vmap runs it, but in one go: the op table's
`find` is written for NumPy and JAX alike, so it is mapped with `jax.vmap` and compiled for
the host CPU once per site; the first bad sample's facts make PyTorch's error. Checked values
a body computes itself are refused while tracing (`checks.refuse_branch_checks`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from graphnet._ops._checks import shape_only
from graphnet._x64 import x64

from .ir import Graph, Node, Value


def is_mapped(node: Node) -> bool:
    """Whether `node` maps a sub-graph over samples (its op declares `mapped` inputs)."""
    return node.opdef.fields is not None and "mapped" in node.fields


def mapped_reads(graph: Graph, vmap: Node, inner: Node) -> dict | None:
    """{inner value: (input position in `graph`, mapped axis or None)} for the values a
    checked node inside `vmap`'s body reads, when each is one of the body's inputs standing
    for an input of `graph`; else None."""
    from .checks import _read

    body = vmap.attrs["body"]
    position = {v: i for i, v in enumerate(graph.inputs)}
    outer = dict(zip(body.inputs, vmap.inputs))
    found = {}
    for x in _read(inner):
        if not isinstance(x, Value):
            continue
        source = x
        while source.node is not None and _same_order(source.node):
            source = source.node.inputs[0]     # `y.unsqueeze(0)`: y's values, reshaped
        if source not in outer or outer[source] not in position:
            return None
        k = body.inputs.index(source)
        axis = vmap.attrs["in_axes"][k] if k < vmap.attrs["n_mapped"] else None
        found[x] = (position[outer[source]], axis)
    return found


def _same_order(node: Node) -> bool:
    """Whether `node`'s result holds its input's elements in the same order (a reshape,
    `y[None]`, `y[..., None]`): a check of the result is a check of the input, reshaped."""
    if node.op == "getitem":
        return all(part in _WHOLE for part in node.attrs["spec"])
    return node.op in _SAME_ORDER


_SAME_ORDER = frozenset(("reshape", "squeeze", "unsqueeze", "clone", "detach"))
_WHOLE = (("n",), ("e",), ("s", None, None, None))


def mapped_sites(graph: Graph) -> list:
    """The mapped sites of `graph`'s top-level `vmap` nodes (refuse_branch_checks has made
    sure every checked node there is one)."""
    from .checks import _read, check_sites

    return [MappedSite(graph, node, inner) for node in graph.nodes if is_mapped(node)
            for inner in check_sites(node.attrs["body"].nodes)
            if any(isinstance(x, Value) for x in _read(inner))]


class MappedSite:
    """One checked node inside a top-level `vmap`: `error(arrays)` checks every sample of the
    program's input arrays and gives PyTorch's exception for the first bad one, or None."""

    def __init__(self, graph: Graph, vmap: Node, inner: Node):
        from .checks import checked_call

        self.node = inner
        _, self.check, inputs, self.attrs = checked_call(inner)
        reads = mapped_reads(graph, vmap, inner)
        self.positions, axes, self.args = [], [], []
        for k, x in enumerate(inputs):
            if isinstance(x, Value) and k >= self.check.values_from:
                at, axis = reads[x]
                self.args.append(("read", len(self.positions), x.shape))
                self.positions.append(at)
                axes.append(axis)
            else:
                self.args.append(("as is", shape_only(x), None))
        self.axes = tuple(axes)
        self._run = jax.jit(self._all_samples)

    def _one(self, *values):
        host = [values[x].reshape(shape) if how == "read" else x for how, x, shape in self.args]
        bad, facts = self.check.find(*host, **self.attrs)
        return jnp.asarray(bad, bool), tuple(jnp.asarray(f, jnp.int64) for f in facts)

    def _all_samples(self, *arrays):
        if all(axis is None for axis in self.axes):    # read the same by every sample
            return self._one(*arrays)
        bad, facts = jax.vmap(self._one, in_axes=self.axes)(*arrays)
        first = jnp.argmax(bad)
        return bad.any(), tuple(f[first] for f in facts)

    def error(self, arrays: list) -> Exception | None:
        host = [np.asarray(arrays[at]) for at in self.positions]
        with x64(), jax.default_device(jax.devices("cpu")[0]):
            bad, facts = self._run(*host)
        if not bool(bad):
            return None
        return self.check.error(tuple(int(f) for f in facts), **self.attrs)
