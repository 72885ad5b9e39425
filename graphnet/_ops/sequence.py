"""Sequence kernels: embedding lookup, recurrent layers and attention.

A recurrent layer is one op per layer and direction: the input projection of every time step is
one matmul outside the loop, and `jax.lax.scan` carries the hidden state through time, so the IR
shows `lstm_layer(...)` rather than T unrolled cells, and XLA compiles the loop once. The ops run
forward in time; a reverse direction flips its input and output around the op (nn/_rnn.py), so
both directions share one compiled kernel (and one compiled VJP) per shape."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _opmath as opmath
from ._checks import _xp, first_failure, first_where
from ._table import ValueCheck, defop


def _embedding_rows(weight, indices, **_):
    """Row numbers in [0, num_embeddings); PyTorch refuses negative ones too."""
    bad, value = first_where((indices < 0) | (indices >= weight.shape[0]), indices)
    return bad, (value, weight.shape[0])


EMBEDDING = ValueCheck(_embedding_rows, lambda facts, **_: IndexError(
    f"index out of range in self (index {facts[0]}, num_embeddings {facts[1]})"))


@defop("embedding", "opaque", nondiff_inputs=(1,), check=EMBEDDING,
       function="nn.functional.embedding", method=None)
def embedding(weight, indices, *, padding_idx=None, scale_grad_by_freq=False):
    """Rows of `weight` [num_embeddings, dim] picked by integer `indices` (any shape).
    `scale_grad_by_freq`: each picked row's gradient is divided by how often its index
    occurs in `indices`, as PyTorch does (the values are unchanged)."""
    if padding_idx is not None:
        # NOTE: PyTorch reads the padding row as stored but never sends it a gradient.
        frozen = (jnp.arange(weight.shape[0]) == padding_idx)[:, None]
        weight = jnp.where(frozen, jax.lax.stop_gradient(weight), weight)
    # Out-of-range indices (negative ones too) read NaN rows rather than wrapping around;
    # the EMBEDDING check raises for them, eagerly and in compiled programs (unless off).
    indices = jnp.where(indices < 0, weight.shape[0], indices)
    rows = jnp.take(weight, indices, axis=0, mode="fill")
    if not scale_grad_by_freq:
        return rows
    counts = jnp.bincount(indices.reshape(-1), length=weight.shape[0] + 1)[indices]
    return _gradient_scaled(rows, (1 / counts.astype(rows.dtype))[..., None])


@jax.custom_vjp
def _gradient_scaled(value, scale):
    """`value` itself, whose cotangent is multiplied by `scale` on the way back."""
    return value


def _gradient_scaled_forward(value, scale):
    return value, scale


def _gradient_scaled_backward(scale, grad):
    return grad * scale, jnp.zeros_like(scale)


_gradient_scaled.defvjp(_gradient_scaled_forward, _gradient_scaled_backward)


def _input_projection(x, w_ih, biases):
    """x [T, B, I] -> x W_ih^T + b_ih for all time steps at once, [T, B, G*H]."""
    xw = jnp.matmul(x, w_ih.T)
    return xw + biases[0] if biases else xw


def _recurrent_bias(biases):
    return biases[1] if biases else 0.0


def _rnn_cell(w_hh, b_hh, nonlinearity):
    act = opmath.tanh if nonlinearity == "tanh" else jax.nn.relu
    return lambda carry, xw_t: (act(xw_t + jnp.matmul(carry[0], w_hh.T) + b_hh),)


def _gru_cell(w_hh, b_hh):
    def cell(carry, xw_t):
        h = carry[0]
        x_r, x_z, x_n = jnp.split(xw_t, 3, axis=-1)
        h_r, h_z, h_n = jnp.split(jnp.matmul(h, w_hh.T) + b_hh, 3, axis=-1)
        r = jax.nn.sigmoid(x_r + h_r)
        z = jax.nn.sigmoid(x_z + h_z)
        n = opmath.tanh(x_n + r * h_n)
        return ((1.0 - z) * n + z * h,)
    return cell


def _lstm_cell(w_hh, b_hh, w_hr=None):
    """With `w_hr` [P, H] (proj_size > 0) the hidden state is projected: h = (o tanh c) W_hr^T."""
    def cell(carry, xw_t):
        h, c = carry
        i, f, g, o = jnp.split(xw_t + jnp.matmul(h, w_hh.T) + b_hh, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * opmath.tanh(g)
        h = jax.nn.sigmoid(o) * opmath.tanh(c)
        return (h if w_hr is None else jnp.matmul(h, w_hr.T), c)
    return cell


def _lstm_weights(rest, proj):
    """The trailing inputs of an LSTM op: (b_ih, b_hh)? then w_hr when `proj`."""
    return (rest[:-1], rest[-1]) if proj else (rest, None)


def _scan(cell, carry: tuple, xw, mask=None):
    """Carry the state through time; returns (final carry, outputs [T, B, H]).

    With a bool `mask` [T, B] (packed sequences), a step where mask[t, b] is False leaves
    sequence b's state as it was and outputs zeros, so the final carry of each sequence is
    its state at its own length."""
    def step(carry, inputs):
        if mask is None:
            new = cell(carry, inputs)
            return new, new[0]
        xw_t, keep = inputs
        keep = keep[:, None]
        new = cell(carry, xw_t)
        new = tuple(jnp.where(keep, n, old) for n, old in zip(new, carry, strict=True))
        return new, jnp.where(keep, new[0], jnp.zeros((), new[0].dtype))

    return jax.lax.scan(step, carry, xw if mask is None else (xw, mask))


@defop("rnn_layer", "opaque", n_outputs=2, function=None, method=None)   # nn.RNN
def rnn_layer(x, h0, w_ih, w_hh, *biases, nonlinearity="tanh"):
    """One direction of one Elman RNN layer. x [T, B, I] (time-major), h0 [B, H], weights as in
    PyTorch, optional (b_ih, b_hh). Returns (outputs [T, B, H], final hidden state [B, H]).

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu."""
    cell = _rnn_cell(w_hh, _recurrent_bias(biases), nonlinearity)
    (final,), outputs = _scan(cell, (h0,), _input_projection(x, w_ih, biases))
    return outputs, final


@defop("gru_layer", "opaque", n_outputs=2, function=None, method=None)   # nn.GRU
def gru_layer(x, h0, w_ih, w_hh, *biases):
    """One direction of one GRU layer; gates stacked (r, z, n) like PyTorch.

    r = sig(W_ir x + b_ir + W_hr h + b_hr), z likewise,
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h."""
    cell = _gru_cell(w_hh, _recurrent_bias(biases))
    (final,), outputs = _scan(cell, (h0,), _input_projection(x, w_ih, biases))
    return outputs, final


@defop("lstm_layer", "opaque", n_outputs=3, function=None, method=None)  # nn.LSTM
def lstm_layer(x, h0, c0, w_ih, w_hh, *rest, proj=False):
    """One direction of one LSTM layer; gates stacked (i, f, g, o) like PyTorch; `rest` is the
    optional (b_ih, b_hh), then W_hr when `proj`. Returns (outputs [T, B, H or P], final h,
    final c [B, H])."""
    biases, w_hr = _lstm_weights(rest, proj)
    cell = _lstm_cell(w_hh, _recurrent_bias(biases), w_hr)
    (h, c), outputs = _scan(cell, (h0, c0), _input_projection(x, w_ih, biases))
    return outputs, h, c


# Packed sequences (nn.utils.rnn.PackedSequence): the same layers over a padded [T, B, I]
# input with a bool mask [T, B] saying which steps exist; see nn/_rnn_packed.py.
def _steps_only(x, mask):
    """x with the padding (steps that do not exist) zeroed: padding that holds NaN or inf
    made every weight's gradient NaN (a zero cotangent times NaN), where PyTorch's packed
    data never holds the padding at all; the padding's own gradient is 0, as there."""
    return jnp.where(mask[..., None], x, jnp.zeros((), x.dtype))


