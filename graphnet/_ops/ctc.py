"""CTC loss: the forward (alpha) recursion in log space with `jax.lax.scan`, and PyTorch's own
gradient.

Each target of length L becomes the extended label sequence blank, y1, blank, y2, ..., yL,
blank (2L + 1 states). alpha[t, s] is the log-probability of all paths that emit the first
t + 1 frames and sit in state s; the loss is -log(alpha[T-1, 2L] + alpha[T-1, 2L - 1]).
Frames past an item's input length leave its alphas unchanged.

NOTE: PyTorch's gradient with respect to `log_probs` is not the plain derivative of the
formula: it is exp(log_probs) - occupancy, the gradient the logits would get if log_probs
were their log_softmax. (Through a log_softmax both give the same logits gradient; on a
log_probs leaf they differ.) graphnet reproduces PyTorch's, with a backward (beta) scan:
occupancy[t, c] = sum over states s labelled c of exp(alpha[t, s] + beta[t, s] + nll -
log_probs[t, c]), zero past each input length, and all zero for an infinite loss when
`zero_infinity`."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._checks import _xp, first_failure, first_where
from ._table import ValueCheck, defop

NEG_INF = -jnp.inf


def _extended(targets, blank: int):
    """[N, S] targets -> [N, 2S + 1] labels (blank between and around) and, per state, whether
    it may be entered from two states back: a target position (odd state) whose label differs
    from the previous target's.

    NOTE: PyTorch decides by the state's position, not by comparing its label with `blank`,
    so a target that contains the blank label gets PyTorch's numbers too."""
    n, s = targets.shape
    labels = jnp.full((n, 2 * s + 1), blank, targets.dtype).at[:, 1::2].set(targets)
    two_back = jnp.concatenate([labels[:, :2], labels[:, :-2]], axis=1)
    odd = (jnp.arange(2 * s + 1) % 2 == 1) & (jnp.arange(2 * s + 1) >= 3)
    skip = odd[None, :] & (labels != two_back)
    return labels, skip


def _lse(*xs):
    m = functools.reduce(jnp.maximum, xs)
    safe = jnp.where(jnp.isfinite(m), m, 0)
    return jnp.log(sum(jnp.exp(x - safe) for x in xs)) + safe


def _shift(a, k):
    """a[:, s - k] along the state axis, -inf where s < k. NOTE: k is clamped to the number
    of states: with every target empty there is one state (blank), and `a[:, :-2]` of one
    column gave a carry of another shape (a crash where PyTorch returns the loss)."""
    k = min(k, a.shape[1])
    return jnp.concatenate([jnp.full(a.shape[:1] + (k,), NEG_INF, a.dtype),
                            a[:, :a.shape[1] - k]], axis=1)


def _unshift(a, k):
    """a[:, s + k] along the state axis, -inf past the end (k clamped as in `_shift`)."""
    k = min(k, a.shape[1])
    return jnp.concatenate([a[:, k:], jnp.full(a.shape[:1] + (k,), NEG_INF, a.dtype)], axis=1)


def _alphas(lp_states, skip, input_lengths, target_lengths):
    """lp_states [T, N, 2S+1]: log_probs of each state's label. -> alphas [T, N, 2S+1]."""
    n_states = lp_states.shape[2]
    states = jnp.arange(n_states)
    first = (states[None, :] == 0) | ((states[None, :] == 1) & (target_lengths[:, None] > 0))
    alpha0 = jnp.where(first, lp_states[0], NEG_INF)

    def step(alpha, xs):
        t, lp = xs
        new = _lse(alpha, _shift(alpha, 1), jnp.where(skip, _shift(alpha, 2), NEG_INF)) + lp
        alpha = jnp.where((t < input_lengths)[:, None], new, alpha)
        return alpha, alpha

    t = jnp.arange(1, lp_states.shape[0])
    _, rest = jax.lax.scan(step, alpha0, (t, lp_states[1:]))
    return jnp.concatenate([alpha0[None], rest], axis=0)


def _final(alphas, input_lengths, target_lengths):
    """nll [N] from the alphas at each item's last frame."""
    n = alphas.shape[1]
    last = alphas[jnp.maximum(input_lengths - 1, 0), jnp.arange(n)]            # [N, 2S+1]
    end = jnp.take_along_axis(last, (2 * target_lengths)[:, None], axis=1)[:, 0]
    before = jnp.take_along_axis(last, jnp.maximum(2 * target_lengths - 1, 0)[:, None], 1)[:, 0]
    before = jnp.where(target_lengths > 0, before, NEG_INF)
    nll = -_lse(end, before)
    # no frames: only the empty target is possible, with probability 1
    return jnp.where(input_lengths == 0, jnp.where(target_lengths == 0, 0, jnp.inf), nll)


