"""Sequence-model benchmark workloads (registered through runtime/workloads_more.py):

- `lstm-lm`: embedding -> nn.LSTM -> linear next-token language model, Adam. graphnet runs
  nn.LSTM as one `lstm_layer` op (a `lax.scan` over time) in every mode, as PyTorch runs one
  fused kernel, so this measures a recurrent model written the usual way.
- `lstm-lm-cells`: the same model and parameters, but the recurrence is written as a Python
  loop over time steps (what a custom cell looks like): dynamic mode dispatches a dozen small
  ops per time step, static mode traces the loop unrolled into one XLA program. The twins
  keep their shape: jax is one `lax.scan`, torch runs the same per-step loop eagerly.
- `transformer`: token + learned positional embedding, 2 post-norm
  nn.TransformerEncoderLayer (GELU, dropout 0), mean pool, linear classifier, AdamW:
  attention, LayerNorm and GELU in one training step.

Each has `dynamic`, `static`, `plan`, `jax` and `torch` (when installed) variants from the
same initial weights and data (runtime/workloads_twins.py)."""

from __future__ import annotations

import math

import graphnet
import jax
import jax.numpy as jnp
import numpy as np
from graphnet import nn

from . import workloads_twins as twins


# ---- LSTM language model ------------------------------------------------------------------
class LanguageModel(nn.Module):
    """embedding -> single-layer LSTM (batch first) -> linear over the vocabulary; returns
    logits flattened to [batch * seq, vocab] for a next-token cross-entropy."""

    def __init__(self, vocab: int, dim: int, hidden: int, cells: bool):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        self.cells = cells

    def forward(self, tokens):
        x = self.embed(tokens)
        h = self._unrolled(x) if self.cells else self.lstm(x)[0]
        return self.head(h).reshape(-1, self.head.out_features)

    def _unrolled(self, x):
        """nn.LSTM's math, one time step at a time, on nn.LSTM's own parameters."""
        import graphnet.nn.functional as F

        lstm = self.lstm
        h = c = graphnet.zeros(x.shape[0], lstm.hidden_size)
        outputs = []
        for t in range(x.shape[1]):
            gates = F.linear(x[:, t], lstm.weight_ih_l0, lstm.bias_ih_l0) + \
                F.linear(h, lstm.weight_hh_l0, lstm.bias_hh_l0)
            i, f, g, o = gates.chunk(4, dim=1)   # PyTorch's gate order
            c = graphnet.sigmoid(f) * c + graphnet.sigmoid(i) * graphnet.tanh(g)
            h = graphnet.sigmoid(o) * graphnet.tanh(c)
            outputs.append(h)
        return graphnet.stack(outputs, dim=1)


def _language_model_torch(vocab: int, dim: int, hidden: int, cells: bool):
    import torch
    from torch import nn as tnn

    class LanguageModel(tnn.Module):  # the graphnet LanguageModel above, in torch
        def __init__(self):
            super().__init__()
            self.embed, self.lstm = tnn.Embedding(vocab, dim), tnn.LSTM(dim, hidden,
                                                                       batch_first=True)
            self.head = tnn.Linear(hidden, vocab)

        def forward(self, tokens):
            x = self.embed(tokens)
            h = self._unrolled(x) if cells else self.lstm(x)[0]
            return self.head(h).reshape(-1, vocab)

        def _unrolled(self, x):
            lstm, outputs = self.lstm, []
            h = c = torch.zeros(x.shape[0], hidden)
            for t in range(x.shape[1]):
                gates = tnn.functional.linear(x[:, t], lstm.weight_ih_l0, lstm.bias_ih_l0) + \
                    tnn.functional.linear(h, lstm.weight_hh_l0, lstm.bias_hh_l0)
                i, f, g, o = gates.chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outputs.append(h)
            return torch.stack(outputs, dim=1)

    return LanguageModel()