@defop("rnn_packed_layer", "opaque", n_outputs=2, nondiff_inputs=(1,), function=None,
       method=None)
def rnn_packed_layer(x, mask, h0, w_ih, w_hh, *biases, nonlinearity="tanh"):
    """`rnn_layer` where sequence b only exists at the steps where mask[:, b] is True."""
    cell = _rnn_cell(w_hh, _recurrent_bias(biases), nonlinearity)
    xw = _input_projection(_steps_only(x, mask), w_ih, biases)
    (final,), outputs = _scan(cell, (h0,), xw, mask)
    return outputs, final


@defop("gru_packed_layer", "opaque", n_outputs=2, nondiff_inputs=(1,), function=None,
       method=None)
def gru_packed_layer(x, mask, h0, w_ih, w_hh, *biases):
    """`gru_layer` where sequence b only exists at the steps where mask[:, b] is True."""
    cell = _gru_cell(w_hh, _recurrent_bias(biases))
    xw = _input_projection(_steps_only(x, mask), w_ih, biases)
    (final,), outputs = _scan(cell, (h0,), xw, mask)
    return outputs, final


@defop("lstm_packed_layer", "opaque", n_outputs=3, nondiff_inputs=(1,), function=None,
       method=None)
def lstm_packed_layer(x, mask, h0, c0, w_ih, w_hh, *rest, proj=False):
    """`lstm_layer` where sequence b only exists at the steps where mask[:, b] is True."""
    biases, w_hr = _lstm_weights(rest, proj)
    cell = _lstm_cell(w_hh, _recurrent_bias(biases), w_hr)
    xw = _input_projection(_steps_only(x, mask), w_ih, biases)
    (h, c), outputs = _scan(cell, (h0, c0), xw, mask)
    return outputs, h, c


