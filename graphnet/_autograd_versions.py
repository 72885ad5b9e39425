"""Version counters: PyTorch's "modified by an inplace operation" error.

Every in-place write bumps its tensor's `_version` (Tensor._assign calls `note_inplace`), as
PyTorch's does. A backward that reads a tensor its op saved must see the values of the
forward: `b = a * a; a.mul_(3); b.sum().backward()` raises in PyTorch instead of giving a
gradient of values that no longer exist. Here a tape node keeps the saved arrays and weak
references to the tensors they came from (`TapeNode.sources`), so the check is lazy and
costs no per-op work: when the node's backward runs, a source whose values are no longer
the saved array was written since (by an in-place op, an optimizer step, a view or alias
sharing its storage ...). Which saved inputs count is PyTorch's choice per op
(`_autograd_data_swap._checked`: `linear` saves `weight.t()`, a view sharing the weight's
version, and `x @ w` saves `w` only when `x` needs a gradient); an op that saves its output
(`exp`, `relu` ...) is marked when that output is written (`TapeNode.dirty`). A view
shares its storage owner's counter, as in PyTorch (`version`): a saved view
(`_autograd_data_swap.ViewRef`) holds the owner's counter, so `z = x[0] * x[1]; x[2] = 0`
raises although the temporary views are gone.

NOTE: an op the `_reads` table does not know keeps the values saved at the forward, as
before, and does not raise: raising there would refuse backward passes PyTorch allows.

NOTE: a write through `.data` (`x.data.mul_(2)`) leaves the version as it is in PyTorch, and
PyTorch's backward then reads the new values: here it is recorded as a `.data =` swap
(graphnet/_autograd_data_swap.py), with the same effect. A write through `x.detach()` bumps
`x`'s version, as in PyTorch: `detach()` marks its alias `_shares_version`
(`note_alias_write`), so a backward that saved `x` raises; before, it read the new values."""

from __future__ import annotations

import re
import weakref

from . import _autograd_data_swap as _data_swap

# A tensor a forward writes in place but PyTorch makes anew on each forward (a hook-based
# weight_norm's weight, graphnet/nn/utils/_norms.py): the saved arrays of an earlier forward
# are still right, so its writes refuse no backward (eagerly, nor traced:
# compiler/autodiff_versions.py).
RECOMPUTED = "_recomputed_each_forward"

# Set by the first in-place write: until then every version is 0, and a tape node records
# none (op_node), so programs that never write in place do no per-op work for this.
bumped = False

def version(t) -> int:
    """`t._version`: how many in-place writes `t` has had. A view shares its storage owner's
    counter, as in PyTorch: writing either one bumps both. An inference tensor has none."""
    if t.__dict__.get("_inference"):
        raise RuntimeError("Inference tensors do not track version counter.")
    owner = t.__dict__.get("_storage")
    return _data_swap.counter_owner(t if owner is None else owner).__dict__.get("_version", 0)


def versions_of(args) -> list | None:
    """The versions of an op's arguments (0 for numbers), for the error's message; None when
    all are 0. NOTE: on every recorded op once some tensor was written in place: a plain
    loop (a generator into tuple() cost about twice as much)."""
    versions = None
    for i, a in enumerate(args):
        state = getattr(a, "__dict__", None)
        if state and "_storage" in state:      # a view: its owner's counter
            state = state["_storage"].__dict__
        if state and "_version" in state:
            if versions is None:
                versions = [0] * len(args)
            versions[i] = state["_version"]
    return versions


