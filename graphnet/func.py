"""`graphnet.func`: PyTorch's `torch.func` transforms for graphnet code.

`grad`, `grad_and_value`, `vjp`, `jacrev`, `jacfwd`, `hessian` and `jvp` run on graphnet's
autograd tape (graphnet/_func_tape.py), so they compose with each other, eagerly and
inside `graphnet.compile`; `backward()` inside the function is refused, as in PyTorch
(graphnet/_func_active.py). `jvp` is the derivative of a VJP (double backward), and
`jacfwd` is `jacrev`'s Jacobian (computed in reverse mode) in forward mode's dtypes. `vmap`
maps with `jax.vmap` (graphnet/_func_vmap.py), eagerly and inside `graphnet.compile`.

>>> from graphnet.func import functional_call, grad, vmap
>>> def loss(params, x, y):
...     return F.mse_loss(functional_call(model, params, (x[None],)), y[None])
>>> per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
"""

from __future__ import annotations

import functools

from . import _autograd
from ._func_active import forward_mode, randomness as random_policy, transform_running
from ._func_tape import (Lifted, check_float_outputs, check_tensors, flatten, gradients,
                         reaches_outside, release, tangents_in_their_dtypes, unflatten)
from ._func_vmap import vmap
from ._tensor import Tensor
from .nn.utils.stateless import functional_call

__all__ = ["functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd",
           "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_", "stack_module_state",
           "vjp", "vmap"]


def _split_aux(result, has_aux: bool, api: str):
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           f"has_aux is True")
    return result


