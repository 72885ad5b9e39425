"""Everyday programs beyond the seed tutorials (issue 10): a Transformer encoder with padding
masks, a VAE, knowledge distillation, contrastive learning, a graph network with scatter-add,
DQN, actor-critic, packed LSTM batches and the usual script boilerplate.

Each program is written once against `T` (torch or graphnet) and a `jit` that is the identity
for PyTorch and dynamic graphnet, and `graphnet.compile` for static graphnet. Weights come
from `det_init` and data from NumPy, so the three runs must agree to float32 noise."""

from __future__ import annotations

import io

import numpy as np
import pytest
from corpus_common import assert_same, det_init, plain

import graphnet

torch = pytest.importorskip("torch")

PROGRAMS = {}


def program(fn):
    PROGRAMS[fn.__name__] = fn
    return fn


def data(T, *shape, seed=0, low=None, high=None, kind="normal"):
    rng = np.random.default_rng(seed)
    if low is not None:
        return T.from_numpy(rng.integers(low, high, shape).astype(np.int64))
    if kind == "uniform":
        return T.from_numpy(rng.uniform(0.05, 0.95, shape).astype(np.float32))
    return T.from_numpy(rng.standard_normal(shape).astype(np.float32))


@program
def transformer_with_padding_mask(T, jit):
    nn, F = T.nn, T.nn.functional

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(11, 16, padding_idx=0)
            layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=2)
            self.head = nn.Linear(16, 3)

        def forward(self, tokens):
            pad = tokens == 0
            h = self.encoder(self.embed(tokens), src_key_padding_mask=pad)
            keep = (~pad).unsqueeze(-1).float()
            return self.head((h * keep).sum(1) / keep.sum(1))

    model = det_init(T, Classifier(), 0.3)
    tokens = data(T, 4, 6, low=1, high=11)
    tokens[1, 4:] = 0
    tokens[3, 2:] = 0
    labels = T.tensor([0, 2, 1, 2])
    opt = T.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = jit(step)
    losses = [step(tokens, labels).item() for _ in range(3)]
    model.eval()
    with T.no_grad():
        logits = jit(model)(tokens)
    return losses, logits


@program
def vae(T, jit):
    nn, F = T.nn, T.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(12, 16)
            self.mu, self.logvar = nn.Linear(16, 3), nn.Linear(16, 3)
            self.dec = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 12))

        def forward(self, x, eps):
            h = F.relu(self.enc(x))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + eps * T.exp(0.5 * logvar)
            return T.sigmoid(self.dec(z)), mu, logvar

    model = det_init(T, VAE(), 0.3)
    opt = T.optim.Adam(model.parameters(), lr=5e-3)
    x = data(T, 8, 12, kind="uniform")

    def step(x, eps):
        opt.zero_grad()
        recon, mu, logvar = model(x, eps)
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        kld = -0.5 * T.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = (bce + kld) / x.shape[0]
        loss.backward()
        opt.step()
        return loss

    step = jit(step)
    return [step(x, data(T, 8, 3, seed=k)).item() for k in range(3)]


@program
def knowledge_distillation(T, jit):
    nn, F = T.nn, T.nn.functional
    teacher = det_init(T, nn.Sequential(nn.Linear(6, 24), nn.ReLU(), nn.Linear(24, 4)), 0.5)
    student = det_init(T, nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4)), 0.4)
    teacher.eval()
    opt = T.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
    x, y = data(T, 10, 6), data(T, 10, low=0, high=4)
    temp, alpha = 3.0, 0.7

    def step(x, y):
        with T.no_grad():
            soft = F.softmax(teacher(x) / temp, dim=-1)
        logits = student(x)
        distill = F.kl_div(F.log_softmax(logits / temp, dim=-1), soft,
                           reduction="batchmean") * temp ** 2
        loss = alpha * distill + (1 - alpha) * F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step = jit(step)
    return [step(x, y).item() for _ in range(3)], [p.grad for p in teacher.parameters()]


