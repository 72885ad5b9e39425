"""`x.data = other` after a forward that saved `x`: which values the backward reads.

PyTorch saves an op's input as the tensor itself, and `.data =` swaps that tensor's storage
without bumping its version, so the backward reads the new values (`y = (w * w).sum();
w.data = ...; y.backward()` gives `2 * new_w`). An op that saves its output instead (`exp`,
`sigmoid`, `relu` ...) or nothing (`add`, `sum`, `x * 3`) is unaffected. A tape node keeps
its primal arrays, so it remembers the tensors they came from (`TapeNode.sources`, weak
references) and, when one of them had only `.data =` swaps since (`note_swap`), takes the
new values for the inputs PyTorch's backward reads (`READS`). An op this table does not
know raises instead of guessing which values PyTorch would use. A write through `.data`
(`x.data.mul_(2)`) is recorded here as a swap too (it changes values, not the version, in
PyTorch); an in-place op on a saved tensor raises PyTorch's error
(graphnet/_autograd_versions.py, which calls `with_swaps`)."""

from __future__ import annotations

import weakref

import numpy as np

# Set by the first `.data =`: until then a backward looks at nothing here.
swaps_made = False

_KEEP = 8   # swaps remembered per tensor (a parameter given new storage every step)


def note_swap(t, old, new, written: bool = False) -> None:
    """`t.data = other` replaced array `old` by `new` (Tensor.data's setter), or, `written`,
    a write through `t.data` changed its values in the same storage (`t.data.mul_(2)`)."""
    global swaps_made
    swaps_made = True
    try:
        entry = (weakref.ref(old), weakref.ref(new), written)
    except TypeError:       # a graph value while tracing: a compiled backward is not a tape
        return
    chain = t.__dict__.setdefault("_data_swaps", [])
    if len(chain) >= _KEEP:
        chain[:] = [e for e in chain if e[0]() is not None][-(_KEEP - 1):]
    chain.append(entry)


def _swapped_to(t, saved):
    """(`t`'s values now, whether every step was a write through `.data` into the same
    storage) if only `.data` swaps and writes led from `saved` to them, else None."""
    current = t._value
    if current is saved:
        return None
    step, written = saved, True
    for old, new, through in t.__dict__.get("_data_swaps", ()):
        if old() is step:
            step, written = new(), written and through
            if step is current:
                return current, written
    return None


# Ops whose backward reads no input value (PyTorch saves sizes at most, or the output).
_SAVES_OUTPUT = frozenset(("exp", "sigmoid", "tanh", "relu", "sqrt", "rsqrt", "reciprocal",
                           "softmax", "log_softmax"))
# Ops whose backward reads their output as well as their inputs: an in-place write to the
# output before backward() raises in PyTorch (`r = cdist(x, x); r.fill_diagonal_(inf)`),
# as it does for the ops above. NOTE: it gave the gradient of the forward's values here.
_ALSO_SAVES_OUTPUT = frozenset((
    "cdist", "norm", "linalg_vector_norm", "expm1", "exp2", "logsumexp", "prod", "amax",
    "amin", "std", "cumprod", "dist", "pdist", "hypot", "logcumsumexp"))
READS_OUTPUT = _SAVES_OUTPUT | _ALSO_SAVES_OUTPUT


def reads_output(op: str, primals) -> bool:
    """Whether the backward of `op` called on `primals` reads its output: the ops above, and
    `pow` with a tensor exponent (`x ** t`, `2 ** t`; not `x ** 2`)."""
    if op in READS_OUTPUT:
        return True
    return op == "pow" and primals is not None and len(primals) > 1 \
        and hasattr(primals[1], "shape")
_UNARY_READS_INPUT = frozenset((
    "sin", "cos", "tan", "log", "log1p", "log2", "log10", "abs", "asin", "acos", "atan",
    "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "square", "gelu", "silu", "softplus",
    "leaky_relu", "hardtanh", "clamp"))


