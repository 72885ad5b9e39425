"""L-BFGS with torch 2.13's algorithm, options and state: a closure re-evaluates the loss,
the history of (y, s) pairs gives the search direction by the two-loop recursion, and the
step is lr (or lr-scaled on the first iteration) or found by a strong-Wolfe line search.

It runs eagerly only. Every iteration decides in Python, from loss and gradient values,
whether to keep a history pair, where the line search goes next and whether to stop; a
compiled program would fix those decisions at trace time, so `step()` inside
`graphnet.compile` raises a TraceError. The closure itself may call a compiled function.

The arithmetic mirrors torch's dtypes: vectors are flat arrays of the parameters' dtype, and
the scalars torch keeps as 0-d tensors (ys, ro, H_diag, the step t after the first
iteration) are 0-d arrays of that dtype here too, so the float32 rounding is the same.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._autograd import enable_grad, no_grad
from .._errors import TraceError
from .._mode import tracing
from .._aliases import store
from .._autograd_versions import note_step
from .._tensor import Tensor
from .._x64 import x64_scoped
from ._lbfgs_search import strong_wolfe
from ._checks import check_tensor_lr
from ._optimizer import Optimizer

# State entries holding an array (wrapped as Tensors between steps, as torch keeps tensors).
_ARRAY_KEYS = ("d", "t", "H_diag", "prev_flat_grad")
_LIST_KEYS = ("old_dirs", "old_stps", "ro", "al")


def _wrap(value):
    return Tensor._wrap(value) if isinstance(value, jnp.ndarray) else value


def _unwrap(value):
    return value._value if isinstance(value, Tensor) else value


def _lr_as_torch_reads_it(lr):
    """`group['lr']` as torch's LBFGS reads it: a number stays as it is and a 1-element tensor
    becomes a 0-d array of its dtype. The step t after the first iteration is this value."""
    # NOTE: LBFGS(lr=1) stored state['t'] = 1.0 where torch keeps the int 1 (and a tensor
    # lr left a float where torch keeps a 0-d tensor): float(lr) changed the type.
    return lr._value.reshape(()) if isinstance(lr, Tensor) else lr


def _scaled(vector, t):
    """vector * t in the vector's dtype: torch's `d.mul(t)` keeps d's dtype when t is a 0-d
    tensor of another (a float64 lr), where JAX would promote the product to float64."""
    return vector * (t.astype(vector.dtype) if isinstance(t, jnp.ndarray) else t)


class LBFGS(Optimizer):
    """L-BFGS; `step(closure)` needs a closure that clears the gradients, computes the
    loss, calls backward() and returns the loss.

    >>> opt = graphnet.optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = loss_fn(model(x), y)
    ...     loss.backward()
    ...     return loss
    >>> opt.step(closure)

    Only one parameter group (as in torch). State, kept on the first parameter:
    'func_evals', 'n_iter', 'd', 't', 'old_dirs', 'old_stps', 'ro', 'H_diag',
    'prev_flat_grad', 'prev_loss' and (after the second iteration) 'al'.
    """

    def __init__(self, params, lr=1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ---- flat views of the parameters and their gradients ------------------------------------
    def _gather_flat_grad(self):
        views = [jnp.zeros(p._value.size, p._value.dtype) if p.grad is None
                 else p.grad._value.reshape(-1) for p in self._params]
        return jnp.concatenate(views, 0)

    def _add_grad(self, step_size, update) -> None:
        offset = 0
        for p in self._params:
            numel = p._value.size
            chunk = update[offset:offset + numel].reshape(p._value.shape)
            store(p, p._value + _scaled(chunk, step_size).astype(p._value.dtype))
            note_step(p)
            offset += numel

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, value in zip(self._params, x, strict=True):
            store(p, value)
            note_step(p)
        return loss, flat_grad

    # ---- the step ----------------------------------------------------------------------------
    @no_grad()
    @x64_scoped
    def step(self, closure):
        """Run up to max_iter L-BFGS iterations; returns the closure's first loss."""
        if tracing():
            raise TraceError(
                "LBFGS.step() was called inside a function being compiled. L-BFGS decides in "
                "Python, from loss and gradient values, how many closure calls each step "
                "makes, what history it keeps and when it stops; a compiled program would "
                "freeze those decisions. Call opt.step(closure) outside graphnet.compile "
                "(the closure may itself call a compiled function that computes the loss and "
                "its gradients).")
        if closure is None:
            raise TypeError("LBFGS.step() requires a closure that re-evaluates the model and "
                            "returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = (_lr_as_torch_reads_it(group["lr"]), group["max_iter"],
                                  group["max_eval"])
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if jnp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t, H_diag, prev_flat_grad = (_unwrap(state.get(k)) for k in _ARRAY_KEYS)
        old_dirs, old_stps, ro = (
            None if state.get(k) is None else [_unwrap(v) for v in state[k]]
            for k in ("old_dirs", "old_stps", "ro"))
        prev_loss = state.get("prev_loss")
        al = None if "al" not in state else [_unwrap(v) for v in state["al"]]
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = _scaled(d, t)
                ys = y.dot(s)
                if ys > 1e-10:   # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                    state["al"] = None   # NOTE: keeps torch's key order; filled in at the end
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q = q + (-al[i]) * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = flat_grad
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / jnp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:   # not a descent direction
                break
            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p._value for p in self._params]

                def obj_func(x, step, direction):
                    return self._directional_evaluate(evaluate, x, step, direction)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = jnp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = jnp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if jnp.abs(_scaled(d, t)).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=_wrap(d), t=_wrap(t), old_dirs=[_wrap(v) for v in old_dirs],
                     old_stps=[_wrap(v) for v in old_stps], ro=[_wrap(v) for v in ro],
                     H_diag=_wrap(H_diag), prev_flat_grad=_wrap(prev_flat_grad),
                     prev_loss=prev_loss)
        if al is not None:
            state["al"] = [_wrap(v) for v in al]
        return orig_loss
