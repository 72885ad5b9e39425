"""The reverse-mode transforms of `graphnet.func` (grad, vjp, jacrev, jvp), on the tape.

Each differentiated argument is replaced for the call by a private tensor that requires grad:
a view of the caller's tensor when that one requires grad (so the result stays on the
caller's graph: `grad(grad(f))`, a gradient of a per-example gradient), a detached copy
otherwise. `autograd.grad` then records its backward (`create_graph`) only when the result
reaches a tensor outside the call that requires grad, as torch.func's results do; otherwise
results come back detached, as PyTorch's do. The same code runs inside `graphnet.compile`,
where `autograd.grad` becomes a graph node."""

from __future__ import annotations

import copy
import itertools

import jax

from . import _autograd
from ._mode import current_mode, tracing
from ._tensor import Tensor


def is_leaf(x) -> bool:
    return x is None or isinstance(x, Tensor)


def flatten(tree):
    """(leaves, structure): JAX's leaves (a dict's in sorted key order) and a `Structure`
    that rebuilds the caller's containers, dict keys in the caller's order."""
    leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=is_leaf)
    return leaves, Structure(treedef, _skeleton(tree))


def unflatten(structure, leaves):
    tree = jax.tree_util.tree_unflatten(structure.treedef, list(leaves))
    return tree if structure.skeleton is None else _in_order(tree, structure.skeleton)


def mapped_results(name: str, out) -> tuple:
    """(leaves, structure) of what a vmapped function returned: tensors only, as PyTorch's
    vmap requires (eager mode's and the traced vmap's check)."""
    outs, structure = flatten(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(o)}. Did you mean to set out_dims= to None for output?")
    return outs, structure


class Structure:
    """A pytree's structure: JAX's treedef, and the key order of the dicts in it (None when
    it holds none). NOTE: JAX rebuilds a dict with its keys sorted, and the gradients of
    `grad(loss)(params)` came back so: the tutorial's `zip(model.parameters(),
    grads.values())` paired each parameter with another one's gradient."""

    __slots__ = ("treedef", "skeleton")

    def __init__(self, treedef, skeleton):
        self.treedef, self.skeleton = treedef, skeleton

    def __eq__(self, other) -> bool:
        return isinstance(other, Structure) and self.treedef == other.treedef

    def __hash__(self) -> int:
        return hash(self.treedef)

    def __repr__(self) -> str:
        return repr(self.treedef)


def _skeleton(tree):
    """The containers of `tree` with dict keys in their order, or None when no dict is in
    it (nothing to reorder)."""
    if isinstance(tree, dict):
        return dict, tuple((k, _skeleton(v)) for k, v in tree.items())
    if isinstance(tree, (list, tuple)):
        inner = tuple(_skeleton(v) for v in tree)
        return None if all(x is None for x in inner) else (list, inner)
    return None


def _in_order(tree, skeleton):
    """`tree` (rebuilt by JAX) with its dicts' keys in the order `skeleton` recorded."""
    if skeleton is None:
        return tree
    kind, parts = skeleton
    if kind is dict and isinstance(tree, dict):
        items = [(k, _in_order(tree[k], sub)) for k, sub in parts]
        if type(tree) is dict:
            return dict(items)
        rebuilt = copy.copy(tree)     # a defaultdict, an OrderedDict: same type and factory
        rebuilt.clear()
        rebuilt.update(items)
        return rebuilt
    if isinstance(tree, (list, tuple)) and len(tree) == len(parts):
        values = [_in_order(v, sub) for v, sub in zip(tree, parts)]
        if isinstance(tree, tuple) and hasattr(tree, "_fields"):    # a namedtuple
            return type(tree)(*values)
        return type(tree)(values)
    return tree


def check_argnums(argnums, n_args: int) -> tuple:
    """Positions of the differentiated arguments (negative ones count from the end)."""
    many = isinstance(argnums, tuple)
    items = argnums if many else (argnums,)
    if many and not items:
        raise RuntimeError("argnums must be non-empty")
    out = []
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
        out.append(a % n_args)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums elements must be unique, got {tuple(out)}")
    return tuple(out)