def _betas(lp_states, skip, input_lengths, target_lengths):
    """PyTorch's betas (they include the frame's own log-prob), by a reverse scan."""
    n_states = lp_states.shape[2]
    states = jnp.arange(n_states)[None, :]
    end = 2 * target_lengths[:, None]
    last = (states == end) | ((states == end - 1) & (target_lengths[:, None] > 0))
    # may state s + 2 be entered from s (False past the end)
    skip_next = jnp.concatenate([skip[:, 2:], jnp.zeros_like(skip[:, :2])], axis=1)

    def step(beta, xs):
        t, lp = xs
        new = _lse(beta, _unshift(beta, 1), jnp.where(skip_next, _unshift(beta, 2), NEG_INF)) + lp
        start = jnp.where(last, lp, NEG_INF)
        t_last = (input_lengths - 1)[:, None]
        beta = jnp.where(t == t_last, start, jnp.where(t < t_last, new, NEG_INF))
        return beta, beta

    t = jnp.arange(lp_states.shape[0])
    init = jnp.full(lp_states.shape[1:], NEG_INF, lp_states.dtype)
    _, betas = jax.lax.scan(step, init, (t, lp_states), reverse=True)
    return betas


@functools.partial(jax.custom_vjp, nondiff_argnums=(5,))
def _ctc_nll(log_probs, labels, skip, input_lengths, target_lengths, zero_infinity):
    nll, _ = _ctc_forward(log_probs, labels, skip, input_lengths, target_lengths, zero_infinity)
    return nll


def _states(log_probs, labels):
    """[T, N, C] log_probs gathered at each state's label: [T, N, 2S+1]."""
    return jnp.take_along_axis(log_probs, jnp.broadcast_to(
        labels[None], (log_probs.shape[0],) + labels.shape), axis=2)


def _ctc_forward(log_probs, labels, skip, input_lengths, target_lengths, zero_infinity):
    lp_states = _states(log_probs, labels)
    alphas = _alphas(lp_states, skip, input_lengths, target_lengths)
    nll = _final(alphas, input_lengths, target_lengths)
    if zero_infinity:
        nll = jnp.where(jnp.isinf(nll), 0, nll)
    return nll, (log_probs, labels, skip, input_lengths, target_lengths, alphas)


def _ctc_backward(zero_infinity, saved, grad_nll):
    log_probs, labels, skip, input_lengths, target_lengths, alphas = saved
    lp_states = _states(log_probs, labels)
    betas = _betas(lp_states, skip, input_lengths, target_lengths)
    nll = _final(alphas, input_lengths, target_lengths)
    # PyTorch's sum per class in log space, lcab[t, c] = log sum over the states s <= 2L
    # labelled c of exp(alpha + beta), -inf for a class no state has; then occupancy =
    # exp(lcab + nll - log_probs). So a class masked to -inf and absent from the target is
    # NaN (-inf + inf), as is every class of an impossible target (nll inf), as in PyTorch;
    # the states past 2L (the padding's labels) take no part
    within = jnp.arange(labels.shape[1])[None, :] <= 2 * target_lengths[:, None]   # [N, 2S+1]
    paths = jnp.where(within[None] & ~_overwritten(labels, input_lengths, target_lengths,
                                                   log_probs.shape[0]), alphas + betas, NEG_INF)
    n_frames, n_batch = log_probs.shape[:2]
    where = (jnp.arange(n_frames)[:, None, None], jnp.arange(n_batch)[None, :, None],
             labels[None])
    top = jnp.full(log_probs.shape, NEG_INF, paths.dtype).at[where].max(paths)
    safe = jnp.where(jnp.isfinite(top), top, 0)
    total = jnp.zeros(log_probs.shape, paths.dtype).at[where].add(
        jnp.exp(paths - jnp.take_along_axis(safe, jnp.broadcast_to(labels[None], paths.shape),
                                            axis=2)))
    lcab = jnp.log(total) + safe
    occupancy = jnp.exp(lcab + nll[None, :, None] - log_probs)
    grad = (jnp.exp(log_probs) - occupancy) * grad_nll[None, :, None]
    frames = jnp.arange(log_probs.shape[0])[:, None] < input_lengths[None, :]   # [T, N]
    keep = frames if not zero_infinity else frames & ~jnp.isinf(nll)[None, :]
    grad = jnp.where(keep[:, :, None], grad, 0)
    return grad, None, None, None, None