# Packed sequences whose lengths a compiled function only knows as traced values stay padded:
# this op turns the lengths into the step mask and the per-sequence reversal, and checks them
# the way PyTorch does (plus what the static layout assumes), eagerly or after the call.
_NOT_POSITIVE, _UNSORTED, _TOO_LONG, _SHORTER, _OVER_TOTAL = range(1, 6)


def _packed_lengths_rule(lengths, *, steps, rule, enforce_sorted=False, limit=0):
    xp = _xp(lengths)
    longest = lengths.max() if lengths.size else xp.asarray(0, xp.int64)
    candidates = []
    if rule == "pack":
        shortest = lengths[-1] if enforce_sorted else lengths.min()   # PyTorch sorts first
        candidates.append((shortest <= 0, (_NOT_POSITIVE, shortest)))
        if enforce_sorted and lengths.size > 1:
            candidates.append(((lengths[1:] > lengths[:-1]).any(), (_UNSORTED, 0)))
        candidates.append((longest > steps, (_TOO_LONG, longest)))
    elif rule == "pad_exact":
        candidates.append((longest != steps, (_SHORTER, longest)))
    else:   # "pad_at_most"
        candidates.append((longest > limit, (_OVER_TOTAL, longest)))
    return first_failure(candidates)


def _packed_lengths_error(facts, *, steps, rule, enforce_sorted=False, limit=0):
    from .._errors import TraceError

    kind, value = facts[0], facts[1]
    if kind == _NOT_POSITIVE:
        return RuntimeError("Length of all samples has to be greater than 0, but found an "
                            "element in 'lengths' that is <= 0")
    if kind == _UNSORTED:
        return RuntimeError("`lengths` array must be sorted in decreasing order when "
                            "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                            "pack_padded_sequence and/or pack_sequence to sidestep this "
                            "requirement if you do not need ONNX exportability.")
    if kind == _TOO_LONG:
        return RuntimeError(f"pack_padded_sequence: the longest length ({value}) exceeds the "
                            f"padded input's {steps} time steps")
    if kind == _SHORTER:
        return TraceError(
            f"pad_packed_sequence in a compiled function returns the padded input's {steps} "
            f"steps, but the longest length is {value}, so PyTorch would return {value} steps. "
            f"Pass total_length={steps} (or the length you need), or call it uncompiled.")
    return ValueError(f"Expected total_length to be at least the length of the longest "
                      f"sequence in input, but got total_length={limit} and max sequence "
                      f"length being {value}")


PACKED_LENGTHS = ValueCheck(_packed_lengths_rule, _packed_lengths_error, values_from=0)


@defop("packed_lengths", "opaque", n_outputs=2, differentiable=False, check=PACKED_LENGTHS,
       function=None, method=None)
