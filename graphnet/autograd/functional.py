"""`graphnet.autograd.functional`: jacobian, hessian, vjp, jvp, hvp, vhp, built on
`autograd.grad` (reverse mode; jvp by the double-vjp trick), with PyTorch's signatures and
result structure (a Tensor for Tensor arguments, tuples for tuples)."""

from __future__ import annotations

import functools

from .._autograd import enable_grad
from .._tensor import Tensor
from ._api import grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _with_grad(fn):
    """`fn` run with grad enabled, as PyTorch's functional API is: under an outer `no_grad`
    it still differentiates (before, every Jacobian and product came back zero)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with enable_grad():
            return fn(*args, **kwargs)

    return wrapper


def _as_tuple(x, name: str, fn: str):
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {name} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but the value at index {i} has type {type(t)}.")
    return is_tuple, items


def _prepare(inputs, create_graph: bool) -> tuple:
    """Fresh inputs that require grad: detached copies (views when create_graph keeps a
    graph back to the caller's tensors)."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


# PyTorch's errors under `strict=True`, where a result would be zeros because it does not
# depend on an input
INDEPENDENT = ("The output of the user-provided function is independent of input {i}. This "
               "is not allowed in strict mode.")
JACOBIAN_INDEPENDENT = ("While computing the hessian, found that the jacobian of the "
                        "user-provided function with respect to input {i} is independent of "
                        "the input. This is not allowed in strict mode. You should ensure "
                        "that your function is twice differentiable and that the jacobian "
                        "depends on the inputs (this would be violated by a linear function "
                        "for example).")


# PyTorch's refusals of flag combinations in jacobian (its forward-mode path needs
# vectorize=True; "isonly" is PyTorch's text)
FORWARD_NEEDS_VECTORIZE = ("Computing Jacobian using forward-AD or forward-over-reverse "
                           "Hessian isonly implemented for `vectorize=True`.")
STRICT_AND_VECTORIZE = ("torch.autograd.functional.jacobian: `strict=True` and "
                        "`vectorized=True` are not supported together. Please either set "
                        "`strict=False` or `vectorize=False`.")


def check_forward_mode(create_graph: bool, strict: bool) -> None:
    """PyTorch's refusals for strategy="forward-mode", in its order. NOTE: graphnet had
    none, and computed the Jacobian where PyTorch raises NotImplementedError."""
    if create_graph:
        raise NotImplementedError(
            'torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-'
            'mode"` are not supported together (yet). Please either set `create_graph=False` '
            'or `strategy="reverse-mode"`.')
    if strict:
        raise RuntimeError(
            'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
            'are not supported together (yet). Please either set `strict=False` or '
            '`strategy="reverse-mode"`.')


def _require_grad(tensors, strict: bool, message: str = None) -> None:
    """Under `strict`, every one of `tensors` must require grad (be computed from the
    inputs in a differentiable way)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(message.format(i=i) if message else
                               f"Output {i} of the user-provided function does not require "
                               f"gradients. The outputs must be computed in a differentiable "
                               f"manner from the input when running in strict mode.")


def _check_v(vs: tuple, other: tuple, other_tuple: bool) -> tuple:
    """(True, `vs`) once it matches `other` (the outputs for vjp, the inputs for jvp, hvp and
    vhp) in number and sizes, with PyTorch's errors (a short `v` failed on an index, a long
    one was cut to size silently)."""
    if len(vs) != len(other):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                           f"{len(vs)}." if other_tuple else
                           "The given v should contain a single Tensor.")
    for i, (v, o) in enumerate(zip(vs, other)):
        if tuple(v.shape) != tuple(o.shape):
            where = f"Entry {i} in " if other_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {o.shape} but got "
                               f"{v.shape}.")
    return True, vs


def _grads(outputs, inputs, grad_outputs, create_graph: bool, independent=None) -> tuple:
    """The gradients, zeros where none reaches an input; with `independent` (a message with
    `{i}`, strict mode) raising it there instead."""
    outputs = [o for o in outputs]
    live = [i for i, o in enumerate(outputs) if o.requires_grad]
    from .._factories import zeros_like

    gs = [None] * len(inputs)
    if live:
        gos = [grad_outputs[i] for i in live] if grad_outputs is not None else None
        gs = grad([outputs[i] for i in live], inputs, gos, retain_graph=True,
                  create_graph=create_graph, allow_unused=True)
    if independent is not None:
        for i, g in enumerate(gs):
            if g is None:
                raise RuntimeError(independent.format(i=i))
    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, inputs))


def _ones_for(x) -> Tensor:
    """The vector PyTorch uses for v=None (a one-element input): ones. NOTE: not `x * 0 + 1`,
    which is NaN where x is inf or NaN."""
    from .._factories import ones_like

    return ones_like(x.detach())


def _detach(ts, create_graph: bool):
    return tuple(t if create_graph else t.detach() for t in ts)


def _pack(is_tuple: bool, items):
    return tuple(items) if is_tuple else items[0]


@_with_grad
def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare(inputs, create_graph)
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                   "vjp")
    _require_grad(outputs, strict)
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs = None
    else:
        _, vs = _check_v(_as_tuple(v, "v", "vjp")[1], outputs, out_tuple)
    grads = _grads(outputs, inputs, vs, create_graph, INDEPENDENT if strict else None)
    return _pack(out_tuple, _detach(outputs, create_graph)), \
        _pack(in_tuple, _detach(grads, create_graph))


@_with_grad
def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a vjp."""
    from .._factories import zeros_like

    in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepare(inputs, create_graph)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = (_ones_for(inputs[0]),)
    else:
        _, vs = _check_v(_as_tuple(v, "v", "jvp")[1], inputs, in_tuple)
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                   "jvp")
    _require_grad(outputs, strict)
    dummies = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
    g = _grads(outputs, inputs, dummies, True, INDEPENDENT if strict else None)
    result = _grads(g, dummies, vs, create_graph)
    return _pack(out_tuple, _detach(outputs, create_graph)), \
        _pack(out_tuple, _detach(result, create_graph))


