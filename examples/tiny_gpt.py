"""A tiny GPT, trained both ways: not one of the seed tutorials, but the model people write
next. Character-level language model with tied input/output embeddings, causal
self-attention (`F.scaled_dot_product_attention(is_causal=True)`), pre-norm blocks, AdamW with
decay and no-decay parameter groups, gradient clipping, a warmup + cosine learning-rate
schedule, and sampling with temperature and top-k.

The same code trains dynamically (eager ops, tape) and statically (the whole training step
compiled by `graphnet.compile`); both runs start from the same weights and print the same
losses. `build(T)` takes the library as an argument, so tests build the identical model with
PyTorch and compare.

    python examples/tiny_gpt.py [--steps 60]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import graphnet

TEXT = ("the quick brown fox jumps over the lazy dog. " * 4 +
        "a static graph is built once; a dynamic graph is built as the code runs. ") * 3
VOCAB = sorted(set(TEXT))
BLOCK, EMBED, HEADS, LAYERS = 16, 32, 2, 2


def build(T, vocab: int = len(VOCAB)):
    """The GPT as `T.nn` modules (T is graphnet or torch)."""
    nn, F = T.nn, T.nn.functional

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(EMBED, 3 * EMBED)
            self.proj = nn.Linear(EMBED, EMBED)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(x).split(EMBED, dim=2)
            q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(b, t, c))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(EMBED), nn.LayerNorm(EMBED)
            self.attn = SelfAttention()
            self.mlp = nn.Sequential(nn.Linear(EMBED, 4 * EMBED), nn.GELU(),
                                     nn.Linear(4 * EMBED, EMBED))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, EMBED)
            self.pos = nn.Parameter(T.zeros(1, BLOCK, EMBED))
            self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln = nn.LayerNorm(EMBED)
            self.head = nn.Linear(EMBED, vocab, bias=False)
            self.head.weight = self.tok.weight          # tied weights: one Parameter
            self.apply(self._init)

        @staticmethod
        def _init(module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

        def forward(self, idx):
            x = self.tok(idx) + self.pos[:, :idx.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln(x))

    return GPT()


def optimizer_and_schedule(T, model, steps: int, lr: float = 3e-3, warmup: int = 5):
    """AdamW: weight decay on matrices only (the usual GPT recipe); linear warmup, then a
    cosine decay to 10% of `lr`."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = T.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                         {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95))

    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))

    return opt, T.optim.lr_scheduler.LambdaLR(opt, factor)


def batches(T, steps: int, batch: int = 8, seed: int = 0):
    """(inputs, next-character targets) windows, the same for every library."""
    data = np.array([VOCAB.index(c) for c in TEXT])
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        starts = rng.integers(0, len(data) - BLOCK - 1, batch)
        x = np.stack([data[s:s + BLOCK] for s in starts])
        y = np.stack([data[s + 1:s + BLOCK + 1] for s in starts])
        yield T.tensor(x), T.tensor(y)


def train(T, model, steps: int, compiled: bool = False) -> list[float]:
    F = T.nn.functional
    opt, schedule = optimizer_and_schedule(T, model, steps)

    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    run = graphnet.compile(step) if compiled else step
    losses = []
    for x, y in batches(T, steps):
        losses.append(float(run(x, y)))
        schedule.step()
    return losses


def generate(T, model, prompt: str, length: int, temperature: float = 0.8, top_k: int = 5,
             compiled: bool = False, seed: int = 0) -> str:
    """Sample `length` characters after `prompt`. The context is always the last BLOCK
    characters (left-padded with spaces), so a compiled forward keeps one shape."""
    model.eval()
    forward = graphnet.compile(model) if compiled else model
    T.manual_seed(seed)
    ids = [VOCAB.index(c) for c in prompt]
    with T.no_grad():
        for _ in range(length):
            context = ([VOCAB.index(" ")] * BLOCK + ids)[-BLOCK:]
            logits = forward(T.tensor([context]))[0, -1] / temperature
            values, _ = T.topk(logits, top_k)
            logits = logits.masked_fill(logits < values[-1], float("-inf"))
            ids.append(int(T.multinomial(T.softmax(logits, dim=-1), 1)))
    model.train()
    return "".join(VOCAB[i] for i in ids)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args(argv)
    graphnet.manual_seed(0)
    dynamic = build(graphnet)
    static = build(graphnet)
    static.load_state_dict(dynamic.state_dict())
    assert static.head.weight is static.tok.weight   # still tied after loading
    results = {}
    for name, model, compiled in (("dynamic", dynamic, False), ("static", static, True)):
        losses = train(graphnet, model, args.steps, compiled)
        results[name] = losses
        print(f"{name:8s} loss: first {losses[0]:.4f}  last {losses[-1]:.4f}")
    gap = max(abs(a - b) for a, b in zip(results["dynamic"], results["static"]))
    print(f"largest loss difference, dynamic vs static: {gap:.2e}")
    print("sample (static):", repr(generate(graphnet, static, "the ", 40, compiled=True)))
    return results


if __name__ == "__main__":
    main()
