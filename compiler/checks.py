"""Checked programs: the op table's value checks (out-of-range indices and class labels)
in compiled calls, raised by the call that caused them.

Every node whose op has a `ValueCheck` is a *check site*. Most sites check the program's own
inputs (labels, index tensors passed in): those are *host checks*, evaluated with NumPy on
the input arrays before the program starts (`HostChecks`), so a failing call runs nothing
and a passing one costs no device round trip. A site that checks a value the program
computes (an index made by argmax) is a *program check*: while the program runs, its inputs
give one int64 row `[bad, *facts]`; the rows of all such sites, in graph order, leave the
program as one extra output, `flags`, which the runtime reads right after the call (a wait
for the program to finish) before writing anything back. When a program check fails, the
program keeps every state output at its input value (`guard_outputs`), so nothing computed
from a bad value is written back. Either way the error names the op, the user's source line
and the module path.

A site is every node that performs a checked op's computation (`checked_call`): the op's own
node, and a `vjp` node the tracer recorded for its backward (autograd.grad, func.grad,
backward(inputs=...), create_graph), which reads the same labels and indices. When only the
gradient is used, the op's forward node is dead code and leaves the graph, so the `vjp` node
is the only place left to check them. A custom autograd.Function whose backward indexes with
a tensor it saved is a site too, when the program runs that backward
(compiler/custom_backward.py)."""

from __future__ import annotations

import weakref

import jax
import jax.numpy as jnp
import numpy as np
from graphnet._errors import TraceError
from graphnet._ops import OPS
from graphnet._ops._checks import check_row, host_error, row_error, shape_only

from .custom_backward import backward_error, backward_name, backward_row, backward_sites, \
    performed
from .ir import Graph, Node, Value
from .vmap_checks import MappedSite, anchor, is_mapped, mapped_reads, mapped_sites


def checked_call(node: Node) -> tuple | None:
    """(op, ValueCheck, inputs, attrs) of the checked op `node` computes, or None. A `vjp`
    node computes the backward of the op its `fn` names, from that op's inputs (its first
    `n_primals` inputs; a `vjp` of a `vjp`, a double backward, unwraps again)."""
    op, inputs, attrs, _ = performed(node)
    check = OPS[op].check if op in OPS else None
    if check is None or (check.when is not None and not check.when(**attrs)):
        return None
    return op, check, inputs, attrs


def check_sites(nodes) -> list:
    """The nodes among `nodes` that compute a checked op (forward or backward), in order."""
    return [n for n in nodes if checked_call(n) is not None]


def _read(node: Node) -> list:
    """The inputs whose values `node`'s check reads (the others lend their shape)."""
    _, check, inputs, _ = checked_call(node)
    return inputs[check.values_from:]


def split_sites(graph: Graph) -> tuple[list, list]:
    """(host sites, program sites) of `graph`: a host site reads the values of graph inputs
    (or literals) only; its other inputs lend just their shape. A checked node inside a
    `cond` / `while_loop` branch is refused (`refuse_branch_checks`). A custom Function's
    backward that reads indices is always a program site (`custom_backward.backward_sites`)."""
    refuse_branch_checks(graph)
    mapped = mapped_sites(graph)
    inputs, host, program = set(graph.inputs), [s for s in mapped if s.on_host], []
    for node in check_sites(graph.nodes):
        read = _read(node)
        on_host = all(not isinstance(x, Value) or x in inputs for x in read)
        (host if on_host else program).append(node)
    backward = set(backward_sites(graph))
    if backward:
        program = [n for n in graph.nodes if n in backward or n in set(program)]
    # a mapped site's row is made where its vmap runs: graph order, stable among equals
    order = {n: i for i, n in enumerate(graph.nodes)}
    program = sorted(program + [s for s in mapped if not s.on_host],
                     key=lambda s: order[anchor(s)])
    return host, program