@program
def contrastive_learning(T, jit):
    nn, F = T.nn, T.nn.functional
    encoder = det_init(T, nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                        nn.Linear(16, 8)), 0.4)
    opt = T.optim.AdamW(encoder.parameters(), lr=1e-2, weight_decay=1e-2)
    x = data(T, 6, 5)
    tau = 0.5

    def step(view1, view2):
        z = F.normalize(encoder(T.cat([view1, view2])), dim=1)
        n = view1.shape[0]
        sim = z @ z.t() / tau
        sim = sim.masked_fill(T.eye(2 * n, dtype=T.bool), float("-inf"))
        labels = T.cat([T.arange(n) + n, T.arange(n)])
        loss = F.cross_entropy(sim, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, F.cosine_similarity(z[:n], z[n:]).mean()

    step = jit(step)
    return [step(x + 0.1 * data(T, 6, 5, seed=k), x - 0.1 * data(T, 6, 5, seed=k + 9))
            for k in range(3)]


@program
def graph_network_scatter_add(T, jit):
    nn, F = T.nn, T.nn.functional

    class GCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin1, self.lin2 = nn.Linear(4, 8), nn.Linear(8, 2)

        def propagate(self, h, edges):
            src, dst = edges
            n = h.shape[0]
            deg = T.zeros(n).index_add_(0, dst, T.ones(dst.shape[0])).clamp(min=1)
            out = T.zeros(n, h.shape[1]).scatter_add_(0, dst.unsqueeze(1).expand(-1, h.shape[1]),
                                                      h[src])
            return out / deg.unsqueeze(1)

        def forward(self, x, edges):
            h = F.relu(self.lin1(self.propagate(x, edges)))
            return self.lin2(self.propagate(h, edges))

    model = det_init(T, GCN(), 0.5)
    x = data(T, 7, 4)
    edges = T.tensor([[0, 1, 2, 3, 4, 5, 6, 1, 2], [1, 2, 3, 4, 5, 6, 0, 0, 0]])
    y = T.tensor([0, 1, 0, 1, 1, 0, 1])
    opt = T.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, edges, y):
        opt.zero_grad()
        out = model(x, edges)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        return loss, out.argmax(1)

    step = jit(step)
    return [step(x, edges, y) for _ in range(3)]


@program
def dqn(T, jit):
    nn, F = T.nn, T.nn.functional
    q_net = det_init(T, nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), 0.4)
    target = det_init(T, nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), 0.4)
    target.load_state_dict(q_net.state_dict())
    opt = T.optim.RMSprop(q_net.parameters(), lr=1e-2)
    s, s2 = data(T, 8, 4), data(T, 8, 4, seed=1)
    a = data(T, 8, low=0, high=3)
    r = data(T, 8, seed=2)
    done = (data(T, 8, seed=3) > 0.5).float()
    gamma = 0.99

    def step(s, a, r, s2, done):
        q = q_net(s).gather(1, a.unsqueeze(1)).squeeze(1)
        with T.no_grad():
            next_q = target(s2).max(1)[0]
            goal = r + gamma * next_q * (1 - done)
        loss = F.smooth_l1_loss(q, goal)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(q_net.parameters(), 1.0)
        opt.step()
        return loss

    step = jit(step)
    losses = [step(s, a, r, s2, done).item() for _ in range(3)]
    target.load_state_dict(q_net.state_dict())
    with T.no_grad():
        greedy = q_net(s[:1]).argmax(dim=1).item()
    return losses, greedy, [p for p in target.parameters()]


