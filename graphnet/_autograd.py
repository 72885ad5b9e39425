"""Dynamic autograd: the tape that eager ops record, and `backward()` over it.

Each recorded op is a `TapeNode`. Its `edges` point at what produced its inputs: another
node (and which of its outputs) or a leaf tensor whose `.grad` receives the result. Pointing at
producers, not at tensors, keeps the tape right when a tensor is later modified in place.
Vector-Jacobian products come from JAX (`jax.vjp` of the op's own kernel), jitted once per
(op, attributes, which inputs need grads) in graphnet._dispatch's bounded kernel cache. The
walk over the tape (`backward()`, `autograd.grad`) is graphnet/autograd/_engine.py."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._grad_mode import (  # noqa: F401  (re-exported: autograd's grad modes)
    _GradMode, _GradModeContext, _NoArgs, enable_grad, grad_mode, inference_mode,
    is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled)
from . import _autograd_data_swap as _data_swap
from . import _autograd_versions as _versions
from ._autograd_versions import assign_from, note_alias_write, note_inplace  # noqa: F401
from ._autograd_nonleaf_grad import warn_nonleaf_grad  # noqa: F401  (Tensor.grad)
from ._grad_edges import AccumulateGrad, accumulator, input_slots  # noqa: F401  (re-exported)
from ._ops import OPS
from ._ops._table import camel_backward


# The element types a gradient can flow through. Integer and bool tensors never require
# grad (PyTorch refuses, and JAX's derivative of an integer is a zero-sized float0).
GRAD_DTYPES = frozenset(np.dtype(d) for d in (
    "float16", "float32", "float64", "complex64", "complex128", jnp.bfloat16))



def differentiable(dtype) -> bool:
    """Whether a gradient can flow through values of `dtype` (floating or complex)."""
    return np.dtype(dtype) in GRAD_DTYPES


def floating(dtype) -> bool:
    """A floating dtype, bfloat16 included (NumPy's kind of bfloat16 is "V", not "f": a
    `dtype.kind == "f"` test silently left bfloat16 out of autograd)."""
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or dtype == _BFLOAT16


_BFLOAT16 = np.dtype(jnp.bfloat16)

# PyTorch's words: `requires_grad_()` says "floating point dtype", factories and Parameter
# say "floating point and complex dtype".
GRAD_DTYPE_METHOD = "only Tensors of floating point dtype can require gradients"
GRAD_DTYPE_FACTORY = "Only Tensors of floating point and complex dtype can require gradients"


def check_can_require_grad(np_dtype, message: str, fix: str) -> None:
    """Raise PyTorch's RuntimeError `message` if a tensor of `np_dtype` cannot require grad."""
    if np.dtype(np_dtype) not in GRAD_DTYPES:
        raise RuntimeError(f"{message}; this one is {np.dtype(np_dtype).name}: {fix}")


# (shape, dtype) -> a jitted function returning ones of that shape: backward()'s seed.
_SEED_KERNELS: dict = {}


def ones_seed(shape: tuple, dtype):
    """A new array of ones, `backward()`'s implicit seed for a one-element output. NOTE:
    `jnp.ones(())` went through JAX's Python path (about 40 us, a sixth of a tiny model's
    forward and backward); a jitted constant is one C++ call, and still a fresh buffer each
    time, so a seed that reaches a leaf's `.grad` is never shared with the next one."""
    key = (shape, dtype)
    kernel = _SEED_KERNELS.get(key)
    if kernel is None:
        kernel = _SEED_KERNELS[key] = jax.jit(functools.partial(jnp.ones, shape, dtype))
    return kernel()