def _release_tree(tree, keep_if):
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [t if t is None else release([t], keep_if(t))[0]
                               for t in leaves])


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """`(gradient, value)` of a function returning a scalar tensor; with `has_aux`, the
    function returns `(value, aux)` and this `((gradient, (value, aux)))`.

    >>> g, v = grad_and_value(lambda x: (x ** 2).sum())(x)     # 2x, sum(x^2)
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        lifted = Lifted(args, argnums)
        with _autograd.enable_grad(), transform_running():
            output, aux = _split_aux(func(*lifted.args, **kwargs), has_aux,
                                     "grad_and_value(f)(*args)")
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                               f"Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                               f"scalar Tensor, got tensor with {output.dim()} dims. Maybe "
                               f"you wanted to use the vjp or jacrev APIs instead?")
        if has_aux:
            check_tensors(aux)
        ids, enabled = lifted.private_ids, lifted.grad_enabled

        def keep(t):
            return enabled and reaches_outside([t], ids)

        grads = gradients([output], lifted.flat, None, keep(output))
        grads = lifted.pack(release(grads, keep(output)))
        value = release([output], keep(output))[0]
        if has_aux:
            return grads, (value, _release_tree(aux, keep))
        return grads, value

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """The gradient of a function returning a scalar tensor, with respect to argument
    `argnums` (an int, or a tuple for several; an argument may be a dict or tuple of
    tensors), as `torch.func.grad`.

    >>> grad(lambda x: x.sin().sum())(x)        # cos(x)
    >>> grad(grad(lambda x: x.sin()))(x0)       # -sin(x0), x0 a 0-d tensor
    """
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = inner(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """`(func(*primals), vjp_fn)`, where `vjp_fn(cotangents)` is the tuple of v^T J per
    primal (callable more than once); with `has_aux`, `(output, vjp_fn, aux)`.

    >>> out, vjp_fn = vjp(torch.sin, x); (g,) = vjp_fn(torch.ones_like(out))    # cos(x)
    """
    lifted = Lifted(primals, tuple(range(len(primals))))
    with _autograd.enable_grad(), transform_running():
        output, aux = _split_aux(func(*lifted.args), has_aux, "vjp(f, *primals)")
    outs, out_tree = flatten(output)
    check_tensors(output, "vjp(f, *primals): ")
    check_float_outputs(outs)
    if has_aux:
        check_tensors(aux)
    ids, enabled = lifted.private_ids, lifted.grad_enabled

    def keep(t):
        return enabled and reaches_outside([t], ids)

    keep_graph = enabled and reaches_outside(outs, ids)

    def vjp_fn(cotangents, *, retain_graph: bool = True, create_graph: bool | None = None):
        cts, ct_tree = flatten(cotangents)
        if ct_tree != out_tree:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{ct_tree}, primal output: {out_tree}")
        check_tensors(cotangents)
        for i, (c, o) in enumerate(zip(cts, outs)):
            if c.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{c.shape} and output[{i}] has a shape of {o.shape}.")
        graph = keep_graph or any(c.requires_grad for c in cts) if create_graph is None \
            else create_graph
        return lifted.pack(release(gradients(outs, lifted.flat, cts, graph), graph))

    output = _release_tree(output, keep)
    if has_aux:
        return output, vjp_fn, _release_tree(aux, keep)
    return output, vjp_fn


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """`(func(*primals), J @ tangents)`, as `torch.func.jvp` (computed as the derivative of
    a VJP, so it also runs inside `graphnet.compile`); with `has_aux`, `(out, jvp_out, aux)`.

    >>> out, jvp_out = jvp(torch.sin, (x,), (torch.ones_like(x),))       # cos(x)
    """
    from ._factories import zeros_like

    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {name} to be a tuple. "
                               f"E.g. it should be valid to call f(*primals).")
    flat_p, p_tree = flatten(primals)
    flat_t, t_tree = flatten(tangents)
    if p_tree != t_tree:
        raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have "
                           f"the same python structure. For example, if primals is a tuple of "
                           f"3 tensors, tangents also must be. Got primals with structure "
                           f"{p_tree} and tangents with structure {t_tree}")
    check_tensors(tangents, "jvp(f, primals, tangents): ")
    for p, t in zip(flat_p, flat_t):
        # PyTorch's make_dual checks: the primal, then its tangent, then their sizes
        for what, x in (("primal", p), ("tangent", t)):
            if isinstance(x, Tensor) and not x.is_floating_point():
                raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                                 f"{x.dtype}")
        if isinstance(p, Tensor) and p.shape != t.shape:
            raise RuntimeError(f"Trying to set a forward gradient that has a different size "
                               f"than that of the original Tensor, this is not supported. "
                               f"Tensor is of size {list(p.shape)} while the given forward "
                               f"gradient is of size {list(t.shape)}.")
    lifted = Lifted(primals, tuple(range(len(primals))))
    with _autograd.enable_grad():
        with transform_running(), forward_mode(lifted.private_ids):
            output = func(*lifted.args)
        output, aux = _split_aux(output, has_aux, "jvp(f, primals, tangents)")
        outs, out_tree = flatten(output)
        check_tensors(output, "jvp(f, primals, tangents): ")
        ids, enabled = lifted.private_ids, lifted.grad_enabled
        keep = enabled and (reaches_outside(outs, ids) or any(t.requires_grad for t in flat_t))
        # J v = d/du <J^T u, v>: J^T u is linear in the dummy cotangents u
        dummies = [zeros_like(o).requires_grad_(True) if _autograd.differentiable(o._value.dtype)
                   else zeros_like(o) for o in outs]
        back = gradients(outs, lifted.flat, dummies, True)
        live = [k for k, u in enumerate(dummies) if u.requires_grad]
        if not live:
            forward = []
        elif all(t.dtype == p.dtype for p, t in zip(lifted.flat, flat_t)):
            forward = gradients(back, [dummies[k] for k in live], flat_t, keep)
        else:
            forward = tangents_in_their_dtypes(back, [dummies[k] for k in live], flat_t, keep)
    tangent_out = [zeros_like(o) for o in outs]
    for k, value in zip(live, forward):
        tangent_out[k] = value
    result = (_release_tree(output, lambda t: enabled and reaches_outside([t], ids)),
              unflatten(out_tree, release(tangent_out, keep)))
    if has_aux:
        check_tensors(aux)
        return (*result, _release_tree(aux, lambda t: enabled and reaches_outside([t], ids)))
    return result


def linearize(func, *primals):
    """`(func(*primals), jvp_fn)`: `jvp_fn(*tangents)` is func's JVP at `primals` (the
    tensors themselves: an in-place write to one moves it, as in PyTorch, whose graph holds
    them), as `torch.func.linearize`.

    >>> out, jvp_fn = linearize(torch.sin, x)
    >>> jvp_fn(v)                  # cos(x) * v
    """
    at = primals
    output = func(*primals)

    def jvp_fn(*tangents):
        if len(tangents) != len(at):
            raise RuntimeError(f"linearize: jvp_fn expected {len(at)} tangents, got "
                               f"{len(tangents)}")
        return jvp(func, at, tangents)[1]

    return output, jvp_fn


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None,
           _preallocate_and_copy: bool = False):
    """The Jacobian of `func` with respect to argument(s) `argnums`: for each output,
    `output.shape + input.shape`, nested as `torch.func.jacrev` nests it.

    >>> jacrev(torch.sin)(x)        # diag(cos(x))
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, forward=False)