def _reads(op: str, primals, written: bool = False) -> tuple | None:
    """Positions of `primals` whose current values PyTorch's backward for `op` reads (the
    input tensors it saved as themselves; with `written`, after writes through `.data` into
    the same storage, also those it saved as views of it); None: not known here."""
    from ._autograd import NOTHING_SAVED

    arrays = [i for i, p in enumerate(primals) if hasattr(p, "shape")]
    if op in NOTHING_SAVED or op in _SAVES_OUTPUT:
        return ()
    if op in ("mul", "div", "maximum", "minimum"):
        # `x * 3` saves no tensor; `w * x` saves both (each one's gradient reads the other)
        return tuple(arrays) if len(arrays) == 2 else ()
    if op == "pow" and arrays == [0]:      # pow(x, 2.0): saves x
        return (0,)
    if op in _UNARY_READS_INPUT and arrays == [0]:   # clamp(x, t_min): t_min is read too
        return (0,)
    if op == "matmul" and all(len(primals[i].shape) == 2 for i in arrays):
        return tuple(arrays)               # mm saves both operands as themselves
    if op == "linear":
        # PyTorch multiplies by `weight.t()`, a view saved in its place: a new storage
        # (`.data =`) leaves it the old values, a write into the storage (`w.data.mul_(2)`)
        # reaches it; a matrix input is saved itself, another one reshaped (a view, likewise)
        if written:
            return tuple(i for i in arrays if i < 2)
        return (0,) if len(primals[0].shape) == 2 else ()
    if op in _READS_INDICES_ONLY:
        return tuple(i for i in arrays if _INDEX_KINDS.get(np.dtype(primals[i].dtype).kind))
    if op in _SAVES_ALL or op == "batch_norm_eval":
        # eval-mode batch norm saves the input, weight and running statistics as themselves
        # (a `.data =` restore of the running stats before backward() is read, in torch)
        return tuple(arrays)
    return None


# Ops whose PyTorch backward reads only their index or mask inputs, of the source sizes at
# most: a VQ codebook's dead rows restarted through `.data` after `codebook[idx]` keep the
# lookup's gradient (graphnet raised). Not `where` (graphnet writes other functions with it),
# `scatter_reduce` (amax/prod read the values) or `embedding_bag` (per-sample weights).
_READS_INDICES_ONLY = frozenset((
    "gather", "index_select", "getitem", "take", "embedding", "masked_select", "scatter",
    "scatter_add", "index_add", "index_copy", "index_fill", "index_put", "masked_scatter",
    "put"))


# Ops whose backward multiplies the cotangent by the other operands (linear's bias excepted):
# PyTorch saves an operand only when another one needs a gradient (`x @ w` with `x` a
# constant saves `x` alone), as itself or as a view (`weight.t()`, a reshaped input).
_BILINEAR = frozenset(("mul", "matmul", "linear", "einsum"))
# Ops that save every tensor input whatever needs a gradient (convolution, layer_norm).
_SAVES_ALL = frozenset(("conv", "conv_transpose", "layer_norm",
                        # a recurrent layer's cells save the input, the state and the weights
                        # (TBPTT's `opt.step()` before a retained backward raises in torch)
                        "rnn_layer", "gru_layer", "lstm_layer", "rnn_packed_layer",
                        "gru_packed_layer", "lstm_packed_layer"))


# Ops whose PyTorch backward saves every tensor input as itself, for the version check only
# (a `.data` swap still raises in `with_swaps`: most save their result too, and the backward
# mixes the new input with the old result). A DP table written after `logsumexp` read it
# raised in torch and gave the old values' gradient here. NOTE: not `gather` (graphnet's
# max(dim) is a gather, which torch's MaxBackward0 does not version-check) nor `median`
# (median() saves its input, median(dim) does not: one op here).
_SAVES_INPUTS = frozenset((
    "logsumexp", "logcumsumexp", "cumprod", "cummax", "cummin", "amax", "amin", "prod",
    "norm", "linalg_vector_norm", "dist", "cdist", "pdist", "std", "var", "nansum",
    "logaddexp", "xlogy", "atan2", "hypot", "logit", "lgamma", "digamma", "sinc", "elu",
    "normalize", "cosine_similarity", "relu6", "prelu", "mse_loss", "nll_loss"))