def packed_lengths(lengths, *, steps, rule, enforce_sorted=False, limit=0):
    """int64 lengths [B] -> (mask [steps, B]: step t exists for sequence b, reversal
    [steps, B]: the step read when sequence b runs backwards from its own last step, or t
    itself on padding)."""
    t = jnp.arange(steps, dtype=lengths.dtype)[:, None]
    mask = t < lengths[None, :]
    return mask, jnp.where(mask, lengths[None, :] - 1 - t, t)


def _safe_softmax(scores):
    """Softmax over the last axis where a row that is masked out entirely gives zeros, not NaN
    (PyTorch's SDPA does the same). Written so that such rows also get zero, not NaN, grads."""
    # NOTE: `initial` gives an empty row (no keys: S == 0) a max of -inf rather than an
    # error; its output is then an empty sum, zeros, as in PyTorch.
    top = jnp.max(scores, axis=-1, keepdims=True, initial=-jnp.inf)
    top = jax.lax.stop_gradient(jnp.where(jnp.isfinite(top), top, 0.0))
    e = jnp.exp(scores - top)
    total = jnp.sum(e, axis=-1, keepdims=True)
    return e / jnp.where(total == 0, 1.0, total)


# NOTE: no nondiff_inputs: a float mask gets gradients like in PyTorch, while bool masks and
# RNG keys never require grad (the key's position also depends on whether there is a mask).
@defop("scaled_dot_product_attention", "opaque", n_outputs=2,
       function="nn.functional.scaled_dot_product_attention", method=None)
def scaled_dot_product_attention(q, k, v, *extra, scale, is_causal=False, has_mask=False,
                                 dropout_p=0.0, safe_softmax=True):
    """softmax(q k^T * scale + mask) v over the last two axes: q [..., L, E], k [..., S, E],
    v [..., S, Ev]. Returns (output [..., L, Ev], attention weights [..., L, S] after dropout).

    `extra` is the mask when `has_mask` (bool: True = may attend; float: added to the scores),
    then an RNG key when `dropout_p` > 0. `safe_softmax=False` keeps NaN for fully masked rows,
    as PyTorch's MultiheadAttention does when it returns weights."""
    extra = list(extra)
    dtype = q.dtype
    if dtype in (jnp.float16, jnp.bfloat16):
        # PyTorch's kernels (CPU math and flash, CUDA flash) compute half and bfloat16
        # attention in float32: in half, a padding mask of finfo(float16).min swallowed the
        # scores of a row masked out entirely, and scores in the thousands lost their steps
        out, weights = scaled_dot_product_attention(
            *(x.astype(jnp.float32) if jnp.issubdtype(x.dtype, jnp.floating) and i < 3 + has_mask
              else x for i, x in enumerate((q, k, v, *extra))),
            scale=scale, is_causal=is_causal, has_mask=has_mask, dropout_p=dropout_p,
            safe_softmax=safe_softmax)
        return out.astype(dtype), weights.astype(dtype)
    scores = jnp.matmul(q, jnp.swapaxes(k, -1, -2)) * jnp.asarray(scale, q.dtype)
    if has_mask:
        mask = extra.pop(0)
        scores = jnp.where(mask, scores, -jnp.inf) if mask.dtype == jnp.bool_ else scores + mask
    if is_causal:
        causal = jnp.tril(jnp.ones(scores.shape[-2:], jnp.bool_))
        scores = jnp.where(causal, scores, -jnp.inf)
    weights = _safe_softmax(scores) if safe_softmax else jax.nn.softmax(scores, axis=-1)
    if dropout_p:
        key = jax.random.wrap_key_data(extra.pop(0))
        keep = jax.random.bernoulli(key, 1.0 - dropout_p, weights.shape)
        # (p = 1 drops everything: no 1 / 0, whose inf * 0 made every gradient NaN)
        scale = 1.0 / (1.0 - dropout_p) if dropout_p < 1 else 0.0
        weights = jnp.where(keep, weights * jnp.asarray(scale, weights.dtype),
                            jnp.zeros((), weights.dtype))
    return jnp.matmul(weights, v), weights