def _jacobian(func, argnums, has_aux: bool, forward: bool, randomness: str = "same"):
    """jacrev's and jacfwd's Jacobian, computed in reverse mode. As PyTorch's, jacrev refuses
    an integer or bool output, and jacfwd gives each block its output's dtype (zeros for such
    an output), the dtype of forward mode's tangents."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ._factories import zeros
        from ._layout import stack

        lifted = Lifted(args, argnums)
        with _autograd.enable_grad(), transform_running(), random_policy(randomness, "jacfwd"), \
                forward_mode(lifted.private_ids if forward else None):
            output, aux = _split_aux(func(*lifted.args, **kwargs), has_aux,
                                     "jacrev(f, ...)(*args)")
        outs, out_tree = flatten(output)
        check_tensors(output, "jacrev(f, ...)(*args): ")
        if not forward:
            check_float_outputs(outs)
        ids, enabled = lifted.private_ids, lifted.grad_enabled
        keep = enabled and reaches_outside(outs, ids)
        blocks = []
        for out in outs:
            if forward and not _autograd.differentiable(out._value.dtype):
                per_input = [zeros(*out.shape, *x.shape, dtype=out.dtype) for x in lifted.flat]
                blocks.append(lifted.pack(per_input))
                continue
            with _autograd.enable_grad():   # each row's element, on the tape under no_grad too
                flat = out.reshape(-1)
                elements = [flat[j] for j in range(flat.numel())]
            rows = [gradients([e], lifted.flat, None, keep) for e in elements]
            per_input = []
            for k, x in enumerate(lifted.flat):
                block = stack([r[k] for r in rows]) if rows else \
                    zeros(0, *x.shape, dtype=x.dtype)
                block = block.reshape(*out.shape, *x.shape)
                per_input.append(block.to(out.dtype) if forward else block)
            blocks.append(lifted.pack(release(per_input, keep)))
        jac = unflatten(out_tree, blocks)
        if has_aux:
            check_tensors(aux)
            return jac, _release_tree(aux, lambda t: enabled and reaches_outside([t], ids))
        return jac

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian, as `torch.func.jacfwd` returns it. graphnet computes it in reverse
    mode (one backward pass per output element): the same matrix, each block in its
    output's dtype as forward mode gives it."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    return _jacobian(func, argnums, has_aux, forward=True, randomness=randomness)


def hessian(func, argnums=0):
    """Second derivatives of a function returning a scalar: `jacfwd(jacrev(func))`.

    >>> hessian(lambda x: (x ** 3).sum())(x)      # diag(6x)
    """
    return jacfwd(jacrev(func, argnums), argnums)


def stack_module_state(models) -> tuple:
    """`(params, buffers)`: each model's parameters and buffers stacked along a new first
    dimension (for `vmap` over an ensemble with `functional_call`). The stacked parameters
    are new leaves that require grad as the models' do.

    >>> params, buffers = stack_module_state([Net() for _ in range(5)])
    """
    from ._layout import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        tables = [dict(named(m)) for m in models]
        result = {}
        for name in tables[0]:
            tensors = [table[name] for table in tables]
            wants = {t.requires_grad for t in tensors}
            if len(wants) != 1:
                raise RuntimeError(f"Expected {name} from each model to have the same "
                                   f".requires_grad")
            result[name] = stack([t.detach() for t in tensors]).requires_grad_(wants.pop())
        return result

    return (stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers()))


def replace_all_batch_norm_modules_(root):
    """`root`, changed in place: every BatchNorm module in it that tracks running statistics
    stops tracking them (`running_mean`, `running_var` and `num_batches_tracked` become None),
    so it normalizes with the batch's own statistics in train and eval mode alike: the
    recipe for `vmap` over a model with BatchNorm, whose running statistics would otherwise be
    written once per mapped sample.

    >>> replace_all_batch_norm_modules_(net); vmap(net)(x)
    """
    from .nn._norm import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


def functionalize(func, *, remove: str = "mutations"):
    """`func` with its intermediate mutations removed, the same results and the same writes
    to its inputs. graphnet's programs are already functional (a traced in-place write
    becomes a new value, and the writes to the inputs are replayed after the program), so
    this is `func` itself once `remove` is checked, as in PyTorch: "mutations" or
    "mutations_and_views".

    >>> functionalize(f)(x)      # == f(x), and x is written as f writes it
    """
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for "
            f"remove={remove}. Valid options are:\n     remove='mutations': all inplace and out= "
            f"operators will be removed from the program, and replaced with their out-of-place "
            f"equivalents.\n     remove='mutations_and_views': In addition to the above, all "
            f"aliasing operators {{view}} will be replaced with their non-aliasing counterparts, "
            f"{{view}}_copy.\n")

    @functools.wraps(func)
    def functionalized(*args, **kwargs):
        return func(*args, **kwargs)

    return functionalized


def __getattr__(name: str):
    """A missing name, with the reason and the alternative when it is refused on purpose
    (runtime/coverage.py `REFUSED`), e.g. `func.linearize`."""
    from ._errors import missing_attribute

    raise missing_attribute("graphnet.func", "torch.func", name)