def _lstm(p, x):
    """One PyTorch LSTM layer as a lax.scan: gates stacked (i, f, g, o), both biases."""
    xw = x @ p["lstm.weight_ih_l0"].T + p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"]
    w_hh = p["lstm.weight_hh_l0"]

    def step(carry, xw_t):
        h, c = carry
        i, f, g, o = jnp.split(xw_t + h @ w_hh.T, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    zeros = jnp.zeros((x.shape[0], w_hh.shape[1]), x.dtype)
    _, hs = jax.lax.scan(step, (zeros, zeros), jnp.swapaxes(xw, 0, 1))
    return jnp.swapaxes(hs, 0, 1)


def _language_model_loss(p, tokens, targets):
    h = _lstm(p, p["embed.weight"][tokens])
    logits = h @ p["head.weight"].T + p["head.bias"]
    return twins.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)


def lstm_lm(batch: int = 16, seed: int = 0, torch: bool = True, seq: int = 32,
            vocab: int = 64, dim: int = 32, hidden: int = 64, lr: float = 1e-3,
            cells: bool = False, plan: bool = True, torch_compile: bool = False):
    """Next-token LSTM language model (vocab 64, embedding 32, hidden 64) on a batch of 16
    random sequences of 32 tokens, Adam: many small recurrent steps per training step.
    `cells=True` writes the recurrence as a Python loop over time (`lstm-lm-cells`)."""
    tokens = np.random.default_rng(seed).integers(0, vocab, (batch, seq + 1)).astype(np.int64)
    x, y = tokens[:, :-1], tokens[:, 1:].reshape(-1)

    def build():
        graphnet.manual_seed(seed)
        model = LanguageModel(vocab, dim, hidden, cells)
        opt = graphnet.optim.Adam(model.parameters(), lr=lr)
        return model, opt, graphnet.from_numpy(x), graphnet.from_numpy(y)

    name = "lstm-lm-cells" if cells else "lstm-lm"
    how = "a Python loop over time steps" if cells else "nn.LSTM"
    return twins.make_workload(
        name, f"LSTM language model ({how}), vocab {vocab}, embedding {dim}, hidden {hidden}, "
        f"batch {batch} x {seq} tokens, Adam, next-token cross-entropy", build, (x, y),
        _language_model_loss, twins.adam(lr),
        (lambda: _language_model_torch(vocab, dim, hidden, cells)) if torch else None,
        ("Adam", dict(lr=lr)), plan, torch_compile)


def lstm_lm_cells(batch: int = 16, seed: int = 0, torch: bool = True, **sizes):
    """`lstm_lm` with the recurrence as a Python loop over time steps (see the module doc)."""
    return lstm_lm(batch, seed, torch, cells=True, **sizes)


# ---- Transformer encoder ------------------------------------------------------------------
class EncoderClassifier(nn.Module):
    """Token + learned positional embedding, post-norm TransformerEncoderLayers (GELU, no
    dropout), mean over positions, linear classifier."""

    def __init__(self, vocab: int, d_model: int, nhead: int, dim_feedforward: int,
                 layers: int, max_len: int, classes: int):
        super().__init__()
        self.embed, self.pos = nn.Embedding(vocab, d_model), nn.Embedding(max_len, d_model)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                       activation="gelu", batch_first=True)
            for _ in range(layers)])
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos.weight[: tokens.shape[1]]
        for layer in self.layers:
            h = layer(h)
        return self.head(h.mean(dim=1))


def _encoder_torch(vocab, d_model, nhead, dim_feedforward, layers, max_len, classes):
    from torch import nn as tnn

    class EncoderClassifier(tnn.Module):  # the graphnet EncoderClassifier above, in torch
        def __init__(self):
            super().__init__()
            self.embed, self.pos = tnn.Embedding(vocab, d_model), tnn.Embedding(max_len, d_model)
            self.layers = tnn.ModuleList([
                tnn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                            activation="gelu", batch_first=True)
                for _ in range(layers)])
            self.head = tnn.Linear(d_model, classes)

        def forward(self, tokens):
            h = self.embed(tokens) + self.pos.weight[: tokens.shape[1]]
            for layer in self.layers:
                h = layer(h)
            return self.head(h.mean(dim=1))

    return EncoderClassifier()


