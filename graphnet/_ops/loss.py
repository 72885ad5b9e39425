"""Loss kernels. Each is one op so the IR stays readable (one `cross_entropy` line, not ten):
classification (cross-entropy, NLL, binary cross-entropy on probabilities and on logits, KL
divergence) and regression (MSE, L1, smooth L1, Huber). PyTorch's formulas, `reduction` as an
attribute."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ._checks import _xp, first_where
from ._opmath import true_divide, wide_sum
from ._table import ValueCheck, defop


def _reduce(loss, reduction, weight_sum=None, valid=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return wide_sum(loss, None, False)
    if weight_sum is None:    # float32: the float64 sum (see wide_sum), PyTorch's division
        return true_divide(wide_sum(loss, None, False), loss.size) \
            if loss.dtype == jnp.float32 else jnp.mean(loss)
    # NOTE: every target ignored (a batch of padding): PyTorch's mean is 0/0 = NaN with a
    # zero gradient. Targets that are not ignored but weigh 0 in all (class weight 0): NaN
    # too, and a NaN gradient at their rows (PyTorch's weight * grad / total_weight). The
    # ignored rows are selected away, not multiplied by the infinite 1 / 0, so their gradient
    # stays 0 (a plain division made every gradient NaN and poisoned the step). NOTE: no
    # reduction besides the weight sum: over a sharded batch each one is an all-reduce.
    if valid is not None:
        loss = jnp.where(valid, loss, jnp.zeros((), loss.dtype))
    mean = jnp.sum(loss) / weight_sum
    # 0 / 0 is NaN already; a label-smoothing term over the other classes' weights is x / 0 =
    # inf, where PyTorch divides each term by the total weight and adds NaN to inf
    return mean + jnp.where(weight_sum == 0, jnp.nan, 0).astype(mean.dtype)


def _class_targets(scores, target, *weight, ignore_index=-100, probs_target=False, **_):
    """Every label is ignore_index or a class in [0, C): JAX would clamp -1 to class 0."""
    if probs_target:   # class probabilities, not labels
        return False, ()
    outside = (target != ignore_index) & ((target < 0) | (target >= scores.shape[1]))
    bad, value = first_where(outside, target)
    return bad, (value,)


CLASS_TARGETS = ValueCheck(
    _class_targets, lambda facts, **_: IndexError(f"Target {facts[0]} is out of bounds."))


@defop("cross_entropy", "reduction", nondiff_inputs=(1, 2), check=CLASS_TARGETS,
       function="nn.functional.cross_entropy", method=None, dump=True,
       backward="NllLossBackward0")
def cross_entropy(logits, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, probs_target=False):
    """Class dim is 1 (PyTorch layout): logits [N, C, ...], integer target [N, ...]."""
    logp = jax.nn.log_softmax(logits, axis=1)
    n_classes = logits.shape[1]
    w = jnp.ones((n_classes,), logits.dtype) if weight is None else weight.astype(logits.dtype)
    wshape = (1, n_classes) + (1,) * (logits.ndim - 2)
    if probs_target:  # target holds class probabilities, same shape as logits
        target = target.astype(logits.dtype)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        return _reduce(-jnp.sum(logp * target * w.reshape(wshape), axis=1), reduction)
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = _pick_class(logp, safe)
    w_t = jnp.where(valid, w[safe], 0.0)
    nll = _ignored_zero(-picked * w_t, valid)
    if label_smoothing:
        smooth = _ignored_zero(-jnp.sum(logp * w.reshape(wshape), axis=1), valid)
        nll = (1 - label_smoothing) * nll + label_smoothing / n_classes * smooth
    return _reduce(nll, reduction, jnp.sum(w_t), valid)


def _ignored_zero(loss, valid):
    """0 at the ignored rows, selected, as PyTorch's: a padding row of -inf log-probabilities
    made `-(-inf) * 0` NaN, and so the 'sum' and 'none' reductions."""
    return jnp.where(valid, loss, jnp.zeros((), loss.dtype))


@defop("soft_cross_entropy", "reduction", function=None, method=None,
       backward="NllLossBackward0")
def soft_cross_entropy(logits, target, weight=None, *, reduction="mean", label_smoothing=0.0):
    """cross_entropy with class probabilities as the target (the input's shape): the target
    and the class weight get gradients too, as in PyTorch, which computes this case with
    differentiable tensor ops (soft labels from a network that is not detached, learned
    class weights)."""
    return cross_entropy(logits, target, weight, reduction=reduction,
                         label_smoothing=label_smoothing, probs_target=True)


@defop("nll_loss", "reduction", nondiff_inputs=(1, 2), check=CLASS_TARGETS,
       function="nn.functional.nll_loss", method=None, dump=True)
def nll_loss(logp, target, weight=None, *, ignore_index=-100, reduction="mean"):
    n_classes = logp.shape[1]
    w = jnp.ones((n_classes,), logp.dtype) if weight is None else weight.astype(logp.dtype)
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = _pick_class(logp, safe)
    w_t = jnp.where(valid, w[safe], 0.0)
    return _reduce(_ignored_zero(-picked * w_t, valid), reduction, jnp.sum(w_t), valid)


def _pick_class(logp, target):
    """logp[n, target[n, ...], ...]: each position's target class, along axis 1.

    NOTE: a select against the class index, summed over the classes, rather than a gather:
    the gather's gradient is a scatter, which XLA-CPU runs as a separate loop, while the
    select's is a select that fuses into the softmax's gradient (the MLP step's loss and
    gradient had a scatter of its own). The sum adds exact zeros, so the value is the
    gathered one; the work is one pass over logp, which log_softmax makes anyway."""
    classes = lax.broadcasted_iota(target.dtype, logp.shape, 1)
    hit = classes == jnp.expand_dims(target, 1)
    return jnp.sum(jnp.where(hit, logp, jnp.zeros((), logp.dtype)), axis=1)


@defop("mse_loss", "reduction", function="nn.functional.mse_loss", method=None, dump=True)
def mse_loss(x, y, *, reduction="mean"):
    return _reduce(jnp.square(x - y), reduction)


def _abs(d):
    # NOTE: d * sign(d) is |d| with PyTorch's gradient at 0 (sign(0) = 0); jnp.abs gives 1 there.
    # PyTorch's sign(NaN) is 0 too: a target masked out by `where(isnan)` gets no NaN gradient
    # (the value stays NaN: NaN * 0)
    sign = jnp.where(jnp.isnan(d), jnp.zeros((), d.dtype), jnp.sign(d))
    return d * jax.lax.stop_gradient(sign)


@defop("l1_loss", "reduction", function="nn.functional.l1_loss", method=None)
def l1_loss(x, y, *, reduction="mean"):
    return _reduce(_abs(x - y), reduction)


@defop("smooth_l1_loss", "reduction", function="nn.functional.smooth_l1_loss", method=None)
def smooth_l1_loss(x, y, *, beta=1.0, reduction="mean"):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is the L1 loss."""
    d = x - y
    if beta == 0.0:  # the quadratic branch would divide by zero (NaN grads through `where`)
        return _reduce(_abs(d), reduction)
    a = _abs(d)
    # the untaken square of an infinite d would make its grad NaN; a NaN d keeps its NaN grad
    q = jnp.where(a >= beta, 0, d)
    return _reduce(jnp.where(a < beta, 0.5 * q * q / beta, a - 0.5 * beta), reduction)


@defop("huber_loss", "reduction", function="nn.functional.huber_loss", method=None)
def huber_loss(x, y, *, delta=1.0, reduction="mean"):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    d = x - y
    a = _abs(d)
    q = jnp.where(a >= delta, 0, d)   # as smooth_l1_loss: no NaN grad from an infinite d
    return _reduce(jnp.where(a < delta, 0.5 * q * q, delta * (a - 0.5 * delta)), reduction)


@jax.custom_jvp
def _bce(p, y):
    # NOTE: PyTorch clamps each log at -100 so that p = 0 or 1 gives a finite loss.
    return -(y * jnp.maximum(jnp.log(p), -100.0) + (1.0 - y) * jnp.maximum(jnp.log1p(-p), -100.0))


@_bce.defjvp
def _bce_jvp(primals, tangents):
    # PyTorch's own derivatives: d/dp = (p - y) / max(p (1 - p), 1e-12), d/dy = -logit(p).
    # Autodiff of the clamped logs would give NaN at p = 0 or 1.
    p, y = primals
    dp, dy = tangents
    d_p = (p - y) / jnp.maximum(p * (1.0 - p), 1e-12)
    d_y = jnp.log1p(-p) - jnp.log(p)
    return _bce(p, y), d_p * dp + d_y * dy


def _probabilities(p, y, *weight, **_):
    """Every input and target value in [0, 1] (NaN is outside): PyTorch checks both, input
    first; a target of 2 gave a plausible loss and a NaN input a NaN one."""
    xp = _xp(p, y)
    bad_input = xp.any(~((p >= 0) & (p <= 1)))
    bad_target = xp.any(~((y >= 0) & (y <= 1)))
    return bad_input | bad_target, (xp.where(bad_input, 0, 1).astype(xp.int64),)


PROBABILITIES = ValueCheck(
    _probabilities, lambda facts, **_: RuntimeError(
        f"all elements of {'input' if facts[0] == 0 else 'target'} should be between 0 and 1"),
    values_from=0)


@defop("binary_cross_entropy", "reduction", nondiff_inputs=(2,), check=PROBABILITIES,
       function="nn.functional.binary_cross_entropy", method=None)
def binary_cross_entropy(p, y, *weight, reduction="mean"):
    """p: probabilities in [0, 1]; y: targets of p's shape; optional weight broadcast to p."""
    loss = _bce(p, y.astype(p.dtype))
    return _reduce(loss * weight[0] if weight else loss, reduction)


@defop("binary_cross_entropy_with_logits", "reduction", nondiff_inputs=(2, 3),
       function="nn.functional.binary_cross_entropy_with_logits", method=None)
def binary_cross_entropy_with_logits(x, y, *extra, has_weight=False, has_pos_weight=False,
                                     reduction="mean"):
    """Sigmoid + BCE in one stable formula: (1 - y) x + (1 + (pw - 1) y) softplus(-x).
    `extra` is the weight (if `has_weight`) then pos_weight (if `has_pos_weight`)."""
    extra = list(extra)
    weight = extra.pop(0) if has_weight else None
    pos_weight = extra.pop(0) if has_pos_weight else None
    y = y.astype(x.dtype)
    loss = _logits_loss(x, y, jnp.ones((), x.dtype) if pos_weight is None else pos_weight)
    return _reduce(loss if weight is None else loss * weight, reduction)


@jax.custom_jvp
def _logits_loss(x, y, pw):
    return (1.0 - y) * x + (1.0 + (pw - 1.0) * y) * -jax.nn.log_sigmoid(x)


@_logits_loss.defjvp
def _logits_loss_jvp(primals, tangents):
    """PyTorch's slopes: c sigmoid(x) - pw y for x (c = 1 + (pw - 1) y), with no
    cancellation; differentiating the formula gave (1 - y) - c sigmoid(-x), which cancels
    (46% off at x = -15, y = 1e-6, and 0 at x = -85 where torch gives 1.2e-37)."""
    (x, y, pw), (tx, ty, tpw) = primals, tangents
    softplus_neg = -jax.nn.log_sigmoid(x)
    c = 1.0 + (pw - 1.0) * y
    out = (1.0 - y) * x + c * softplus_neg
    slope_x = c * jax.nn.sigmoid(x) - pw * y
    slope_y = (pw - 1.0) * softplus_neg - x
    return out, slope_x * tx + slope_y * ty + y * softplus_neg * tpw


@defop("kl_div", "reduction", function="nn.functional.kl_div", method=None)
def kl_div(x, target, *, reduction="mean", log_target=False):
    """x: log-probabilities. Pointwise target (log target - x), 0 where target is 0;
    'batchmean' divides the sum by the batch size (x.shape[0])."""
    if log_target:
        loss = jnp.exp(target) * (target - x)
    else:
        loss = jax.scipy.special.xlogy(target, target) - target * x
    if reduction == "batchmean":
        total = jnp.sum(loss)
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)
