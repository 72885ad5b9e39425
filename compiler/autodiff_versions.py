"""torch's "modified by an inplace operation" error for a backward inside a trace.

Eagerly, a tape node compares the tensors its backward reads with their values now
(graphnet/_autograd_versions.py). A traced backward differentiates graph values, and an
in-place write gives a tensor a new value while the op keeps reading the old one, so
`b = a * a; a.mul_(3); b.sum().backward()` compiled returned the gradient of the old values
where eager graphnet and torch raise. The tracer records, for each op recorded for
gradient, the tensors PyTorch's backward would read (the inputs it saves as themselves, per
`_autograd_data_swap._reads`, or its outputs for ops that save those) with their versions
(`note_saved`); a traced backward checks every op on its path (`refuse_modified`)."""

from __future__ import annotations

import weakref

from graphnet import _autograd_data_swap as _data_swap
from graphnet import _autograd_versions as _versions


def note_saved(tracer, node, args, outs) -> None:
    """Remember what `node`'s backward reads (Tracer.run_op, for ops with gradient edges)."""
    if node.op in _data_swap._SAVES_OUTPUT:
        saved = [(i, t) for i, t in enumerate(outs)]
        outputs = True
    else:
        reads = _data_swap._reads(node.op, node.inputs)
        if not reads:
            return
        saved = [(i, args[i]) for i in reads if hasattr(args[i], "_value")]
        outputs = False
    if saved:
        tracer.saved_versions[node] = [
            (i, weakref.ref(t), _versions.version(t), outputs) for i, t in saved]


def refuse_modified(tracer, reachable: set) -> None:
    """Raise torch's error when a tensor an op on the gradient's path saved was written in
    place after that op ran."""
    recorded = tracer.saved_versions
    if not recorded:
        return
    for node in {v.node for v in reachable if v.node is not None}:
        for i, ref, expected, outputs in recorded.get(node, ()):
            t = ref()
            if t is None or _versions.version(t) == expected:
                continue
            where = f"output {i}" if outputs else f"input {i}"
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: {_versions._describe(t._value.shape, t.dtype)}, "
                f"{where} of `{node.op}`"
                f"{' at ' + node.source if node.source else ''}, is at version "
                f"{_versions.version(t)}; expected version {expected} instead. Hint: the "
                f"op's backward reads it; change a clone of it instead, or make the change "
                f"after backward() (inside graphnet.compile, as eagerly)")