def _checked(op: str, primals, needs) -> tuple | None:
    """Positions of `primals` that PyTorch's backward for `op` saved, as themselves or as a
    view sharing their version (`weight.t()`): an in-place write to one of them since the
    forward makes that backward raise. `needs`: the positions that need a gradient (None: not
    known). None: the op is not known here."""
    if op in _BILINEAR:
        operands = [i for i, p in enumerate(primals[:2] if op == "linear" else primals)
                    if hasattr(p, "shape")]
        if len(operands) < 2:
            return ()
        if needs is None:
            return tuple(operands)
        return tuple(i for i in operands if any(j != i and j in needs for j in operands))
    if op in _SAVES_ALL or op in _SAVES_INPUTS:
        return tuple(i for i, p in enumerate(primals) if hasattr(p, "shape"))
    if op in _SAVES_INDICES:
        return tuple(i for i, p in enumerate(primals)
                     if hasattr(p, "shape") and _INDEX_KINDS.get(np.dtype(p.dtype).kind))
    return _reads(op, primals)


# Ops whose PyTorch backward saves their index, label or mask inputs (GatherBackward0's
# `index`, WhereBackward0's `condition`, NllLossBackward0's `target` ...): writing one in place
# before backward() raises there. NOTE: only float inputs were checked; a pointer network's
# `chosen[ar, idx] = True` after `scores.masked_fill(chosen, -inf)` ran on. Not
# `take_along_dim`, whose PyTorch backward gathers through an expanded copy.
_SAVES_INDICES = frozenset((
    "where", "gather", "index_select", "getitem", "masked_select", "scatter", "scatter_add",
    "scatter_reduce", "index_add", "index_copy", "index_fill", "index_put", "masked_scatter",
    "embedding", "embedding_bag", "cross_entropy", "nll_loss", "take", "put"))
_INDEX_KINDS = {"i": True, "u": True, "b": True}


def with_swaps(node, saved: tuple, swapped: dict, reads: tuple | None,
               written_reads: tuple | None = None) -> tuple:
    """`saved` with the inputs PyTorch's backward would read now: `swapped` maps positions
    whose tensor had its storage replaced by `.data =` (or written through `.data`) since
    the forward to (the new values, whether only written). Raises where PyTorch's choice
    (`reads`, or `written_reads` for a position only written, from `_reads`) is not known
    here, or the new storage has another shape or dtype."""
    if reads is None or (written_reads is None and any(w for _, w in swapped.values())):
        raise RuntimeError(
            f"{node.name()}: the `.data` of a tensor this op saved for backward was replaced "
            f"(or written through) after the forward, and graphnet does not know whether "
            f"PyTorch's backward for `{node.name_}` reads the old or the new values. Replace "
            f"`.data` before the forward or after backward().")
    saved = list(saved)
    for i, (new, written) in swapped.items():
        if i not in (written_reads if written else reads):
            continue
        old = saved[i]
        if tuple(new.shape) != tuple(old.shape) or np.dtype(new.dtype) != np.dtype(old.dtype):
            raise RuntimeError(
                f"{node.name()}: the `.data` of input {i} was replaced after the forward by "
                f"one of shape {list(new.shape)} and dtype {np.dtype(new.dtype).name}; the "
                f"backward reads it and needs shape {list(old.shape)} and dtype "
                f"{np.dtype(old.dtype).name}")
        saved[i] = new
    return tuple(saved)


class SavedRef(weakref.ref):
    """A weak reference to a saved tensor that an in-place write of it marks with its new
    version (`written`, graphnet/_autograd_versions.py `_mark_saved`): a temporary written
    and then dropped (`y = x * 2; z = y * y; y.add_(1)` inside a helper) is gone by the
    backward, which still raises PyTorch's error from the mark."""

    __slots__ = ("written",)


class ViewRef(weakref.ref):
    """A weak reference to a saved view that also holds its storage owner's version counter
    (`version_box`) and its value at the forward: a view shares its owner's counter, as in
    PyTorch, and a temporary view (`x[0] * x[1]`) is gone before the owner is written
    (`x[2] = 0`), the owner maybe too, so the backward reads the counter
    (graphnet/_autograd_versions.py `current_saved`)."""

    __slots__ = ("box", "owner_version", "dtype", "owner", "owner_value", "layout", "follows")


def counter_owner(t):
    """The tensor whose version counter `t` uses: a `detach()` alias shares its source's, as
    in PyTorch (`d = w.detach(); y = w @ d.t(); w.add_(1)` then refuses y's backward; before,
    `d._version` stayed 0 and the backward read the old values)."""
    while True:
        state = t.__dict__
        if state.get("_shares_version") and t._alias_src is not None:
            t = t._alias_src
        elif state.get("_storage") is not None and state["_storage"] is not t:
            t = state["_storage"]   # a view's: its storage owner's (`x[:, :1].detach()`)
        else:
            return t