def refuse_branch_checks(graph: Graph, top: bool = True) -> None:
    """Raise TraceError for a checked op reading index or label tensors inside a branch
    sub-graph. Allowed inside a `vmap` of the program itself when what it reads comes into
    the mapped function (`mapped_reads`): those are checked per sample (vmap_checks.py).
    NOTE: branches are lowered to lax.cond / lax.while_loop without check rows, so such an
    op would take JAX's clamped value where PyTorch raises: a wrong answer without an error.
    Refusing it is the honest choice until branches carry their own rows."""
    for node in graph.nodes:
        for _, branch in node.subgraphs():
            for inner in check_sites(branch.nodes):
                if not any(isinstance(x, Value) for x in _read(inner)):
                    continue    # literal indices (`a[0]`): checked while tracing
                if top and is_mapped(node) and mapped_reads(node, inner) is not None:
                    continue
                where = f" at {inner.source}" if inner.source else ""
                reads = checked_call(inner)[1].reads
                index = reads == "indices or labels"
                silently = "clamp a bad index" if index else "give NaN or inf for a bad one"
                accept = "JAX's clamping" if index else "JAX's NaN and inf results"
                if is_mapped(node):
                    raise TraceError(
                        f"{site_name(inner)}{where} reads {reads} that the function mapped "
                        f"by graphnet.func.vmap computes itself (or a vmap nested in "
                        f"another): compiled programs check those values (PyTorch raises on "
                        f"a bad one), and these cannot be checked there, so this program "
                        f"could silently {silently}. Compute "
                        f"{'the labels' if index else 'that matrix'} before the vmap and pass "
                        f"{'them' if index else 'it'} in (those are checked, per sample), run "
                        f"this code dynamically, "
                        f"or compile with checks=False to accept {accept}.")
                raise TraceError(
                    f"{site_name(inner)}{where} reads {reads} inside a graphnet.{node.op} "
                    f"branch: compiled programs check those values (PyTorch raises on a bad "
                    f"one) everywhere except inside cond/while_loop branches, so this program "
                    f"could silently {silently}. Move the "
                    f"{'indexing' if index else 'operation'} out of the branch, run this code "
                    f"dynamically, or compile with checks=False to accept {accept}.")
            refuse_branch_checks(branch, top=False)


class HostChecks:
    """The host sites of a graph, run on a call's input arrays before its program starts."""

    def __init__(self, graph: Graph, sites: list):
        position = {v: i for i, v in enumerate(graph.inputs)}
        self.program = graph.name
        self.sites = []
        self.mapped = [site for site in sites if isinstance(site, MappedSite)]
        for node in (site for site in sites if not isinstance(site, MappedSite)):
            _, check, inputs, attrs = checked_call(node)
            # ("input", i): graph input i; ("as is", x): a literal, or a stand-in with a
            # Value's shape (host_error reads nothing of it but the shape)
            args = [("input", position[x]) if isinstance(x, Value) and k >= check.values_from
                    else ("as is", shape_only(x)) for k, x in enumerate(inputs)]
            self.sites.append((node, check, attrs, args))

        # the input positions the sites read, and weak references to the arrays that last
        # passed them all
        self.read = sorted({x for *_, args in self.sites for how, x in args if how == "input"}
                           | {at for site in self.mapped for at in site.positions})
        self.passed: list = []

    def __call__(self, arrays: list) -> None:
        # NOTE: a JAX array never changes, so arrays that passed stay passed: a training loop
        # feeding the same label tensor again pays one identity test, not a host round of
        # NumPy (70 us of a 1.3 ms MLP step, measured right after the previous step ran).
        # Weak references: a dead array's id may be reused, a dead weakref never matches.
        read = [arrays[i] for i in self.read]
        if len(self.passed) == len(read) and all(
                ref() is a for ref, a in zip(self.passed, read)):
            return
        self.passed = []
        for node, check, attrs, args in self.sites:
            host = [arrays[x] if how == "input" else x for how, x in args]
            error = host_error(check, host, attrs)
            if error is not None:
                raise located(error, node, self.program)
        for site in self.mapped:       # inside a vmap: every sample's slice
            error = site.error(arrays)
            if error is not None:
                raise located(error, site.node, self.program)
        if all(isinstance(a, jax.Array) for a in read):
            self.passed = [weakref.ref(a) for a in read]