@program
def actor_critic(T, jit):
    nn, F = T.nn, T.nn.functional

    class ActorCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 16), nn.Tanh())
            self.policy, self.value = nn.Linear(16, 2), nn.Linear(16, 1)

        def forward(self, x):
            h = self.body(x)
            return self.policy(h), self.value(h).squeeze(-1)

    model = det_init(T, ActorCritic(), 0.4)
    opt = T.optim.Adam(model.parameters(), lr=3e-3)
    states, actions = data(T, 5, 4), data(T, 5, low=0, high=2)
    rewards, gamma, running, returns = [1.0, 0.0, 0.5, 1.0, -1.0], 0.9, 0.0, []
    for reward in reversed(rewards):
        running = reward + gamma * running
        returns.insert(0, running)
    returns = T.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)

    def step(states, actions, returns):
        logits, values = model(states)
        log_probs = F.log_softmax(logits, dim=-1)
        chosen = log_probs.gather(1, actions.unsqueeze(1)).squeeze(1)
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        advantage = returns - values.detach()
        loss = -(chosen * advantage).mean() + 0.5 * F.mse_loss(values, returns) \
            - 0.01 * entropy
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, entropy

    step = jit(step)
    return [step(states, actions, returns) for _ in range(3)]


@program
def packed_lstm_batches(T, jit):
    nn, F = T.nn, T.nn.functional
    rnn_utils = nn.utils.rnn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(9, 5, padding_idx=0)
            self.lstm = nn.LSTM(5, 6, batch_first=True)
            self.out = nn.Linear(6, 2)

        def forward(self, tokens, lengths):
            packed = rnn_utils.pack_padded_sequence(self.embed(tokens), lengths,
                                                    batch_first=True, enforce_sorted=False)
            out, (h, c) = self.lstm(packed)
            padded, _ = rnn_utils.pad_packed_sequence(out, batch_first=True,
                                                      total_length=tokens.shape[1])
            return self.out(h[-1]), padded

    model = det_init(T, Tagger(), 0.4)
    seqs = [T.tensor([1, 2, 3]), T.tensor([4, 5, 6, 7, 8]), T.tensor([2, 2])]
    tokens = rnn_utils.pad_sequence(seqs, batch_first=True)
    lengths = T.tensor([len(s) for s in seqs])
    y = T.tensor([1, 0, 1])
    opt = T.optim.SGD(model.parameters(), lr=0.5)

    def step(tokens, lengths, y):
        logits, padded = model(tokens, lengths)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, padded.sum()

    step = jit(step)
    return [step(tokens, lengths, y) for _ in range(3)]


@program
def script_boilerplate(T, jit):
    nn, F = T.nn, T.nn.functional
    device = T.device("cuda" if T.cuda.is_available() else "cpu")
    T.manual_seed(0)
    model = det_init(T, nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.0),
                                      nn.Linear(8, 2)), 0.5).to(device)
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, y = data(T, 12, 3).to(device), data(T, 12, low=0, high=2).to(device)
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(x, y), batch_size=4)

    def step(xb, yb):
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    step = jit(step)
    history = []
    for _epoch in range(2):
        model.train()
        total = 0.0
        for xb, yb in loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device)
            total += step(xb, yb).item() * xb.size(0)
        sched.step()
        model.eval()
        with T.no_grad():
            accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
        history.append((total / len(loader.dataset), accuracy, sched.get_last_lr()[0]))
    buffer = io.BytesIO()
    T.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 2}, buffer)
    buffer.seek(0)
    checkpoint = T.load(buffer)
    restored = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.0), nn.Linear(8, 2))
    restored.load_state_dict(checkpoint["model"])
    return history, str(device), checkpoint["epoch"], restored(x[:2]), \
        sum(p.numel() for p in model.parameters() if p.requires_grad)


def _run(name, lib, compiled):
    graphnet.manual_seed(0)
    torch.manual_seed(0)
    jit = graphnet.compile if compiled else (lambda f: f)
    return plain(PROGRAMS[name](lib, jit))


@pytest.mark.parametrize("mode", ["dynamic", "static"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_matches_torch(name, mode):
    expected = _run(name, torch, False)
    actual = _run(name, graphnet, mode == "static")
    assert_same(actual, expected, f"{name} ({mode})", atol=2e-5, rtol=2e-4)