def note_inplace(t, result) -> None:
    """Tensor._assign, after its checks and before `t` takes `result`'s values and history."""
    global bumped
    bumped = True
    state = t.__dict__
    owner = state.get("_storage")
    if owner is not None:
        # a view: its counter is its owner's, which the write through it (Tensor._assign's
        # `_view`) bumps; `now` is the version that write gives it
        now = version(t) + 1
        _mark_saved(owner, now)
    else:
        now = _bump(state)
        _mark_saved(t, now)
    node = t.grad_fn
    if node is not None and _data_swap.reads_output(node.name_, node.saved):
        _mark_output(node, t, now, through_data=False)
    holder = _data_swap.counter_owner(t if owner is None else owner).__dict__
    if "_output_readers" in holder:
        _mark_readers(holder["_output_readers"], now)
    made = result.grad_fn
    if owner is not None and made is not None and (
            made.name_ in _INPLACE_SAVES_RESULT
            or _data_swap.reads_output(made.name_, made.saved)):
        # `F.relu(h[:, :2], inplace=True)`: the node saves its output, a view sharing the
        # base's counter, as PyTorch's relu_ saves the view itself; a later write of the base
        # or any view of it (`h.mul_(2)`) must refuse its backward (it read the old values)
        # (the write through to the base that follows, at the same version, is this one)
        holder.setdefault("_output_readers", []).append(
            (weakref.ref(made), result._oi, tuple(result._value.shape), result.dtype, now))
    if result.grad_fn is not None:
        _release_own_nodes(result.grad_fn, t, node)
    on_inplace = _tracer_hook("on_inplace")
    if on_inplace is not None:      # a trace: compiler/autodiff_versions.py, the same rule
        on_inplace(t, result, now)


# The in-place forms whose PyTorch backward reads the result (leaky_relu_, elu_,
# rrelu_with_noise_), though their out-of-place forms read the input (measured against torch
# 2.13 with a later write of the base; celu_ and selu_ too, which graphnet computes as a
# product and leaves unmarked)
_INPLACE_SAVES_RESULT = frozenset(("leaky_relu", "elu", "rrelu"))


def _mark_readers(readers: list, now: int) -> None:
    """Mark the nodes of `readers` (in-place ops on views of one storage that save their
    output: the node, its output's index, shape and dtype, the version it saved) written
    since as written at version `now`; drop the entries of nodes gone."""
    alive = []
    for entry in readers:
        node = entry[0]()
        if node is None:
            continue
        alive.append(entry)
        if now > entry[4]:
            if node.dirty is None:
                node.dirty = [entry[1], entry[4], now, entry[2], entry[3], False]
            else:
                node.dirty[2] = now
    readers[:] = alive


def _mark_saved(t, now: int) -> None:
    """Mark the tape's references to `t` (`_data_swap.SavedRef`) with its new version, for a
    backward that finds `t` gone (a temporary of a helper)."""
    for ref in weakref.getweakrefs(t):
        if type(ref) is _data_swap.SavedRef:
            ref.written = now


def note_step(t) -> None:
    """An optimizer step wrote `t` (graphnet/optim stores the new values): one more version,
    as PyTorch's in-place update under no_grad gives, so a backward through a forward that
    saved the old weights raises (the GAN mistake: `d_opt.step()` before the generator's
    loss, built on the same discriminator forward, is backpropagated). Eagerly the tape also
    sees the new array; a trace sees only the version (compiler/autodiff_versions.py)."""
    global bumped
    bumped = True
    state = t.__dict__
    owner = state.get("_storage")
    _bump(state if owner is None else owner.__dict__)


def _bump(state: dict) -> int:
    """One more in-place write of the tensor whose `__dict__` is `state`: its new version, in
    the box its saved views hold too (`_autograd_data_swap.version_box`)."""
    now = state["_version"] = state.get("_version", 0) + 1
    box = state.get("_version_box")
    if box is not None:
        box[0] = now
    return now


# How many nodes behind an in-place op's result `_release_own_nodes` looks at.
_OWN_NODES = 16

# The other tensor operands of the in-place method writing now (graphnet/_overlap.py): what
# made them is not the method's own (`y += h * (y @ w)`: the matmul saved `y`, and PyTorch
# raises at backward; its reference to `y` was dropped, so the write went unnoticed).
operands: tuple = ()


def assign_from(t, result, others: tuple):
    """`t._assign(result)` of an in-place method whose other operands are `others`."""
    global operands
    operands = others
    try:
        return t._assign(result)
    finally:
        operands = ()