def make_vjp(opdef, attrs: dict, needs: tuple):
    """`vjp(primals, cts) -> cotangents of primals[i] for i in needs`, from `jax.vjp` of the op's
    own kernel. graphnet._dispatch jits it, one per (op, attributes, needs, number of inputs),
    in its bounded kernel cache."""
    impl = functools.partial(opdef.impl, **attrs)

    def vjp(primals, cts):
        # NOTE: an output nothing differentiated (None, for an op of several outputs) is left
        # out of the function differentiated, as JAX's symbolic zero and a compiled backward
        # leave it: a zero cotangent for slogdet's unused logabsdet times the inverse of a
        # singular matrix made the gradient NaN eagerly only
        used = [i for i, c in enumerate(cts) if c is not None]

        def partial_impl(*diff):
            args = list(primals)
            for i, d in zip(needs, diff):
                args[i] = d
            out = impl(*args)
            return tuple(out[i] for i in used) if len(used) < len(cts) else out

        _, pull = jax.vjp(partial_impl, *[primals[i] for i in needs])
        if len(used) < len(cts):
            return pull(tuple(cts[i] for i in used))
        return pull(cts if opdef.n_outputs != 1 else cts[0])

    # NOTE: the forward is recomputed inside the VJP, but XLA drops whatever the VJP does not
    # use (a matmul's VJP never needs its output), so this costs little and saves nothing.
    return vjp


def backward_name(op: str) -> str:
    """grad_fn's name for op `op`: PyTorch's class name, from the op table (`SumBackward0`,
    `linear` -> `AddmmBackward0`). A compiled forward on the tape is one node named after its
    graph (`MyModel` -> `MyModelBackward0`)."""
    entry = OPS.get(op)
    return entry.backward if entry is not None else camel_backward(op)


class TapeNode:
    """One recorded op: enough to compute its inputs' cotangents from its outputs'."""

    __slots__ = ("name_", "edges", "out_avals", "saved", "_vjp", "needs", "hooks", "reach",
                 "sources", "versions", "dirty", "_metadata", "_slots", "__weakref__")

    def __init__(self, name, edges, out_avals, saved, vjp, needs=None):
        self.name_ = name  # the op; `name()` gives PyTorch's class-style name
        self.edges = edges          # per needed input: (TapeNode, out_index) | (leaf Tensor, None)
        self.out_avals = out_avals  # [(shape, dtype)] per output, to fill missing cotangents
        self.saved = saved          # the primal inputs, freed after backward
        self._vjp = vjp
        # Which positions of `saved` the edges differentiate, in order: what a graph of the
        # backward (create_graph=True) connects its primal inputs to. None: not known (a
        # compiled forward on the tape), and such a node refuses create_graph.
        self.needs = needs
        # Per output index: hooks registered on the non-leaf tensor it made, and whether that
        # tensor retains its grad (graphnet/autograd/_hooks.py); None until one is registered.
        self.hooks = None
        # Per output index: the edges it depends on (a compiled forward's outputs each read
        # some of its inputs); None: every output depends on every edge, as for one op.
        self.reach = None
        # Per saved input: a weak reference to the tensor it came from, for a `.data =` swap
        # after the forward (graphnet/_autograd_data_swap.py); None: not known.
        self.sources = None
        # The versions of `sources` at the forward (None: all 0), and, once an output this
        # op's backward reads was written in place, what the error says about it
        # (graphnet/_autograd_versions.py)
        self.versions = None
        self.dirty = None

    def refusal(self) -> Exception | None:
        """Why backward() cannot run through this node at all, or None. Asked of every node
        before any VJP runs, so a refused backward() leaves every `.grad` as it was."""
        return None

    def apply(self, cts):
        """Cotangents of the inputs (per edge) from those of the outputs, as arrays."""
        if self.saved is None:
            raise freed_error()
        return self._vjp(_versions.current_saved(self, self.saved), tuple(cts))

    def apply_graph(self, cts):
        """`apply` for `create_graph=True`: `cts` are Tensors and so are the results, which
        record the backward itself on the tape (one `vjp` op per node, differentiable again)."""
        from .autograd._graph import vjp_on_tape   # NOTE: graphnet.autograd imports this module

        if self.saved is None:
            raise freed_error()
        return vjp_on_tape(self, cts)

    @property
    def next_functions(self) -> tuple:
        """((node or None, output index), ...) as PyTorch's `grad_fn.next_functions`: one
        entry per differentiated input (a leaf's stands for its gradient accumulator), and
        `(None, 0)` where a floating-point tensor input takes no gradient (see `slots`)."""
        entries = []
        for k in self.slots():
            if k is None:
                entries.append((None, 0))
            else:
                t, i = self.edges[k]
                entries.append((t if isinstance(t, TapeNode) else accumulator(t), i or 0))
        return tuple(entries)

    def slots(self) -> tuple:
        """Per entry of `next_functions`: its edge's index, or None for PyTorch's `(None,
        0)` (graphnet/_grad_edges.py)."""
        return input_slots(self)

    def name(self) -> str:
        return backward_name(self.name_)

    @property
    def metadata(self) -> dict:
        """PyTorch's `grad_fn.metadata`: a dict for the user's own notes, made on first use
        (so recording an op does not pay for it)."""
        try:
            return self._metadata
        except AttributeError:
            self._metadata = {}
            return self._metadata

    def __repr__(self):
        return f"<{backward_name(self.name_)} object at {hex(id(self))}>"


