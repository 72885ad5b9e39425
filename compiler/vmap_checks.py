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
from graphnet._ops._table import N_FACTS
from graphnet._x64 import x64

from .ir import Graph, Node, Value


def is_mapped(node: Node) -> bool:
    """Whether `node` maps a sub-graph over samples (its op declares `mapped` inputs)."""
    return node.opdef.fields is not None and "mapped" in node.fields


def mapped_reads(vmap: Node, inner: Node) -> dict | None:
    """{inner value: (the enclosing graph's value, mapped axis or None)} for the values a
    checked node inside `vmap`'s body reads, when each is one of the body's inputs (maybe
    reshaped); None when one is computed inside the body."""
    from .checks import _read

    body = vmap.attrs["body"]
    outer = dict(zip(body.inputs, vmap.inputs))
    found = {}
    for x in _read(inner):
        if not isinstance(x, Value):
            continue
        source = x
        while source.node is not None and _same_order(source.node):
            source = source.node.inputs[0]     # `y.unsqueeze(0)`: y's values, reshaped
        if source not in outer:
            return None
        k = body.inputs.index(source)
        axis = vmap.attrs["in_axes"][k] if k < vmap.attrs["n_mapped"] else None
        found[x] = (outer[source], axis)
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
    """One checked node inside a top-level `vmap`. `on_host` when the values it reads are
    the program's inputs: `error(arrays)` checks every sample before the program runs.
    Otherwise (labels the program computes, `y.long()`, `y[:, 0]`) a program site:
    `row(env)` is its check row inside the program, for the first bad sample."""

    def __init__(self, graph: Graph, vmap: Node, inner: Node):
        from .checks import checked_call

        self.node, self.vmap = inner, vmap
        _, self.check, inputs, self.attrs = checked_call(inner)
        reads = mapped_reads(vmap, inner)
        self.sources, axes, self.args = [], [], []
        for k, x in enumerate(inputs):
            if isinstance(x, Value) and k >= self.check.values_from:
                source, axis = reads[x]
                self.args.append(("read", len(self.sources), x.shape))
                self.sources.append(source)
                axes.append(axis)
            else:
                self.args.append(("as is", shape_only(x), None))
        self.axes = tuple(axes)
        position = {v: i for i, v in enumerate(graph.inputs)}
        self.on_host = all(v in position for v in self.sources)
        self.positions = [position.get(v) for v in self.sources]
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
        return self.error_of(bad, facts)

    def row(self, env: dict):
        bad, facts = self._all_samples(*[env[v] for v in self.sources])
        facts = list(facts) + [jnp.asarray(0, jnp.int64)] * (N_FACTS - len(facts))
        return jnp.stack([jnp.asarray(bad).astype(jnp.int64), *facts])

    def error_of(self, bad, facts) -> Exception | None:
        if not bool(bad):
            return None
        return self.check.error(tuple(int(f) for f in facts), **self.attrs)


def anchor(site) -> Node:
    """The node of the program a check site is evaluated at (a mapped site: its vmap)."""
    return site.vmap if isinstance(site, MappedSite) else site