def _layer_norm(x, weight, bias, eps: float = 1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)   # biased, as PyTorch
    return (x - mean) / jnp.sqrt(var + eps) * weight + bias


def _self_attention(p, prefix: str, x, nhead: int):
    batch, length, d_model = x.shape
    qkv = x @ p[prefix + "in_proj_weight"].T + p[prefix + "in_proj_bias"]
    q, k, v = (t.reshape(batch, length, nhead, d_model // nhead).transpose(0, 2, 1, 3)
               for t in jnp.split(qkv, 3, axis=-1))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_model // nhead)
    out = (jax.nn.softmax(scores, axis=-1) @ v).transpose(0, 2, 1, 3)
    return out.reshape(batch, length, d_model) @ p[prefix + "out_proj.weight"].T + \
        p[prefix + "out_proj.bias"]


def _encoder_layer(p, prefix: str, x, nhead: int):
    """Post-norm: x = norm1(x + attention(x)); x = norm2(x + linear2(gelu(linear1(x))))."""
    x = _layer_norm(x + _self_attention(p, prefix + "self_attn.", x, nhead),
                    p[prefix + "norm1.weight"], p[prefix + "norm1.bias"])
    hidden = jax.nn.gelu(x @ p[prefix + "linear1.weight"].T + p[prefix + "linear1.bias"],
                         approximate=False)   # PyTorch's default GELU: the exact erf form
    ff = hidden @ p[prefix + "linear2.weight"].T + p[prefix + "linear2.bias"]
    return _layer_norm(x + ff, p[prefix + "norm2.weight"], p[prefix + "norm2.bias"])


def _encoder_loss(p, tokens, y, nhead: int, layers: int):
    h = p["embed.weight"][tokens] + p["pos.weight"][: tokens.shape[1]]
    for i in range(layers):
        h = _encoder_layer(p, f"layers.{i}.", h, nhead)
    return twins.cross_entropy(h.mean(axis=1) @ p["head.weight"].T + p["head.bias"], y)


def transformer(batch: int = 16, seed: int = 0, torch: bool = True, seq: int = 32,
                vocab: int = 64, d_model: int = 64, nhead: int = 4, dim_feedforward: int = 128,
                layers: int = 2, classes: int = 10, lr: float = 1e-3,
                weight_decay: float = 0.01, plan: bool = True, torch_compile: bool = False):
    """A small Transformer encoder classifier's training step (2 layers, d_model 64, 4 heads,
    feed-forward 128, GELU, post-norm, no dropout), batch 16 x 32 tokens, AdamW:
    attention, LayerNorm and GELU, the ops of modern models, at a size where the step is
    still dozens of small kernels."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, (batch, seq)).astype(np.int64)
    y = rng.integers(0, classes, batch).astype(np.int64)
    sizes = (vocab, d_model, nhead, dim_feedforward, layers, seq, classes)

    def build():
        graphnet.manual_seed(seed)
        model = EncoderClassifier(*sizes)
        opt = graphnet.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        return model, opt, graphnet.from_numpy(tokens), graphnet.from_numpy(y)

    def loss(p, x, y):
        return _encoder_loss(p, x, y, nhead, layers)

    return twins.make_workload(
        "transformer", f"Transformer encoder, {layers} layers, d_model {d_model}, {nhead} "
        f"heads, feed-forward {dim_feedforward}, GELU, batch {batch} x {seq} tokens, AdamW, "
        f"cross-entropy train step", build, (tokens, y), loss,
        twins.adam(lr, weight_decay=weight_decay, decoupled=True),
        (lambda: _encoder_torch(*sizes)) if torch else None,
        ("AdamW", dict(lr=lr, weight_decay=weight_decay)), plan, torch_compile)


SEQ_WORKLOADS = {"lstm-lm": lstm_lm, "lstm-lm-cells": lstm_lm_cells, "transformer": transformer}