def _release_own_nodes(start, t, before) -> None:
    """The nodes that computed the in-place op's result (`x.mish_()`: softplus, tanh, mul)
    saved `t` as it was before this write: PyTorch's in-place op is one op, which keeps those
    values for its own backward, so the write is not an error for them. Their references to
    `t` are dropped. The walk stops at what made the method's other operands (`operands`:
    `x.add_(f(x))` raises as in PyTorch when `f` saved `x`). NOTE: an in-place form written
    without graphnet/_overlap.py's wrapper (`F.relu(x, inplace=True)`) names no operands."""
    from ._autograd import TapeNode   # NOTE: graphnet._autograd imports this module

    value = t._value
    stack = [start]
    seen = {id(a.grad_fn) for a in operands if getattr(a, "grad_fn", None) is not None}
    limit = _OWN_NODES + len(seen)
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is before or id(node) in seen:
            continue         # `t`'s own history is older than this op, as are the operands
        seen.add(id(node))
        sources = node.sources
        if sources is not None and node.saved is not None:
            node.sources = tuple(None if ref is not None and ref() is t and s is value else ref
                                 for ref, s in zip(sources, node.saved))
        stack.extend(target for target, _ in node.edges if isinstance(target, TapeNode))


def note_alias_write(alias, base, new_value) -> None:
    """A write through `alias` of `base` (Tensor._assign). Through `.data` (`base.data.mul_(2)`)
    `base`'s values change, its version does not, and a backward reads the new values, as in
    PyTorch. An alias marked `_shares_version` (what `detach()` gives in PyTorch) counts as
    an in-place write of `base` itself."""
    node = base.grad_fn
    if alias.__dict__.get("_shares_version"):
        now = _bump(base.__dict__)
        _mark_saved(base, now)
        if node is not None and _data_swap.reads_output(node.name_, node.saved):
            _mark_output(node, base, now, through_data=False)
        return
    _data_swap.note_swap(base, base._value, new_value, written=True)
    if node is not None and _data_swap.reads_output(node.name_, node.saved):
        _mark_output(node, base, version(base), through_data=True)
    on_alias_write = _tracer_hook("on_alias_write")
    if on_alias_write is not None:  # a trace: its backward reads the new values too
        on_alias_write(base)


def _tracer_hook(name: str):
    """The active mode's method `name` (a tracer's), or None eagerly. On every in-place write:
    the mode stack is looked up once per process, not imported per call."""
    global _modes
    if _modes is None:
        from . import _mode as _modes   # NOTE: lazily, as _mode imports _autograd
    mode = _modes.current_mode()
    return None if mode is None else getattr(mode, name, None)


_modes = None


def _mark_output(node, t, now: int, through_data: bool) -> None:
    if node.dirty is None:
        node.dirty = [t._oi, now - 1, now, tuple(t._value.shape), t.dtype, through_data]
    else:
        node.dirty[2] = now


def current_saved(node, saved: tuple) -> tuple:
    """The saved inputs `node`'s backward reads now (TapeNode.apply, vjp_on_tape): raises
    PyTorch's error where one was written in place since the forward, and takes the new
    values of those whose `.data` was replaced."""
    dirty = node.dirty
    if dirty is not None:
        raise _output_error(node, dirty)
    sources = node.sources
    if sources is None:
        return saved
    gone = False
    for ref, s in zip(sources, saved):
        if ref is not None:
            t = ref()
            if t is None:
                gone = True
            elif t._value is not s:
                if bumped and gone:
                    _refuse_written_gone(node, saved, sources)
                return _resolve(node, saved, sources)
    if bumped and (gone or _data_swap.views_saved):
        _refuse_written_gone(node, saved, sources)
    if (_data_swap.swaps_made or _data_swap.aliases_saved) and _data_swap.views_saved \
            and _data_swap.owner_moved(sources):
        return _resolve(node, saved, sources)   # a saved view's owner written through `.data`
    return saved


def _refuse_written_gone(node, saved: tuple, sources: tuple) -> None:
    """PyTorch's error for a saved tensor written in place since the forward and gone by the
    backward: a saved view whose storage owner was written (the view shares the owner's
    counter, and a temporary view, `z = x[0] * x[1]; x[2] = 0`, is gone by then, so its
    owner's version decides), or a temporary marked when it was written (`_mark_saved`)."""
    reads = None
    for i, ref in enumerate(sources):
        kind = type(ref)
        if kind is _data_swap.ViewRef:
            if ref.box[0] == ref.owner_version:
                continue
        elif kind is not _data_swap.SavedRef or ref() is not None \
                or getattr(ref, "written", None) is None:
            continue
        if reads is None:
            reads = _data_swap._checked(node.name_, saved, node.needs) or ()
        if i in reads:
            raise _view_error(node, saved[i], ref) if kind is _data_swap.ViewRef \
                else _gone_error(node, i, saved[i], ref.written)


