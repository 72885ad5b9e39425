"""Checked programs: the op table's value checks (out-of-range indices and class labels),
computed inside the one compiled program and raised by the call that caused them.

Every node whose op has a `ValueCheck` is a *check site*. While the lowered program runs,
each site's inputs give one int64 row `[bad, *facts]` (graphnet/_ops/_checks.py); the rows of
all sites, in graph order, leave the program as one extra output, `flags`. After the call the
runtime reads `flags` (one small host transfer) and raises the first failure, naming the op,
the user's source line and the module path. When a check fails the program also keeps every
state output at its input value, so nothing the call computed from a bad value is written
back (see `guard_outputs`)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from graphnet._ops import OPS
from graphnet._ops._checks import check_row, row_error

from .ir import Graph, Node, Value


def check_sites(nodes) -> list:
    """The nodes among `nodes` whose op has a value check, in order."""
    return [n for n in nodes if n.op in OPS and OPS[n.op].check is not None]


def site_row(node: Node, env: dict):
    """The check row of `node`, from its input values in `env`."""
    args = [env[x] if isinstance(x, Value) else x for x in node.inputs]
    return check_row(OPS[node.op].check, args, node.attrs)


class RowCollector:
    """Gathers the rows of `sites` while a lowered program evaluates its schedule."""

    def __init__(self, sites: list):
        self.sites, self.wanted, self.rows = sites, set(sites), {}

    def visit(self, node: Node, env: dict) -> None:
        """Record `node`'s row if it is a site whose inputs are all in `env` (a node inside a
        grad region is visited after the region ran, from the values it exported)."""
        if node in self.wanted and node not in self.rows \
                and all(v in env for v in node.input_values()):
            self.rows[node] = site_row(node, env)

    def flags(self):
        missing = [n.op for n in self.sites if n not in self.rows]
        assert not missing, f"check sites never evaluated: {missing}"
        return stack_rows([self.rows[n] for n in self.sites])


def stack_rows(rows: list):
    from graphnet._ops._table import N_FACTS

    return jnp.stack(rows) if rows else jnp.zeros((0, 1 + N_FACTS), jnp.int64)


def guard_outputs(graph: Graph, inputs: dict, outs: tuple, flags) -> tuple:
    """`outs` with every `state` output replaced by its input value when a check failed, and
    every `new` float output (state the call created, e.g. momentum buffers on a first step)
    by NaN: PyTorch would have raised before updating anything, and a created tensor has no
    earlier value to keep. XLA fuses the select into the update, so a donated buffer is still
    updated in place."""
    failed = jnp.any(flags[:, 0] != 0)
    by_name = {v.name: v for v in graph.inputs}
    guarded = list(outs)
    for i, out in enumerate(graph.outputs):
        if out.role == "state":
            guarded[i] = jnp.where(failed, inputs[by_name[out.target]], outs[i])
        elif out.role == "new" and jnp.issubdtype(outs[i].dtype, jnp.floating):
            guarded[i] = jnp.where(failed, jnp.asarray(jnp.nan, outs[i].dtype), outs[i])
    return tuple(guarded)


def failed_check(sites: list, flags, program: str = "") -> Exception | None:
    """The exception for the first failed site in `flags` (read here, on the host), or None.
    Its type and first words are PyTorch's; then where the op is in the user's code."""
    flags = np.asarray(flags)
    if not flags.size or not flags[:, 0].any():
        return None
    i = int(np.argmax(flags[:, 0] != 0))
    node = sites[i]
    error = row_error(OPS[node.op].check, flags[i], node.attrs)
    where = f" at {node.source}" if node.source else ""
    module = f" in module `{node.module}`" if node.module else ""
    program = f"compiled `{program}`" if program else "the compiled program"
    return type(error)(f"{error}\n  `{node.op}`{where}{module}; checked by {program}, which "
                       f"wrote back nothing it computed from the bad value")