def fill_created(traced) -> None:
    """After a host check refused a call: tensors the traced code created and kept (optimizer
    state on a first step) still hold graph values, since the program never ran. They become
    NaN (zeros when not floating), as when a program check fails (`guard_outputs`)."""
    for effect, out in zip(traced.effects, traced.graph.outputs):
        if effect is not None and effect[0] == "new" and isinstance(effect[1]._value, Value):
            v = out.value
            fill = np.nan if np.issubdtype(v.dtype, np.floating) else 0
            effect[1]._value = jnp.full(v.shape, fill, v.dtype)


def site_row(node: Node, env: dict):
    """The check row of `node`, from its input values in `env`."""
    if isinstance(node, MappedSite):
        return node.row(env)
    if checked_call(node) is None:
        return backward_row(node, env)
    _, check, inputs, attrs = checked_call(node)
    args = [env[x] if isinstance(x, Value) else x for x in inputs]
    return check_row(check, args, attrs)


class RowCollector:
    """Gathers the rows of `sites` while a lowered program evaluates its schedule."""

    def __init__(self, sites: list):
        self.sites, self.at, self.rows = sites, {}, {}
        for site in sites:
            self.at.setdefault(anchor(site), []).append(site)

    def visit(self, node: Node, env: dict) -> None:
        """Record the row of each site at `node` whose inputs are all in `env` (a node inside
        a grad region is visited after the region ran, from the values it exported)."""
        for site in self.at.get(node, ()):
            needs = site.sources if isinstance(site, MappedSite) else node.input_values()
            if site not in self.rows and all(v in env for v in needs):
                self.rows[site] = site_row(site, env)

    def flags(self):
        missing = [site_name(getattr(n, "node", n)) for n in self.sites if n not in self.rows]
        assert not missing, f"check sites never evaluated: {missing}"
        return stack_rows([self.rows[n] for n in self.sites])


def sites_among(nodes, sites) -> list:
    """The check sites evaluated at one of `nodes` (a plan kernel's, a prologue's)."""
    here = set(nodes)
    return [s for s in sites if anchor(s) in here]


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
            before = inputs[by_name[out.target]]
            # NOTE: a state whose shape or dtype the code changed in place (`t.unsqueeze_(-1)`)
            # has no earlier value of its new shape: it is left to write_back, which skips it
            # when a check failed (the select broadcast the old value: (4,) into (4, 4))
            if before.shape == outs[i].shape and before.dtype == outs[i].dtype:
                guarded[i] = jnp.where(failed, before, outs[i])
        elif out.role == "new" and jnp.issubdtype(outs[i].dtype, jnp.floating):
            guarded[i] = jnp.where(failed, jnp.asarray(jnp.nan, outs[i].dtype), outs[i])
    return tuple(guarded)


def failed_check(sites: list, flags, program: str = "") -> Exception | None:
    """The exception for the first failed site in `flags` (read here, on the host), or None."""
    flags = np.asarray(flags)
    if not flags.size or not flags[:, 0].any():
        return None
    i = int(np.argmax(flags[:, 0] != 0))
    node = sites[i]
    if isinstance(node, MappedSite):
        return located(node.error_of(True, flags[i][1:]), node.node, program)
    if checked_call(node) is None:
        return located(backward_error(node, flags[i]), node, program)
    _, check, _, attrs = checked_call(node)
    return located(row_error(check, flags[i], attrs), node, program)


def site_name(node: Node) -> str:
    """The checked op `node` computes, quoted as an error names it: `cross_entropy`, or
    `cross_entropy` backward (`vjp`) for the backward of one."""
    if checked_call(node) is None:
        return backward_name(node)
    op = checked_call(node)[0]
    return f"`{op}`" if op == node.op else f"`{op}` backward (`{node.op}`)"


def located(error: Exception, node: Node, program: str) -> Exception:
    """PyTorch's exception type and words, then where the op is in the user's code."""
    where = f" at {node.source}" if node.source else ""
    module = f" in module `{node.module}`" if node.module else ""
    return type(error)(f"{error}\n  {site_name(node)}{where}{module}, in compiled "
                       f"`{program}`: nothing was written back")
