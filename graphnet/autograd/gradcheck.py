"""`gradcheck` / `gradgradcheck`: analytical gradients (the tape) against central finite
differences, as torch.autograd.gradcheck."""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the gradients do not match (a RuntimeError, as PyTorch's)."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical(func, inputs, k: int, eps: float) -> list:
    """d(outputs)/d(inputs[k]) by central differences: per output, [out.numel(), in.numel()]."""
    from .. import no_grad, tensor

    x = inputs[k]
    base = np.array(x.detach().numpy(), dtype=x.detach().numpy().dtype)
    cols = []
    for j in range(base.size):
        outs = []
        for sign in (1, -1):
            pert = base.copy().reshape(-1)
            pert[j] += sign * eps
            args = list(inputs)
            args[k] = tensor(pert.reshape(base.shape), dtype=x.dtype,
                             requires_grad=x.requires_grad)
            with no_grad():
                outs.append([np.asarray(o.detach().numpy(), np.float64).reshape(-1)
                             for o in _as_tuple(func(*args)) if isinstance(o, Tensor)])
        cols.append([(a - b) / (2 * eps) for a, b in zip(*outs)])
    return [np.stack([c[i] for c in cols], axis=1) if cols else np.zeros((0, 0))
            for i in range(len(cols[0]) if cols else 0)]


def _analytical(func, inputs, k: int) -> list:
    from ._api import grad

    outs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    rows = []
    for o in outs:
        flat = o.reshape(-1)
        jac = np.zeros((flat.numel(), inputs[k].numel()))
        if o.requires_grad:
            for i in range(flat.numel()):
                (g,) = grad(flat[i], inputs[k], retain_graph=True, allow_unused=True)
                if g is not None:
                    jac[i] = np.asarray(g.detach().numpy(), np.float64).reshape(-1)
        rows.append(jac)
    return rows


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """True when `func`'s gradients with respect to every input that requires grad match
    finite differences (use float64 inputs); else raise GradcheckError (or return False).

    >>> x = graphnet.randn(3, dtype=graphnet.float64, requires_grad=True)
    >>> graphnet.autograd.gradcheck(graphnet.sin, (x,))
    True
    """
    inputs = _as_tuple(inputs)
    for k, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.itemsize < 8:
            warnings.warn(f"Input #{k} requires gradient and is not a double precision "
                          f"floating point or complex. This check will likely fail if all the "
                          f"inputs are not of double precision floating point or complex. ",
                          stacklevel=2)
    if not check_backward_ad:
        return True
    for k, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numerical = _numerical(func, inputs, k, eps)
        analytical = _analytical(func, inputs, k)
        for j, (a, n) in enumerate(zip(analytical, numerical)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input "
                                     f"{k},\nnumerical:{n}\nanalytical:{a}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """gradcheck of the gradient itself: second derivatives against finite differences of
    `create_graph=True` gradients. `grad_outputs` default to fixed random float64 tensors."""
    from .. import Generator, enable_grad, randn
    from ._api import grad

    inputs = _as_tuple(inputs)
    outs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    if grad_outputs is None:
        gen = Generator().manual_seed(0)
        grad_outputs = tuple(randn(*o.shape, dtype=o.dtype, generator=gen).requires_grad_()
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*args):
        ins, gos = args[:n], args[n:]
        with enable_grad():   # also while gradcheck evaluates it for finite differences
            outputs = [o for o in _as_tuple(func(*ins)) if isinstance(o, Tensor)]
            grads = grad(outputs, [ins[i] for i in diff], gos, create_graph=True,
                         allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
