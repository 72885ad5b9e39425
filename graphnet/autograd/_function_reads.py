"""Which tensors a custom `autograd.Function`'s backward reads besides its saved ones, for
the compiled form (graphnet/autograd/_function_static.py): each becomes an input of the
call's node, so every call reads its current value."""

from __future__ import annotations

from .._tensor import Tensor


def outside(backward, ctx) -> list:
    """The tensors a backward may read other than through `ctx`'s saved tensors: those its
    closure and the globals it names hold (a module's parameters and buffers included), and
    those of a module kept on `ctx` (`ctx.m.W`). They are inputs of the node, so each call
    reads their current values; before, the program kept the values of the trace (a weight
    read in the backward stayed at its first value while the optimizer moved it)."""
    from ..nn import Module

    fn = getattr(backward, "__func__", backward)
    code = getattr(fn, "__code__", None)
    found: list = []

    def add(value):
        if isinstance(value, Tensor):
            found.append(value)
        elif isinstance(value, Module):
            found.extend(value.parameters())
            found.extend(value.buffers())

    if code is not None:
        for cell in fn.__closure__ or ():
            try:
                add(cell.cell_contents)
            except ValueError:     # a cell not yet bound
                pass
        names = set(code.co_names)
        for const in code.co_consts:    # nested functions and comprehensions
            if hasattr(const, "co_names"):
                names.update(const.co_names)
        module_globals = getattr(fn, "__globals__", {})
        for name in names:
            if name in module_globals:
                add(module_globals[name])
    for value in vars(ctx).values():
        if isinstance(value, Module):
            add(value)
    return found