def private(t, grad_enabled: bool, serial: int = -1) -> Tensor:
    """A tensor that requires grad standing for the argument `t` during the call."""
    if not isinstance(t, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
    if not _autograd.differentiable(t._value.dtype):
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if grad_enabled and t.requires_grad:
        return t.view_as(t)
    if tracing():
        # NOTE: a copy: inside graphnet.compile two `detach()`es of one tensor are one graph
        # value, and `autograd.grad` gave each of them the other's gradient too
        # (`grad(lambda a, b: a.sum(), argnums=(0, 1))(x, x)` gave b ones, not zeros)
        stand_in = t.detach().clone().requires_grad_(True)
    else:
        stand_in = t.detach().requires_grad_(True)
        # NOTE: the transform's own leaf, not the code's `detach()`: a vmap that reruns its
        # function under jax.vjp stops the gradient at a detach (_func_vmap._VmapMode), and
        # `vmap(jacrev(f))(x)` gave x a zero gradient; the caller's value passes it on
        stand_in._value = t._value
    # a transform's own leaf, numbered by its call (`Lifted.serial`): for an enclosing
    # transform it is inside (`grad` of a `grad`'s result reached it and so required grad,
    # where torch's does not); for the transform that made it, not
    stand_in.__dict__[_PRIVATE] = serial
    return stand_in


_PRIVATE = "_func_private"
_SERIALS = itertools.count()


class PrivateIds(set):
    """The ids of a call's private inputs, and the call's number: leaves made private by a
    transform nested inside it (a later number) are its own too (`reaches_outside`)."""

    def __init__(self, ids, serial: int):
        super().__init__(ids)
        self.serial = serial

    def outside(self, leaf) -> bool:
        return id(leaf) not in self and leaf.__dict__.get(_PRIVATE, -1) <= self.serial


class Lifted:
    """The arguments of one call with the differentiated ones made private."""

    def __init__(self, args: tuple, argnums):
        self.positions = check_argnums(argnums, len(args))
        self.many = isinstance(argnums, tuple)
        self.grad_enabled = _autograd.grad_mode.enabled
        self.serial = next(_SERIALS)
        args = list(args)
        self.trees, self.leaves = [], []
        for p in self.positions:
            leaves, tree = flatten(args[p])
            leaves = [private(t, self.grad_enabled, self.serial) for t in leaves]
            self.trees.append(tree)
            self.leaves.append(leaves)
            args[p] = unflatten(tree, leaves)
        self.args = tuple(args)
        self.flat = [t for leaves in self.leaves for t in leaves]
        self.private_ids = PrivateIds({id(t) for t in self.flat}, self.serial)

    def pack(self, flat_grads):
        """Gradients of `flat`, in the arguments' structure (a tuple for tuple argnums)."""
        it = iter(flat_grads)
        per_arg = [unflatten(tree, [next(it) for _ in leaves])
                   for tree, leaves in zip(self.trees, self.leaves)]
        return tuple(per_arg) if self.many else per_arg[0]


def reaches_private(tensors, private_ids) -> bool:
    """Whether the graph of `tensors` reaches one of a call's private inputs."""
    return _reaches(tensors, lambda leaf: id(leaf) in private_ids)


def reaches_outside(tensors, private_ids) -> bool:
    """Whether the graph of `tensors` reaches a tensor outside the call that requires grad
    (a leaf that is not one of the call's private inputs)."""
    outside = private_ids.outside if isinstance(private_ids, PrivateIds) else \
        (lambda leaf: id(leaf) not in private_ids)
    return _reaches(tensors, outside)


def _reaches(tensors, outside) -> bool:
    """Whether a leaf that requires grad and satisfies `outside` is on `tensors`' graph.
    Inside `graphnet.compile` no tape exists: the tracer walks its graph's gradient edges
    (a nested tracer, which cannot, answers whether any requires grad)."""
    if tracing():
        leaves = current_mode().reached_leaves(tensors)
        if leaves is None:
            return any(t.requires_grad for t in tensors)
        # NOTE: "any requires grad" for every trace: `grad` of a detached parameter's copy
        # came back requiring grad, where PyTorch's does not
        return any(outside(leaf) for leaf in leaves)
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    for t in tensors:
        if t.requires_grad and t.grad_fn is None and outside(t):
            return True
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for target, index in node.edges:
            if index is None and not isinstance(target, _autograd.TapeNode):
                if outside(target):
                    return True
            elif target is not None:
                stack.append(target)
    return False


def release(tensors, keep: bool):
    """The results as the caller gets them: detached unless they stay on an outer graph."""
    return [t if keep or t is None else _released(t) for t in tensors]


def _released(t) -> Tensor:
    """`t` off the tape. Inside a vmap that JAX differentiates (its rerun under `jax.vjp`,
    `_func_vmap._VmapMode`), its value stays differentiable: the batched input stands for
    the caller's tensor, which requires grad on the tape outside. NOTE: a detach there is a
    `stop_gradient`, and `vmap(jacrev(f))(q).pow(2).sum().backward()` gave q zeros."""
    out = t.detach()
    if getattr(current_mode(), "keeps_released_values", False):
        out._value = t._value
    return out


def gradients(outputs, inputs, seeds, create_graph: bool) -> list:
    """d outputs / d inputs (zeros where unused), seeded by `seeds` (None: ones)."""
    from .autograd import grad
    from ._factories import zeros_like

    live = [i for i, o in enumerate(outputs) if o.requires_grad]
    if not live:
        return [zeros_like(x) for x in inputs]
    with _autograd.enable_grad():
        gs = grad([outputs[i] for i in live], inputs,
                  None if seeds is None else [seeds[i] for i in live],
                  retain_graph=True, create_graph=create_graph, allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(gs, inputs)]


def check_float_outputs(outs) -> None:
    """PyTorch's refusal (vjp, jacrev, hessian) of an output that cannot have a gradient.
    NOTE: an integer or bool output got zero gradients and a Jacobian of float zeros."""
    for o in outs:
        if not (o.is_floating_point() or o.is_complex()):
            raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or "
                               f"complex Tensors, got Tensor with dtype {o.dtype}")