def _overwritten(labels, input_lengths, target_lengths, n_frames):
    """[T, N, 2S+1]: the state 2L at the last frame when the last target is the blank label.

    NOTE: PyTorch's backward writes the last frame's two states into the gradient without
    adding them ("a blank and a non-blank, so we know they are different"); for a target
    ending in the blank label the second overwrites the first. Reproduced for parity; only
    such (invalid) targets are affected."""
    end = 2 * target_lengths
    last_label = jnp.take_along_axis(labels, jnp.maximum(end - 1, 0)[:, None], axis=1)[:, 0]
    blank = jnp.take_along_axis(labels, end[:, None], axis=1)[:, 0]
    clash = (target_lengths > 0) & (last_label == blank)                          # [N]
    frame = jnp.arange(n_frames)[:, None] == (input_lengths - 1)[None, :]           # [T, N]
    state = jnp.arange(labels.shape[1])[None, :] == end[:, None]                   # [N, 2S+1]
    return frame[:, :, None] & (clash[:, None] & state)[None]


_ctc_nll.defvjp(_ctc_forward, _ctc_backward)


def _padded(targets, target_lengths):
    """Concatenated 1-D targets -> [N, total] rows, each item's labels first."""
    starts = jnp.cumsum(target_lengths) - target_lengths
    index = starts[:, None] + jnp.arange(targets.shape[0])[None, :]
    return targets[jnp.minimum(index, max(targets.shape[0] - 1, 0))]


def _bad_lengths(log_probs, targets, input_lengths, target_lengths, **_):
    """Lengths within the inputs, and every label within its length a class of log_probs
    (PyTorch reads memory out of bounds for those; graphnet raises)."""
    t_max, n_classes = log_probs.shape[0], log_probs.shape[2]
    limit = targets.shape[-1]
    xp = _xp(targets, target_lengths)
    if targets.ndim == 2:
        used = xp.arange(limit)[None, :] < target_lengths[:, None]
    else:
        used = xp.arange(limit) < target_lengths.sum()
    bad_class = used & ((targets < 0) | (targets >= n_classes))
    checks = [
        _fact(input_lengths > t_max, input_lengths, 0, t_max),
        _fact(input_lengths < 0, input_lengths, 1, 0),
        _fact(target_lengths > limit, target_lengths, 2, limit),
        _fact(target_lengths < 0, target_lengths, 3, 0),
        _fact(bad_class, targets, 4, n_classes),
    ]
    if targets.ndim == 1:   # concatenated: the lengths add up to the labels there are
        total = target_lengths.sum()
        checks.insert(2, (total != limit, (total, 5, limit)))
    return first_failure(checks)


def _fact(mask, values, which: int, limit: int):
    bad, value = first_where(mask, values)
    return bad, (value, which, limit)


def _length_error(facts, **_):
    value, which, limit = facts
    where = "(while checking arguments for ctc_loss_allocate_outputs)"
    if which == 0:
        return RuntimeError(f"Expected input_lengths to have value at most {limit}, but got "
                            f"value {value} {where}")
    if which in (1, 3):
        name = "input_lengths" if which == 1 else "target_lengths"
        return RuntimeError(f"Expected {name} to have value at least 0, but got value "
                            f"{value} {where}")
    if which == 2:
        return RuntimeError(f"Expected tensor to have size at least {value} at dimension 1, "
                            f"but got size {limit} for argument #2 'targets' {where}")
    if which == 5:
        return RuntimeError(f"Expected tensor to have size {value} at dimension 0, but got size "
                            f"{limit} for argument #2 'targets' {where}")
    return IndexError(f"ctc_loss: target {value} is out of bounds for {limit} classes")


@defop("ctc_loss", "opaque", nondiff_inputs=(1, 2, 3), check=ValueCheck(_bad_lengths,
       _length_error), function=("ctc_loss", "nn.functional.ctc_loss"), method=None)
def ctc_loss(log_probs, targets, input_lengths, target_lengths, *, blank=0, reduction="mean",
             zero_infinity=False):
    """log_probs [T, N, C]; targets [N, S] padded or 1-D concatenated; lengths [N]."""
    input_lengths = input_lengths.astype(jnp.int32)
    target_lengths = target_lengths.astype(jnp.int32)
    if targets.ndim == 1:
        targets = _padded(targets, target_lengths)
    labels, skip = _extended(targets.astype(jnp.int32), blank)
    nll = _ctc_nll(log_probs, labels, skip, input_lengths, target_lengths, zero_infinity)
    if reduction == "none":
        return nll
    if reduction == "sum":
        return jnp.sum(nll)
    return jnp.mean(nll / jnp.maximum(target_lengths, 1).astype(nll.dtype))