@_with_grad
def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """d func(inputs) / d inputs: shape output.shape + input.shape, per (output, input).
    `strategy="forward-mode"` (only with `vectorize=True`, as in PyTorch) and `vectorize`
    give the same matrix; graphnet computes it in reverse mode, one row at a time."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer '
                             'to use "reverse-mode".')
    if strategy == "forward-mode":
        check_forward_mode(create_graph, strict)
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(FORWARD_NEEDS_VECTORIZE)
    inputs = _prepare(inputs, create_graph)
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                   "jacobian")
    _require_grad(outputs, strict)
    if vectorize and strict and strategy == "reverse-mode":
        raise RuntimeError(STRICT_AND_VECTORIZE)
    from .._factories import zeros
    from .._layout import stack

    blocks = []
    for i, out in enumerate(outputs):
        flat = out.reshape(-1)
        rows = [[] for _ in inputs]
        independent = (f"Output {i} of the user-provided function is independent of input "
                       "{i}. This is not allowed in strict mode.") if strict else None
        for j in range(flat.numel()):
            gs = _grads([flat[j]], inputs, None, create_graph, independent) \
                if out.requires_grad else \
                tuple(zeros(x.shape, dtype=x.dtype) for x in inputs)
            for k, g in enumerate(gs):
                rows[k].append(g)
        per_input = []
        for k, x in enumerate(inputs):
            block = stack(rows[k]) if rows[k] else zeros(0, *x.shape, dtype=x.dtype)
            block = block.reshape(*out.shape, *x.shape)
            per_input.append(block if create_graph else block.detach())
        blocks.append(_pack(in_tuple, per_input))
    return _pack(out_tuple, blocks)


@_with_grad
def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """Second derivatives of a function returning one element: input.shape + input.shape.
    `vectorize` and `outer_jacobian_strategy` are checked as PyTorch checks them (the outer
    jacobian's)."""
    in_tuple, inputs_t = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*xs):
        out = func(*xs)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _require_grad(outs, strict)
        if out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if outs[0].numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        jac = _grads(outs, xs, None, True)   # zeros first, as PyTorch's inner jacobian
        _require_grad(jac, strict, JACOBIAN_INDEPENDENT)
        return _pack(in_tuple, jac)

    # NOTE: the strategy and vectorize flags were dropped here: outer_jacobian_strategy=
    # "forward-mode" without vectorize=True returned a Hessian where PyTorch raises
    # NotImplementedError
    return jacobian(gradient, inputs_t if in_tuple else inputs_t[0], create_graph=create_graph,
                    strict=strict, vectorize=vectorize, strategy=outer_jacobian_strategy)


def _first_derivative(func, inputs, v, create_graph: bool, strict: bool, name: str):
    """vhp's and hvp's common part: (input tuple?, inputs, output, v per input, gradient)."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _prepare(inputs, create_graph)
    _, outs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
    _require_grad(outs, strict)
    if len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(f"The function given to {name} should return a single Tensor with "
                           f"a single element.")
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = (_ones_for(inputs[0]),)
    else:
        _, vs = _check_v(_as_tuple(v, "v", name)[1], inputs, in_tuple)
    jac = _grads(outs, inputs, None, True, INDEPENDENT if strict else None)
    _require_grad(jac, strict, JACOBIAN_INDEPENDENT)
    return in_tuple, inputs, outs, vs, jac


@_with_grad
def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H): vector times the Hessian of a function returning one element."""
    in_tuple, inputs, outs, vs, jac = _first_derivative(func, inputs, v, create_graph, strict,
                                                        "vhp")
    result = _grads(jac, inputs, vs, create_graph, INDEPENDENT if strict else None)
    return _detach(outs, create_graph)[0], _pack(in_tuple, _detach(result, create_graph))


@_with_grad
def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v), by PyTorch's double backward: the gradient's vjp with a zero
    vector u is linear in u, and its derivative in u along v is H v. (As vhp's v^T H it was
    the transpose, which differs for a custom Function whose backward is no true gradient.)"""
    from .._factories import zeros_like

    in_tuple, inputs, outs, vs, jac = _first_derivative(func, inputs, v, create_graph, strict,
                                                        "hvp")
    us = tuple(zeros_like(x).requires_grad_() for x in inputs)
    double_back = _grads(jac, inputs, us, True)
    result = _grads(double_back, us, vs, create_graph, INDEPENDENT if strict else None)
    return _detach(outs, create_graph)[0], _pack(in_tuple, _detach(result, create_graph))