def _resolve(node, saved: tuple, sources: tuple) -> tuple:
    reads = _data_swap._reads(node.name_, saved)
    written_reads = _data_swap._reads(node.name_, saved, written=True)
    checked = _data_swap._checked(node.name_, saved, node.needs)
    swapped = {}
    for i, (ref, s) in enumerate(zip(sources, saved)):
        if type(ref) is _data_swap.ViewRef:   # alive or not: its owner's `.data` writes
            new = _data_swap.view_written(ref, s)
            if new is not None:
                swapped[i] = (new, True)
                continue
            if ref.box[0] != ref.owner_version and checked is not None and i in checked:
                raise _view_error(node, s, ref)   # its owner written in place, as a leaf
                # beside it (`w @ w.detach().t()`, then `w.add_(1)`) is
        t = ref() if ref is not None else None
        if t is None or t._value is s or RECOMPUTED in t.__dict__:
            continue
        new = _data_swap._swapped_to(t, s)
        if new is not None:
            swapped[i] = new
        elif checked is not None and i in checked:
            raise _modified_error(node, i, t)
    return _data_swap.with_swaps(node, saved, swapped, reads, written_reads) \
        if swapped else saved


_HINT = ("Hint: the backward of {node} reads the values this tensor had at the forward. "
         "Change a clone instead (`x = x.clone()` before the in-place op), use the "
         "out-of-place op (`x = x * 3` for `x.mul_(3)`), or make the change after backward().")


def _describe(shape, dtype) -> str:
    from ._dtype_methods import _TYPE_NAMES

    return f"[torch.{_TYPE_NAMES.get(dtype, dtype.name)} {list(shape)}]"


def _forward_name(node) -> str:
    return re.sub(r"Backward\d*$", "", node.name())


def _modified_error(node, i: int, t) -> RuntimeError:
    expected = node.versions[i] if node.versions is not None else 0
    return _modified_error_at(t, expected, node.name())


def _modified_error_at(t, expected: int, reader: str) -> RuntimeError:
    now = max(version(t), expected + 1)   # an optimizer step writes without an in-place op
    owner = f", which is output {t._oi} of {_forward_name(t.grad_fn)}," \
        if t.grad_fn is not None else ""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {_describe(t._value.shape, t.dtype)}{owner} is at version {now}; "
        f"expected version {expected} instead. " + _HINT.format(node=reader))


def _view_error(node, value, ref) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {_describe(value.shape, ref.dtype)}, which is output 0 of "
        f"AsStridedBackward0 (a view: it shares its base's version), is at version "
        f"{ref.box[0]}; expected version {ref.owner_version} instead. "
        + _HINT.format(node=node.name()))


def _gone_error(node, i: int, value, now: int) -> RuntimeError:
    from ._dtype import from_np

    expected = node.versions[i] if node.versions is not None else 0
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {_describe(value.shape, from_np(value.dtype))} is at version "
        f"{now}; expected version {expected} instead. " + _HINT.format(node=node.name()))


def refuse_modified_saved(saved_at) -> None:
    """A custom Function's `ctx.saved_tensors`: PyTorch's error when one of them was written
    in place since the forward (`saved_at`: (tensor, its version after the forward))."""
    for t, expected in saved_at:
        if version(t) != expected:
            raise _modified_error_at(t, expected, "this custom Function")


def _output_error(node, dirty) -> RuntimeError:
    index, expected, now, shape, dtype, through_data = dirty
    if through_data:
        return RuntimeError(
            f"{node.name()}: its output {index}, whose values its backward reads, was written "
            f"through `.data` or `detach()` after the forward. PyTorch's backward would read "
            f"the new values; graphnet's computes from the inputs and cannot. Write into a "
            f"clone instead, or make the change after backward().")
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {_describe(shape, dtype)}, which is output {index} of "
        f"{_forward_name(node)}, is at version {now}; expected version {expected} instead. "
        + _HINT.format(node=node.name()))


def attach(cls) -> None:
    """Give `Tensor` its `_version` (graphnet/autograd/_engine.py calls it once)."""
    cls._version = property(version, doc="How many in-place writes this tensor has had.")
