"""`x.data = other` after a forward, before a backward inside graphnet.compile: the values
the traced backward reads, as eager mode's (graphnet/_autograd_data_swap.py).

PyTorch's backward of an op that saved its input tensor itself (`mul`, `sin`, 2-D `matmul`
...) reads that tensor's storage as it is at backward time, so after `w.data = new` it reads
the new values. `swapped_primals` finds the differentiated nodes that read an old value of a
tensor given new storage since, and says which of their primals the backward takes at the
new value instead, with eager mode's per-op table (`_reads`); the backward then runs one VJP
per node (grad_walk._walk) with those primals. An op the table does not know raises, as
eagerly.

A node records the value it read, not the tensor: an alias of the old storage (`w.detach()`)
reads the old values in PyTorch. The tape's requires-grad flag tells them apart where the
tensor requires grad (the alias does not); where neither does and another tensor still holds
the old values, the trace cannot tell, and raises."""

from __future__ import annotations

import numpy as np
from graphnet import _autograd
from graphnet._autograd_data_swap import _reads, reads_output
from graphnet._errors import TraceError

from .autodiff_leaves import _swap_olds, live_tensors
from .ir import Value


def swapped_primals(tracer, reachable: set) -> dict:
    """{node: {input index: new Value}} for the nodes the gradient goes through whose backward
    reads, in PyTorch, the new values of a tensor given other storage after they ran."""
    replaced = tracer.storage_replaced | tracer.alias_written   # `.data =`, `x.data.mul_()`
    if not replaced:
        return {}
    live = live_tensors(tracer)
    olds: dict = {}
    for t in live:
        if id(t) in replaced:
            for v in _swap_olds(t):
                olds.setdefault(v, []).append(t)
    if not olds:
        return {}
    from .autodiff import _default_edges

    written = {v for v, ts in olds.items()
               if any(id(t) in tracer.alias_written and id(t) not in tracer.storage_replaced
                      for t in ts)}
    result = {}
    for node in tracer.graph.nodes:
        if _is_view(node) and node.inputs[0] in written:
            written.update(node.outputs)    # `w.t()` shares the storage written through
        if not any(o in reachable for o in node.outputs):
            continue
        edges = tracer.grad_edges.get(node)
        edges = _default_edges(node) if edges is None else edges
        if not edges:
            continue
        _refuse_view_read(node, written)
        if reads_output(node.op, node.inputs) and any(o in olds for o in node.outputs):
            raise RuntimeError(     # eager mode's words (graphnet/_autograd_versions.py)
                f"`{node.op}` (at {node.source or 'unknown line'}): its output, whose values "
                f"its backward reads, was written through `.data` or `detach()` after the "
                f"forward. PyTorch's backward would read the new values; graphnet's computes "
                f"from the inputs and cannot. Write into a clone instead, or make the change "
                f"after backward().")
        passed = {}
        for i, x in enumerate(node.inputs):
            if isinstance(x, Value) and x in olds:
                t = _passed_tensor(node, i, x, olds[x], edges, live)
                if t is not None:
                    passed[i] = t
        if passed:
            new = _new_primals(node, passed, tracer)
            if new:
                result[node] = new
    return result


# Graph ops whose eager result is a view of their input, sharing its storage.
_VIEWS = frozenset(("reshape", "transpose", "permute", "expand", "squeeze", "unsqueeze",
                    "getitem", "diagonal"))


def _is_view(node) -> bool:
    """Whether `node`'s eager result shares its first input's storage: a getitem with an
    index tensor other than a 0-d one (`w[idx]`, a VQ codebook lookup) copies."""
    if node.op not in _VIEWS or not node.inputs:
        return False
    return node.op != "getitem" or all(getattr(x, "shape", ()) == () for x in node.inputs[1:])


def _refuse_view_read(node, written: set) -> None:
    """A saved view of a tensor written through `.data` after the forward (`x @ w.t()`, then
    `w.data.mul_(0.5)`): PyTorch's backward reads the view's new values, and a traced one
    would read the old ones, so it raises."""
    views = [i for i, x in enumerate(node.inputs) if isinstance(x, Value) and x in written
             and x.node is not None and _is_view(x.node)]
    if not views:
        return
    reads = _reads(node.op, node.inputs, written=True)
    if reads is None or any(i in reads for i in views):
        raise TraceError(
            f"backward inside graphnet.compile: `{node.op}` (at {node.source or 'unknown line'}) "
            f"saved a view of a tensor written through `.data` after the op ran; PyTorch's "
            f"backward reads the view's new values, and a traced backward cannot. Write "
            f"through `.data` after backward(), or run this code uncompiled.")


def _passed_tensor(node, i: int, value: Value, swapped: list, edges, live: list):
    """The swapped tensor that `node` read at input `i` (its old value `value`), or None when
    it was another tensor holding those values (an alias made before the swap)."""
    if len(swapped) > 1:
        raise TraceError(
            f"backward inside graphnet.compile: `{node.op}` (at {node.source or 'unknown line'}) "
            f"read %{value.name}, whose tensors were each given other storage (`.data =`) "
            f"after it ran; a trace cannot tell which one it read. Replace `.data` before the "
            f"forward or after backward(), or run this code uncompiled.")
    t = swapped[0]
    read_with_grad = i in edges
    if read_with_grad != (bool(t.requires_grad) and _autograd.differentiable(value.dtype)):
        return None     # the op read another tensor on these values: an alias keeps them
    if not read_with_grad and any(s is not t and s._value is value for s in live):
        raise TraceError(
            f"backward inside graphnet.compile: `{node.op}` (at {node.source or 'unknown line'}) "
            f"read %{value.name}, held both by a tensor given other storage (`.data =`) after "
            f"the op ran and by another tensor (a `.detach()` / `.data` alias): PyTorch's "
            f"backward reads the new values for the first and the old ones for the other, and "
            f"a trace does not record which one the op read. Replace `.data` before the "
            f"forward or after backward(), or run this code uncompiled.")
    return t


def _new_primals(node, passed: dict, tracer) -> dict:
    """{input index: new Value} for the inputs of `node` its backward reads (`_reads`; for a
    tensor only written through `.data` since, never given other storage, also those PyTorch
    saved as views of it: `linear`'s `weight.t()`)."""
    reads = _reads(node.op, node.inputs)
    written_reads = _reads(node.op, node.inputs, written=True)
    name = _autograd.backward_name(node.op)
    if reads is None:
        raise RuntimeError(
            f"{name}: the `.data` of a tensor this op saved for backward was replaced "
            f"after the forward, and graphnet does not know whether PyTorch's backward for "
            f"`{node.op}` reads the old or the new values. Replace `.data` before the "
            f"forward or after backward().")
    new = {}
    for i, t in passed.items():
        written = id(t) in tracer.alias_written and id(t) not in tracer.storage_replaced
        if i not in (written_reads if written and written_reads is not None else reads):
            continue
        old, current = node.inputs[i], t._value
        if tuple(current.shape) != tuple(old.shape) or \
                np.dtype(current.dtype) != np.dtype(old.dtype):
            raise RuntimeError(
                f"{name}: the `.data` of input {i} was replaced after the forward by one of "
                f"shape {list(current.shape)} and dtype {np.dtype(current.dtype).name}; the "
                f"backward reads it and needs shape {list(old.shape)} and dtype "
                f"{np.dtype(old.dtype).name}")
        new[i] = current
    return new
