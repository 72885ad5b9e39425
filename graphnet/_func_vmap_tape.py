"""A vmapped function that differentiates an autograd graph recorded before the call.

`vmap(vjp_fn)(V)` (with `vjp_fn` from `func.vjp` outside) or `vmap(lambda v:
autograd.grad(f, z, v, create_graph=True))` walks tape nodes made outside the vmap. The
values are right, but the call's own node (graphnet/_func_vmap.py `_Call._node`) re-runs
the function under `jax.vjp` with only the tensors its ops read swapped for tracers: the
saved arrays of those outside nodes stay constants, so a backward through the result gave
the weights and inputs of the outside graph a silent zero gradient (PyTorch's is not).
Such a walk is noted here (`note_walk`, from the engine), and the call's node then refuses
a backward through it (`refusing`) instead of giving those zeros."""

from __future__ import annotations

from ._mode import current_mode


def note_walk(order) -> None:
    """The engine is about to run a backward that records a graph (create_graph) over the
    nodes `order`: each vmap running now whose own ops did not make one of them notes it."""
    from .autograd._graph import _Identity   # NOTE: autograd imports this module

    mode = current_mode()
    while mode is not None:
        inside = getattr(mode, "inside", None)
        if inside is not None and hasattr(mode, "boundary"):    # a _VmapMode
            made = {id(t.grad_fn) for t in inside.values() if t.grad_fn is not None}
            # NOTE: not a leaf's stand-in in a backward's primals (autograd/_graph._Identity,
            # made by that backward, no saved array to go stale): `vmap(hessian(f))` and
            # `vmap(jvp)` (a backward of a backward) were refused
            if any(id(node) not in made and not isinstance(node, _Identity) for node in order):
                mode.outside_tape = True
        mode = getattr(mode, "parent", None)


_REFUSING: dict = {}


def refusing(node, mode, name: str):
    """`node`, refusing a backward through it when the call walked an outside graph."""
    if node is None or not getattr(mode, "outside_tape", False):
        return node
    base = type(node)
    cls = _REFUSING.get((base, name))
    if cls is None:
        def refusal(self):
            return RuntimeError(
                f"graphnet.func.vmap({name}): the vmapped function "
                f"differentiated an autograd graph recorded before the vmap call (a "
                f"`vjp_fn` from func.vjp, or autograd.grad(..., create_graph=True) of a "
                f"result computed outside). graphnet cannot carry a gradient of the vmapped "
                f"result back through that graph, so it refuses this backward rather than "
                f"miss those gradients. Compute the graph inside the vmapped function, or "
                f"use autograd.grad(..., is_grads_batched=True) or a loop over the rows.")
        cls = _REFUSING[base, name] = type(base.__name__, (base,), {
            "__slots__": (), "__module__": base.__module__, "refusal": refusal})
    node.__class__ = cls
    return node
