"""`graphnet.func.vmap`: run a function over a batch dimension with `jax.vmap`.

The function runs once, on graphnet Tensors that wrap JAX's batch tracers: every eager op's
kernel is a JAX function, so JAX batches it (no Python loop over the batch). Autograd sees the
whole call as one tape node whose VJP is `jax.vjp` of the same batched function.

What that node must differentiate is found while the function runs: a `_VmapMode` sees every
op's inputs and collects the tensors that require grad and were made outside the call (the
batched arguments, closed-over parameters, unbatched arguments). Its backward runs the
function again under `jax.vjp`, with those tensors' payloads swapped for JAX's tracers, so a
closed-over `model.weight` gets its summed gradient and autograd inside the function (per
sample gradients, `vmap(grad(f))`) still finds its leaves.

>>> per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from . import _autograd, _func_vmap_tape as _vmap_tape
from ._aliases import share_value
from ._errors import dimension_error
from ._func_active import transform_running
from ._func_tape import flatten as _flatten, mapped_results, unflatten as _unflatten
from ._func_vmap_rng import rng_restored as _rng_restored
from ._func_vmap_rng import rng_state as _rng_state
from ._mode import DispatchMode, current_mode, push_mode
from ._tensor import Tensor
from ._x64 import x64

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")


def _is_leaf(x) -> bool:
    return x is None or isinstance(x, Tensor)


class _VmapMode(DispatchMode):
    """Active while the vmapped function runs: finds the outside tensors it differentiates
    (`boundary`), refuses what vmap cannot do (random ops under randomness='error',
    `.item()` on a batched value; `backward()` is refused for every transform, by
    graphnet/_func_active.py), and passes every op on to the mode below."""

    keeps_released_values = True   # a transform's results inside (_func_tape._released)

    def __init__(self, parent, randomness: str, name: str, rerun: bool = False):
        self.parent, self.randomness, self.name = parent, randomness, name
        # the rerun under jax.vjp (`_Call._node`) keeps the tape's rules: docs/architecture.md
        self.differentiated_by_jax = rerun or getattr(parent, "differentiated_by_jax", False)
        self.inside: dict = {}       # id -> tensor made during the call (kept alive: ids stay)
        self.boundary: dict = {}     # id -> outside tensor that requires grad, first use order
        self.written: dict = {}      # id -> (outside or input tensor, payload before the call)
        self.trace = None            # JAX's batch trace of this call (set by `_Call._body`)
        self.unbatched_written: list = []   # tensors made here, unbatched, being written

    def mark_inside(self, t) -> None:
        self.inside[id(t)] = t
        if isinstance(self.parent, _VmapMode):
            self.parent.mark_inside(t)

    def saw(self, args) -> None:
        for a in args:
            # NOTE: a value batched by this call was made inside it, by an op of this mode
            # or by autograd's engine (`grad(f)`'s results, whose tracers escaped before)
            if isinstance(a, Tensor) and a.requires_grad and id(a) not in self.inside \
                    and not self.batched(a._value):
                self.boundary.setdefault(id(a), a)

    def run_op(self, opdef, args, attrs):
        self.check_unbatched_writes()
        if opdef.random and self.randomness != "same":
            if self.randomness == "error":
                raise RuntimeError(
                    "vmap: called random operation while in randomness error mode. Please "
                    "either use the 'same' or 'different' randomness flags on vmap or perform "
                    "the randomness operation out of vmap")
            raise RuntimeError(
                f"vmap(randomness='different'): graphnet cannot draw different random numbers "
                f"per sample (op {opdef.name!r} in {self.name}); use randomness='same' or draw "
                f"the random tensor outside vmap and pass it in batched")
        self.saw(args)
        out = (self.parent or super()).run_op(opdef, args, attrs)
        constant = self.differentiated_by_jax and not _autograd.grad_mode.enabled
        for t in (out if isinstance(out, tuple) else (out,)):
            self.mark_inside(t)
            if constant:
                t._value = jax.lax.stop_gradient(t._value)
        return out

    def on_tensor_created(self, t) -> None:    # also a `detach()` / `.data` alias
        self.mark_inside(t)
        if self.differentiated_by_jax:
            t._value = jax.lax.stop_gradient(t._value)

    def on_write(self, t) -> None:
        # NOTE: also called when an alias is made (`p.detach()`); whether a write happened
        # is checked after the function returns (`check_writes`)
        if id(t) not in self.inside or id(t) in self.written:
            self.written.setdefault(id(t), (t, _snapshot(t)))
        elif not self.batched(t._value):
            self.unbatched_written.append(t)
        if self.parent is not None:
            self.parent.on_write(t)

    def batched(self, value) -> bool:
        return self.trace is not None and getattr(value, "_trace", None) is self.trace

    def batched_like(self, source, t):
        """A factory's result `t` (`zeros_like(x)`, `x.new_zeros(3)`) batched when `source`
        is, as PyTorch's vmap makes it: its values, selected against a batched scalar."""
        value = getattr(source, "_value", None)
        if self.batched(value):
            anchor = jnp.sum(value == value)   # any batched scalar
            with x64():      # (outside it JAX made a float64 factory float32: 0.1 rounded)
                t._value = jnp.where(True, t._value, anchor.astype(t._value.dtype))
        elif isinstance(self.parent, _VmapMode):   # batched by an enclosing vmap
            return self.parent.batched_like(source, t)
        return t

    def check_unbatched_writes(self) -> None:
        """PyTorch's error for a batched value written into a tensor that has no batch
        dimension (`torch.zeros(3).copy_(x)` inside vmap): checked after the write (the
        next op, or the end of the call), since `on_write` comes before it."""
        written, self.unbatched_written = self.unbatched_written, []
        for t in written:
            if self.batched(t._value):
                raise RuntimeError(
                    "vmap: inplace arithmetic(self, *extra_args) is not possible because there "
                    "exists a Tensor `other` in extra_args that has more elements than `self`. "
                    "This happened due to `other` being vmapped over but `self` not being "
                    "vmapped over in a vmap. Please try to use out-of-place operators instead "
                    "of inplace arithmetic. If said operator is being called inside the "
                    "PyTorch framework, please file a bug report instead.")

    def track_input(self, t) -> None:
        self.written[id(t)] = (t, _snapshot(t))

    def check_writes(self) -> None:
        self.check_unbatched_writes()
        for t, before in self.written.values():
            if t._value is not before[0]:
                raise RuntimeError(
                    f"vmap: {self.name} wrote in place to a tensor of shape "
                    f"{tuple(before[0].shape)} that it did not create (an input or a tensor "
                    f"from outside the call); graphnet's vmap does not support in-place updates "
                    f"of those. Use the out-of-place op (`x + y` for `x.add_(y)`) and return "
                    f"the result. A module's buffer updated in training mode is one (BatchNorm's "
                    f"running statistics): call .eval(), or use track_running_stats=False.")

    def restore_written(self) -> None:
        """Put back every written tensor from outside the call, with its aliases and views.
        NOTE: only the first was, and only when the refusal itself raised: vmap over a
        training BatchNorm raised yet left a batch tracer in `running_mean`, and every later
        use of the module failed with JAX's TracerArrayConversionError."""
        for t, before in self.written.values():
            if t._value is not before[0]:
                t._value, t.grad_fn, t._oi, t.requires_grad = before
                share_value(t)

    def on_value_read(self, t, what: str) -> None:
        if isinstance(t._value, jax.core.Tracer):   # a batched (or otherwise traced) value
            self.concretize(t, what)
        elif self.parent is not None:
            self.parent.on_value_read(t, what)

    def concretize(self, t, what: str):
        if what == "item()":
            raise RuntimeError(
                "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap "
                "over calling .item() on a Tensor, please try to rewrite what you're doing with "
                "other operations.")
        raise RuntimeError(
            f"vmap: It looks like you're attempting to use a Tensor in some data-dependent "
            f"control flow ({what}). graphnet's vmap does not support that; use "
            f"graphnet.where or arithmetic instead.")