def check_tensors(tree, what: str = "") -> list:
    leaves, _ = flatten(tree)
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{what}Expected tensors, got unsupported type {type(t)}")
    return leaves


def tangents_in_their_dtypes(back, dummies, tangents, create_graph: bool) -> list:
    """`jvp`'s output tangents (the derivative of `back`, the VJP, along `tangents`) when
    some tangent's dtype is not its primal's: each output's tangent gets the dtype PyTorch's
    forward mode gives it, its dtype promoted with those of the tangents that reach it.

    NOTE: a float64 tangent for a float32 primal gave a float32 `jvp_out`, where PyTorch's
    is float64 (its tangent keeps its dtype through each op's forward formula). The values
    are still computed in the primals' precision: graphnet has no forward mode, and the
    reverse pass casts each cotangent to its tensor's dtype. One backward per primal here,
    to see which tangents reach which output (a dummy the primal's VJP does not reach has no
    gradient)."""
    from .autograd import grad
    from ._dtype_methods import promote_types
    from ._factories import zeros_like

    total = [None] * len(dummies)
    dtypes = [u.dtype for u in dummies]
    for b, t in zip(back, tangents):
        if not b.requires_grad:
            continue
        with _autograd.enable_grad():
            gs = grad([b], dummies, [t], retain_graph=True, create_graph=create_graph,
                      allow_unused=True)
        for k, g in enumerate(gs):
            if g is not None:
                total[k] = g if total[k] is None else total[k] + g
                dtypes[k] = promote_types(dtypes[k], t.dtype)
    return [(zeros_like(u) if g is None else g).to(dtype)
            for g, u, dtype in zip(total, dummies, dtypes)]
