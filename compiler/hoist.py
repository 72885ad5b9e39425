"""Hoisting: work that depends only on state is done once per parameter version, not per call.

In an inference graph, some nodes read nothing but captured state (parameters, buffers) and
constants: BatchNorm folded into a conv's weights is the main case, `w * scale` for every
folded conv. Recomputing them inside every call costs what the folding saves (and more: XLA
CPU fuses the scaling into the matmul's operand and loses its fast path). So such a graph is
lowered as two functions:

    prologue(state arrays it reads)           -> hoisted values
    main(other inputs, hoisted values)        -> outputs

The runtime (graphnet/runtime/hoist_cache.py) caches the prologue's results against the
identity of the state arrays they were computed from. JAX arrays are immutable and every
in-place update (an optimizer step, `load_state_dict`, `p.data.mul_()`) gives a tensor a new
array, so "same arrays" means "same values". Only graphs that write no state and take no
gradient are split; see `split`.

Checked programs (compiler/checks.py) keep their program checks across the cut: the
prologue's check rows travel to the main program as one more hoisted value, so a bad value in
a state-only node still fails every call, and the main program returns all rows in graph
order. (Checks of the inputs run on the host before either function.)"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from .checks import sites_among
from .ir import Graph
from .lower import straight_line


@dataclass
class Split:
    """A graph cut into a state-only prologue and the per-call rest."""

    prologue_inputs: list    # positions in graph.inputs the prologue reads
    main_inputs: list        # positions in graph.inputs the rest reads
    hoisted: list            # Values computed by the prologue and read by the rest
    prologue_nodes: list
    main_nodes: list
    graph: Graph

    def prologue_fn(self, checks=None):
        """With `checks` (the graph's program check sites), its rows are the last hoisted
        value."""
        return straight_line(self.prologue_nodes,
                             [self.graph.inputs[i] for i in self.prologue_inputs],
                             self.hoisted, f"{self.graph.name}_prologue", checks)

    def main_fn(self, checks=None):
        """With `checks`, it reads the prologue's rows last and returns the rows of all the
        program check sites last, in graph order (as the program `lower` makes does)."""
        main = straight_line(self.main_nodes,
                             [self.graph.inputs[i] for i in self.main_inputs] + self.hoisted,
                             [o.value for o in self.graph.outputs], self.graph.name, checks)
        if checks is None:
            return main
        # NOTE: the rows come as each part's `sites_among` lists them, and go back in the
        # order of `checks`. Matched as graph nodes before, a site inside a vmap (a
        # MappedSite, not a node) lost its row, and its out-of-range label went unreported
        position = {id(site): i for i, site in enumerate(checks)}
        merged = sites_among(self.prologue_nodes, checks) + sites_among(self.main_nodes, checks)
        order = sorted(range(len(merged)), key=lambda i: position[id(merged[i])])

        def run(*arrays):
            *outs, rows = main(*arrays[:-1])
            return (*outs, jnp.concatenate([arrays[-1], rows])[jnp.asarray(order, int)])

        run.__name__ = self.graph.name
        return run


def state_only_nodes(graph: Graph) -> list:
    """Nodes whose inputs are all state inputs, constants or outputs of such nodes."""
    known = {v for v in graph.inputs if v.kind == "state"}
    nodes = []
    for node in graph.nodes:
        if all(v in known for v in node.input_values()):
            nodes.append(node)
            known.update(node.outputs)
    return nodes


def split(graph: Graph, pure: bool) -> Split | None:
    """The prologue/main split of `graph`, or None when there is nothing worth hoisting.
    `pure` says the call writes no state: a graph that updates its parameters (a training
    step) or its buffers would recompute the prologue every call, so it is never split."""
    if not pure or graph.differentiates():
        return None
    hoist = state_only_nodes(graph)
    # NOTE: a prologue of reshapes alone saves nothing and costs a second dispatch.
    if not any(n.op not in ("reshape", "cast") for n in hoist):
        return None
    hoisted_set = set(hoist)
    rest = [n for n in graph.nodes if n not in hoisted_set]
    read_by_rest = {v for n in rest for v in n.input_values()}
    read_by_rest.update(o.value for o in graph.outputs)
    produced = [v for n in hoist for v in n.outputs]
    read_by_prologue = {v for n in hoist for v in n.input_values()}
    return Split(
        prologue_inputs=[i for i, v in enumerate(graph.inputs) if v in read_by_prologue],
        main_inputs=[i for i, v in enumerate(graph.inputs) if v in read_by_rest],
        hoisted=[v for v in produced if v in read_by_rest],
        prologue_nodes=hoist, main_nodes=rest, graph=graph)


def describe(s: Split) -> str:
    ops = sorted({n.op for n in s.prologue_nodes})
    return (f"{len(s.prologue_nodes)} state-only nodes ({', '.join(ops)}) run once per "
            f"parameter version, {len(s.hoisted)} values hoisted")