# Ops whose backward needs no saved tensor in PyTorch (their grad_fn saves sizes at most), so a
# second backward through them works even after the graph was freed; any other node raises.
NOTHING_SAVED = frozenset((
    "add", "sub", "neg", "sum", "mean", "reshape", "expand", "transpose", "permute", "squeeze",
    "unsqueeze", "cat", "stack", "clone", "cast", "detach", "flip", "roll", "repeat", "alias"))


def saves_tensors(op: str, primals) -> bool:
    """Whether PyTorch's backward node for `op` on these inputs keeps tensors, which a
    backward without retain_graph frees (x[1:] saves nothing, x[index_tensor] does)."""
    if op == "getitem":
        return any(len(getattr(p, "shape", ())) for p in primals[1:])
    return op not in NOTHING_SAVED


def freed_error() -> RuntimeError:
    return RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time or if you need to access saved tensors after "
        "calling backward.")


class _FreedNode(TapeNode):
    """The grad_fn of a compiled step's returned loss: the step's own backward() freed its
    history, so a backward through it raises as PyTorch's does after the graph was freed."""

    __slots__ = ()

    def apply(self, cts):
        raise freed_error()

    apply_graph = apply


def freed_node(torch_name: str, t) -> TapeNode:
    """A `_FreedNode` named `torch_name` (`NllLossBackward0`) for tensor `t`."""
    return named_class(_FreedNode, torch_name)("freed", (), [(tuple(t.shape), t.dtype)], (),
                                                None)


class _RefusedNode(TapeNode):
    """The grad_fn of a tensor PyTorch refuses to differentiate through (a view made under
    no_grad whose base was since written with grad on): backward raises its error, kept in
    `saved`."""

    __slots__ = ()

    def apply(self, cts):
        raise RuntimeError(self.saved[0])

    apply_graph = apply


def refused_node(message: str, t) -> TapeNode:
    """A `_RefusedNode` for tensor `t` whose backward raises RuntimeError(`message`)."""
    return named_class(_RefusedNode, "AsStridedBackward0")(
        "refused", (), [(tuple(t.shape), t.dtype)], (message,), None)


# NOTE: set once the first inference tensor exists, so recording an op checks its inputs
# for inference tensors only in programs that ever made one.
_inference_made = False


def mark_inference(tensors) -> None:
    """Mark tensors made under `inference_mode()` (PyTorch's inference tensors)."""
    global _inference_made
    _inference_made = True
    for t in tensors:
        t.__dict__["_inference"] = True


class ResidualNode(TapeNode):
    """A recorded op whose eager forward kept residuals (OpDef.eager_residuals): `apply` runs
    `fast(saved, cts)`, the backward from them, instead of the VJP that recomputes the
    forward. `_vjp` and the saved primals stay for create_graph=True, which differentiates
    the VJP itself."""

    __slots__ = ("fast",)

    def __init__(self, name, edges, out_avals, saved, vjp, needs, fast):
        super().__init__(name, edges, out_avals, saved, vjp, needs)
        self.fast = fast

    def apply(self, cts):
        if self.saved is None:
            raise freed_error()
        saved = _versions.current_saved(self, self.saved)
        if saved is not self.saved:   # residuals of the old values: the VJP reads new ones
            return self._vjp(saved, tuple(cts))
        return self.fast(self.saved, tuple(cts))