def vmap_active() -> bool:
    """Whether a vmapped function is running (some mode on the stack is a `_VmapMode`): its
    tensors may hold batch tracers, which a compiled program cannot take as arguments."""
    mode = current_mode()
    while mode is not None:
        if isinstance(mode, _VmapMode):
            return True
        mode = getattr(mode, "parent", None)
    return False


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """`func` mapped over dimension `in_dims` of its inputs, as `torch.func.vmap`.

    `chunk_size` only bounds PyTorch's memory; graphnet maps the whole batch at once (same
    values). randomness='same' draws one set of random numbers for the whole batch;
    'different' raises. Inside `graphnet.compile` it is traced on one sample and compiles
    to `jax.vmap` of that sub-graph.

    >>> vmap(torch.dot)(x, y)          # x, y: [B, N] -> [B]
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return _Call(func, in_dims, out_dims, randomness, args, kwargs).run()

    return wrapped


def _fname(func) -> str:
    return getattr(func, "__name__", type(func).__name__)


class _Call:
    """One call of a vmapped function: the inputs sorted out, then the forward and its node."""

    def __init__(self, func, in_dims, out_dims, randomness, args, kwargs):
        self.func, self.kwargs, self.randomness = func, kwargs, randomness
        self.out_dims, self.name = out_dims, _fname(func)
        where = f"vmap({self.name}, in_dims={in_dims}, ...)(<inputs>)"
        if not args:
            raise ValueError(f"vmap({self.name})(<inputs>): got no inputs. Maybe you forgot "
                             f"to add inputs, or you are trying to vmap over a function with "
                             f"no inputs. The latter is unsupported.")
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        self.leaves, self.tree = _flatten(args)
        dims = _broadcast(in_dims if isinstance(in_dims, int) else tuple(in_dims), args,
                          f"{where}: in_dims is not compatible with the structure of `inputs`.")
        self.batched, self.axes, sizes = [], [], []
        for i, (leaf, dim) in enumerate(zip(self.leaves, dims)):
            if dim is None:
                continue
            if not isinstance(dim, int) or isinstance(dim, bool):
                raise ValueError(f"{where}: Got in_dim={dim!r} for an input but in_dim must "
                                 f"be either an integer dimension or None.")
            if not isinstance(leaf, Tensor):
                raise ValueError(f"{where}: Got in_dim={dim} for an input but the input is of "
                                 f"type {type(leaf)}. We cannot vmap over non-Tensor "
                                 f"arguments, please use None as the respective in_dim")
            rank = leaf.dim()
            if not -rank <= dim < rank:
                raise ValueError(f"{where}: Got in_dim={dim} for some input, but that input is "
                                 f"a Tensor of dimensionality {rank} so expected in_dim to "
                                 f"satisfy -{rank} <= in_dim < {rank}.")
            self.batched.append(i)
            self.axes.append(dim % rank)
            sizes.append(leaf.shape[dim])
        if not self.batched:
            raise ValueError(f"{where}: Got all in_dims=None. At least one input must be "
                             f"batched (a Tensor with an integer in_dim).")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        self.size = sizes[0]
        self.out_tree = self.out_axes = None
        self.boundary: list = []

    # ---- the batched function -------------------------------------------------------------
    def _body(self, mode, arrays, boundary_arrays):
        """The user's function on one sample (JAX maps it): arrays in, arrays out."""
        leaves = list(self.leaves)
        mode.trace = _trace_of(arrays)
        for i, a in zip(self.batched, arrays):
            t = Tensor._wrap(a)
            mode.mark_inside(t)
            mode.track_input(t)
            leaves[i] = t
        saved = [(t, t._value) for t in self.boundary]
        try:
            for t, a in zip(self.boundary, boundary_arrays):
                t._value = a
            with push_mode(mode), transform_running():
                out = self.func(*_unflatten(self.tree, leaves),
                                **self.kwargs)
            mode.check_writes()
        except BaseException:
            mode.restore_written()
            raise
        finally:
            for t, a in saved:
                t._value = a
        outs, tree = mapped_results(self.name, out)
        if self.out_tree is None:
            self.out_tree = tree
            where = f"vmap({self.name}, ..., out_dims={self.out_dims})(<inputs>)"
            self.out_axes = _broadcast(self.out_dims, out, f"{where}: out_dims is not "
                                       f"compatible with the structure of `outputs`.")
        ours = _trace_of(arrays)
        for o, axis in zip(outs, self.out_axes):
            if axis is None and ours is not None and getattr(o._value, "_trace", None) is ours:
                raise ValueError(f"vmap({self.name}, ...): `{self.name}` can not return a "
                                 f"BatchedTensor when out_dim is None")
        return tuple(o._value for o in outs)

    def batched_fn(self, arrays, boundary_arrays, mode):
        """All outputs, batch dimension where `out_dims` puts it (taken off for None)."""
        outs = jax.vmap(functools.partial(self._body, mode), in_axes=(self.axes, None),
                        out_axes=0, axis_size=self.size)(list(arrays), list(boundary_arrays))
        result = []
        for o, axis in zip(outs, self.out_axes):
            if axis is None:
                result.append(o[0])
                continue
            if not -o.ndim <= axis < o.ndim:
                raise dimension_error(axis, o.ndim)
            result.append(jnp.moveaxis(o, 0, axis))
        return result

    # ---- the call -----------------------------------------------------------------------
    def run(self):
        parent = current_mode()
        if parent is not None and parent.records_graph:   # inside graphnet.compile
            return parent.vmap(self)     # one sub-graph node (compiler/vmap_trace.py)
        mode = _VmapMode(parent, self.randomness, self.name)
        inputs = [self.leaves[i] for i in self.batched]
        rng = _rng_state() if self.randomness == "same" else None
        outs = self.batched_fn([t._value for t in inputs], (), mode)
        self.boundary = list(mode.boundary.values())
        if isinstance(parent, _VmapMode):    # a nested vmap: the outer one differentiates
            parent.saw(inputs)               # what this one reads
            parent.saw(self.boundary)
        node, index = self._node(inputs, outs, rng)
        node = _vmap_tape.refusing(node, mode, self.name)   # an outside graph walked
        results = [Tensor._wrap(o, node, index[k]) if k in index else Tensor._wrap(o)
                   for k, o in enumerate(outs)]
        for t in results:
            if isinstance(parent, _VmapMode):   # made there, not an alias (no stop_gradient)
                parent.mark_inside(t)
            elif parent is not None:
                parent.on_tensor_created(t)
        return _unflatten(self.out_tree, results)

    def _node(self, inputs, outs, rng):
        """The tape node of the whole call and {output position: its index on the node};
        (None, {}) when nothing needs a gradient."""
        diff_outs = [k for k, o in enumerate(outs) if o.dtype in _autograd.GRAD_DTYPES]
        sources = inputs + self.boundary
        needs = tuple(i for i, t in enumerate(sources) if t.requires_grad)
        if not (_autograd.grad_mode.enabled and needs and diff_outs):
            return None, {}
        saved = tuple(t._value for t in sources)
        n_in = len(inputs)

        def vjp(primals, cts):
            def pure(*diff):
                full = list(primals)
                for i, d in zip(needs, diff):
                    full[i] = d
                mode = _VmapMode(current_mode(), self.randomness, self.name, rerun=True)
                # grad on, as when the call ran (its node exists only then): the function's
                # own no_grad blocks are what turns it off
                with _rng_restored(rng), _autograd.enable_grad():
                    outs = self.batched_fn(full[:n_in], full[n_in:], mode)
                return tuple(outs[k] for k in diff_outs)

            _, pull = jax.vjp(pure, *[primals[i] for i in needs])
            return pull(tuple(cts))

        edges = tuple((t.grad_fn, t._oi) if t.grad_fn is not None else (t, None)
                      for t in (sources[i] for i in needs))
        node = _autograd.op_node("vmap", vjp, saved, edges, [outs[k] for k in diff_outs], needs)
        return node, {k: j for j, k in enumerate(diff_outs)}


def _snapshot(t) -> tuple:     # what a write in place changes on `t`, to be put back
    return t._value, t.grad_fn, t._oi, t.requires_grad


def _broadcast(dims, tree, message: str) -> list:
    """One dim per leaf of `tree`, from `dims` (an int or None for a whole subtree; a list in
    `dims` is a subtree too, matching a list argument)."""
    try:
        nested = jax.tree_util.tree_map(
            lambda d, sub: _Dims([d] * len(jax.tree_util.tree_leaves(sub, is_leaf=_is_leaf))),
            dims, tree, is_leaf=lambda d: d is None or isinstance(d, int))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{message} ({err})") from None
    return [d for chunk in jax.tree_util.tree_leaves(
        nested, is_leaf=lambda x: isinstance(x, _Dims)) for d in chunk]


class _Dims(tuple):
    """One subtree's dims, a leaf of `_broadcast`'s tree (a list may be the user's)."""


def _trace_of(arrays):
    return next((a._trace for a in arrays if getattr(a, "_trace", None) is not None), None)