def version_box(owner) -> list:
    """`owner`'s version in a one-element list that outlives it: made when a view of it is
    saved for backward; every in-place write of `owner` updates it
    (graphnet/_autograd_versions.py `_bump`)."""
    state = counter_owner(owner).__dict__
    box = state.get("_version_box")
    if box is None:
        box = state["_version_box"] = [state.get("_version", 0)]
    return box


# Set by the first view saved for backward: until then a backward looks for none.
views_saved = False


def _view_ref(view, owner, counter=None, layout=None) -> ViewRef:
    global views_saved
    views_saved = True
    ref = ViewRef(view)
    ref.box = version_box(owner if counter is None else counter)
    ref.owner_version = ref.box[0]
    ref.dtype = view.dtype
    ref.owner, ref.owner_value = weakref.ref(owner), owner._value
    ref.layout = view.__dict__.get("_layout") or layout
    ref.follows = counter is not None
    return ref


def _alias_ref(alias) -> ViewRef:
    """A saved `.data` or `detach()` alias, as a view of its source's storage owner (a temporary
    one, `x @ queue.detach()`, is gone by the backward). A `detach()` shares the source's
    version counter: a write of the source refuses the backward, as in PyTorch. A `.data`
    alias has its own (`follows`): a write of the source reaches the storage it shares, and
    the backward reads the new values (MoCo's `q @ queue.data; queue.mul_(2)`), as PyTorch's
    does; before, it read the old ones."""
    global aliases_saved
    source = alias._alias_src
    owner = counter_owner(source)
    if alias.__dict__.get("_shares_version"):
        return _view_ref(alias, owner, layout=source.__dict__.get("_layout"))
    aliases_saved = True
    return _view_ref(alias, owner, counter=alias, layout=source.__dict__.get("_layout"))


# Set by the first `.data` alias saved for backward (`owner_moved` is asked from then on).
aliases_saved = False


def owner_moved(sources) -> bool:
    """Whether the storage owner of a saved view among `sources` holds other values than at
    the forward: only then is `view_written` asked (not on every node of every backward once
    some `.data` was swapped somewhere in the process)."""
    for ref in sources:
        if type(ref) is ViewRef:
            owner = ref.owner()
            if owner is not None and owner._value is not ref.owner_value:
                return True
    return False


def view_written(ref, saved):
    """The values a saved view (`ViewRef`) holds now when its storage owner was written
    through `.data` since the forward (`w.data.mul_(0.5)` between `x @ w.t()` and backward:
    PyTorch's saved `w.t()` shares the storage, so its backward reads the new values), else
    None (the owner untouched, gone, or given other storage by `.data =`, which the saved
    view does not follow)."""
    owner = ref.owner()
    if owner is None or owner._value is ref.owner_value:
        return None
    found = _swapped_to(owner, ref.owner_value)
    if ref.follows and found is None:    # a `.data` alias: any write of its source's storage
        if ref.box[0] != ref.owner_version:
            return None     # itself written in place: its own version refuses the backward
        current = owner._value
    elif found is None or not found[1]:
        return None
    else:
        current = found[0]
    if np.dtype(current.dtype) != np.dtype(saved.dtype):
        return None
    from ._strided import _grid
    from ._strides import contiguous_strides

    strides, offset = ref.layout or (contiguous_strides(saved.shape), 0)
    return current.reshape(-1)[_grid(tuple(saved.shape), strides, offset)]


def sources_of(args) -> tuple:
    """Weak references to the tensor arguments of an op (None for numbers); for a view, a
    `ViewRef`. On every eager op that records a node: a plain loop, and the class is looked
    up once, not imported per call."""
    global _Tensor
    if _Tensor is None:
        from ._tensor import Tensor as _Tensor
    refs = []
    for a in args:
        if not isinstance(a, _Tensor):
            refs.append(None)
            continue
        owner = a.__dict__.get("_storage")    # a view (graphnet/_overlap.py `note_view`)
        if owner is not None:
            refs.append(_view_ref(a, owner))
        elif a._alias_src is not None and "_view" not in a.__dict__:   # `.data`, `detach()`
            refs.append(_alias_ref(a))
        else:
            refs.append(SavedRef(a))
    return tuple(refs)


_Tensor = None