def refuse_saved_inference(op: str, arrays, args) -> None:
    """PyTorch's error when an op recorded for backward would save an inference tensor
    (eagerly, and while tracing: compiled code gave a gradient where eager code raised)."""
    if _inference_made and saves_tensors(op, arrays):   # `x - target` saves nothing
        for a in args:
            if getattr(a, "__dict__", {}).get("_inference"):
                raise RuntimeError(
                    "Inference tensors cannot be saved for backward. Please do not use Tensors "
                    "created in inference mode in computation tracked by autograd. To work "
                    "around this, you can make a clone to get a normal tensor and use it in "
                    "autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


def op_node(op: str, vjp, arrays, edges, outs, needs=None, args=(), fast=None) -> TapeNode:
    refuse_saved_inference(op, arrays, args)
    avals = [(o.shape, o.dtype) for o in outs]
    if fast is not None:
        cls = _RESIDUAL_CLASSES.get(op) or _op_class(_RESIDUAL_CLASSES, ResidualNode, op)
        node = cls(op, edges, avals, tuple(arrays), vjp, needs, fast)
    else:
        cls = _PLAIN_CLASSES.get(op) or _op_class(_PLAIN_CLASSES, TapeNode, op)
        node = cls(op, edges, avals, tuple(arrays), vjp, needs)
    if args:
        node.sources = _data_swap.sources_of(args)
        if _versions.bumped:   # NOTE: until the first in-place write, every version is 0
            node.versions = _versions.versions_of(args)
    return node


# NOTE: PyTorch gives each kind of backward node its own class (`type(y.grad_fn).__name__` is
# "MulBackward0"), so graphnet's node of an op is an instance of a subclass named so, made once
# per (base class, name): recording an op costs one dict lookup more, nothing else.
_NAMED_CLASSES: dict = {}
_PLAIN_CLASSES: dict = {}      # op -> its TapeNode subclass
_RESIDUAL_CLASSES: dict = {}   # op -> its ResidualNode subclass


def named_class(base: type, torch_name: str) -> type:
    """The subclass of node class `base` named `torch_name` ("SelectBackward0"), cached.
    Its module is `builtins`, as PyTorch's, so `print(type(y.grad_fn))` reads the same."""
    cls = _NAMED_CLASSES.get((base, torch_name))
    if cls is None:
        def name(self) -> str:
            return torch_name

        def __repr__(self) -> str:
            return f"<{torch_name} object at {hex(id(self))}>"

        cls = _NAMED_CLASSES[base, torch_name] = type(torch_name, (base,), {
            "__slots__": (), "__module__": "builtins", "name": name, "__repr__": __repr__,
            "_named_base": base})
    return cls


def _op_class(cache: dict, base: type, op: str) -> type:
    cls = cache[op] = named_class(base, backward_name(op))
    if base is TapeNode:   # make_vjp's backward takes None for an output not differentiated
        from ._ops import OPS

        cls.partial_cts = op in OPS and OPS[op].n_outputs != 1
    return cls


def rename_node(out, torch_name: str, made_by: str) -> None:
    """Give the node that op `made_by` recorded for tensor `out` PyTorch's name `torch_name`,
    where one graphnet op stands for several PyTorch functions (`t()` is a transpose, `x[0]`
    a select). Nothing happens when `out` has no such node (no grad, or `out` is an input
    returned as it was), so the name of another op's node is never changed."""
    node = out.grad_fn
    base = getattr(node, "_named_base", None)
    if base is not None and node.name_ == made_by:
        node.__class__ = named_class(base, torch_name)


def copied_slices(t, torch_name: str = "CopySlices"):
    """`t` after a write through a view or basic index (`y[0] = 5`, `y.view(-1)[2] = 1`,
    `y.t().mul_(2)`): its node is PyTorch's CopySlices, whichever op graphnet recorded;
    `x[mask] = v` passes IndexPutBackward0. Under no_grad `t` kept its node: unchanged."""
    return node_named(t, torch_name)


def node_named(t, torch_name: str):
    """`t`, its node (whichever op graphnet recorded last) named `torch_name`: the one node
    PyTorch records for a function graphnet composes (`channel_shuffle`)."""
    node = t.grad_fn
    base = getattr(node, "_named_base", None)
    if base is not None and grad_mode.enabled:
        node.__class__ = named_class(base, torch_name)
    return t
