"""Random draws against PyTorch where the streams differ: half-precision resolution and tails,
gumbel_softmax in float16, `random_()` ranges, RNG state inside compiled functions, the
zero gradient of sampled parameters, traced init, and PyTorch's argument errors. Draws are
never compared value by value (another generator): statistics, distinct counts, ranges and
error types are."""

import numpy as np
import pytest
import torch

import graphnet
import graphnet.nn.functional as F
from graphnet import nn

N = 200_000


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().float().numpy(), np.float64)


def _torch_np(t) -> np.ndarray:
    return t.detach().double().numpy()


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_half_draws_have_pytorchs_resolution_and_tails(name):
    graphnet.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = getattr(graphnet, name), getattr(torch, name)
    for make in (lambda lib, d: lib.randn(N, dtype=d), lambda lib, d: lib.rand(N, dtype=d),
                 lambda lib, d: lib.empty(N, dtype=d).normal_(0, 0.02),
                 lambda lib, d: lib.randn_like(lib.zeros(N, dtype=d))):
        g, t = _np(make(graphnet, ours)), _torch_np(make(torch, theirs))
        assert len(np.unique(g)) > 0.9 * len(np.unique(t))     # 128 / 1024 values before
    g, t = _np(graphnet.randn(N, dtype=ours)), _torch_np(torch.randn(N, dtype=theirs))
    assert abs(np.mean(abs(g) > 3) - np.mean(abs(t) > 3)) < 0.0007   # about 0.0027 each
    u = _np(graphnet.rand(N, dtype=ours))
    assert u.max() < 1 and abs(np.mean(u == 0) - 2.0 ** -(9 if name == "bfloat16" else 12)) \
        < 0.0006   # PyTorch's: a draw rounded up to 1 becomes 0
    wide = _np(graphnet.empty(N, dtype=ours).uniform_(-1, 1))
    assert wide.min() == -1 and wide.max() < 1
    layer = nn.Linear(300, 300, dtype=ours)
    reference = torch.nn.Linear(300, 300, dtype=theirs)
    assert len(np.unique(_np(layer.weight))) > 0.9 * len(np.unique(_torch_np(reference.weight)))


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_half_exponential_bernoulli_and_noise_are_drawn_in_float32(name):
    graphnet.manual_seed(1)
    ours = getattr(graphnet, name)
    exp = _np(graphnet.empty(N, dtype=ours).exponential_())
    assert exp.max() > 9 and abs(exp.mean() - 1) < 0.02   # a bfloat16 u stopped at -log(2**-8)
    assert abs(_np(graphnet.empty(N, dtype=ours).cauchy_()).max()) > 1e3
    p = graphnet.full((10 ** 6,), 0.3, dtype=ours)
    expected = float(torch.full((1,), 0.3, dtype=getattr(torch, name)))   # p as rounded
    assert abs(_np(graphnet.bernoulli(p)).mean() - expected) < 0.0015
    alpha = _np(F.alpha_dropout(graphnet.randn(N, dtype=ours), 0.2, True))
    assert len(np.unique(alpha)) > 500    # PyTorch: about 1000 (128 before)
    slopes = _np(F.rrelu(-graphnet.ones(N, dtype=graphnet.bfloat16), training=True))
    assert len(np.unique(slopes)) > 150   # PyTorch's bfloat16 rrelu: 172


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_float16_rows_are_finite(hard):
    graphnet.manual_seed(0)
    logits = graphnet.zeros(20000, 8, dtype=graphnet.float16)
    for fn in (F.gumbel_softmax, graphnet.compile(lambda x: F.gumbel_softmax(x, hard=hard))):
        y = fn(logits, hard=hard) if fn is F.gumbel_softmax else fn(logits)
        assert y.dtype == graphnet.float16 and not bool(graphnet.isnan(y).any())
        np.testing.assert_allclose(_np(y).sum(1), 1, atol=0.01)
    ref = torch.nn.functional.gumbel_softmax(torch.zeros(20000, 8, dtype=torch.float16),
                                             hard=True).double().numpy().mean(0)
    ours = _np(F.gumbel_softmax(logits, hard=True)).mean(0)
    np.testing.assert_allclose(ours, ref, atol=0.015)    # 1/8 each


def _bound(dtype) -> int:
    """PyTorch's documented random_() range: [0, 2**mantissa] for floats, the nonnegative
    values of an integer type."""
    mantissa = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
    if dtype in mantissa:
        return 2 ** mantissa[dtype]
    return 1 if dtype == "bool" else int(np.iinfo(dtype).max)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool",
                                   "float16", "bfloat16", "float32", "float64"])
def test_random_without_bounds_covers_pytorchs_range(dtype):
    graphnet.manual_seed(0)
    g = graphnet.empty(20000, dtype=getattr(graphnet, dtype)).random_()
    t = torch.empty(20000, dtype=getattr(torch, dtype)).random_()
    values = [int(v) for v in g.tolist()]
    theirs = [int(v) for v in t.tolist()]
    bound = _bound(dtype)
    assert max(theirs) <= bound and max(values) <= bound and min(values) >= 0
    assert max(values) > 0.9 * bound                 # int64 stopped at 2**31, uint8 at 127


def test_rng_state_inside_a_compiled_function_is_each_calls():
    @graphnet.compile
    def draw_and_state(x):
        state = graphnet.get_rng_state()
        return x + graphnet.rand(3), state

    x = graphnet.zeros(3)
    for _ in range(3):
        before = graphnet.get_rng_state().numpy()
        _, state = draw_and_state(x)
        np.testing.assert_array_equal(state.numpy(), before)

    @graphnet.compile
    def replay(x):
        state = graphnet.get_rng_state()
        first = graphnet.rand(3)
        graphnet.set_rng_state(state)
        return x + first - graphnet.rand(3)

    assert replay(x).tolist() == [0.0, 0.0, 0.0] and replay(x).tolist() == [0.0, 0.0, 0.0]

    def forked(x):
        with graphnet.random.fork_rng():
            inner = graphnet.rand(3)
        return x + inner + graphnet.rand(3)

    graphnet.manual_seed(0)
    compiled = [graphnet.compile(forked)(x).numpy() for _ in range(2)]
    graphnet.manual_seed(0)
    eager = [forked(x).numpy() for _ in range(2)]
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)


def test_set_rng_state_inside_compiled_takes_the_argument():
    s0 = graphnet.get_rng_state()
    graphnet.rand(3)
    s1 = graphnet.get_rng_state()
    f = graphnet.compile(lambda x, s: (graphnet.set_rng_state(s), x + graphnet.rand(3))[1])
    got = [f(graphnet.zeros(3), s).numpy() for s in (s0, s1)]
    want = []
    for s in (s0, s1):
        graphnet.set_rng_state(s)
        want.append(graphnet.rand(3).numpy())
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_sampled_parameters_get_a_zero_gradient(compiled):
    def grads(lib):
        mu, sd = lib.zeros(3, requires_grad=True), lib.ones(3, requires_grad=True)
        p, rate = lib.full((3,), 0.5, requires_grad=True), lib.ones(3, requires_grad=True)

        def step(mu, sd, p, rate):
            out = lib.normal(mu, sd) + lib.bernoulli(p) + lib.poisson(rate) + lib.normal(mu, 1.)
            out.sum().backward()
            return out

        out = (graphnet.compile(step) if compiled and lib is graphnet else step)(mu, sd, p, rate)
        return out.requires_grad, [v.grad.tolist() for v in (mu, sd, p, rate)]

    assert grads(graphnet) == grads(torch) == (True, [[0.0] * 3] * 4)
    x = graphnet.ones(3, requires_grad=True)
    assert not graphnet.multinomial(x, 2).requires_grad and not graphnet.rand_like(x).requires_grad


def test_trunc_normal_and_orthogonal_trace():
    w = nn.Parameter(graphnet.zeros(40, 30))

    @graphnet.compile
    def init(kind):
        if kind == "trunc":
            nn.init.trunc_normal_(w, std=0.5, a=-1.0, b=0.8)
        else:
            nn.init.orthogonal_(w, gain=2.0)
        return w.detach() * 1.0

    first, second = init("trunc").numpy(), init("trunc").numpy()
    assert not np.array_equal(first, second) and first.min() >= -1 and first.max() <= 0.8
    reference = torch.nn.init.trunc_normal_(torch.empty(200, 200), std=0.5, a=-1.0, b=0.8)
    big = nn.init.trunc_normal_(graphnet.empty(200, 200), std=0.5, a=-1.0, b=0.8).numpy()
    assert abs(big.mean() - float(reference.mean())) < 0.01
    assert abs(big.std() - float(reference.std())) < 0.01
    q = init("orth").numpy()
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(30), atol=1e-4)
    assert not np.array_equal(q, init("orth").numpy())


def test_randint_bool_and_float16_dropout_scale():
    graphnet.manual_seed(0)
    b = graphnet.randint(0, 2, (1000,), dtype=graphnet.bool)
    assert b.dtype == graphnet.bool and 400 < int(b.sum()) < 600
    assert torch.randint(0, 2, (3,), dtype=torch.bool).dtype == torch.bool
    for p in (0.3, 0.7):
        for name in ("float16", "bfloat16", "float32"):
            g = F.dropout(graphnet.ones(2000, dtype=getattr(graphnet, name)), p).float().numpy()
            t = torch.nn.functional.dropout(torch.ones(2000, dtype=getattr(torch, name)), p)
            t = t.float().numpy()
            assert set(g[g != 0].tolist()) == set(t[t != 0].tolist())


ERROR_CASES = [
    "T.randint(0, 300, (3,), dtype=T.uint8)", "T.randint(-1, 5, (3,), dtype=T.uint8)",
    "T.randint(0, 10, (3,), dtype=T.bool)", "T.randint(0, 256, (3,), dtype=T.uint8)",
    "T.randint(2.5, 10.7, (3,))", "T.randint(2, 10.5, (3,))",
    "T.ones(3, dtype=T.uint8).random_(0, 300)", "T.ones(3, dtype=T.int8).random_(-200, 0)",
    "T.ones(3, dtype=T.bool).random_(0, 3)", "T.ones(3, dtype=T.int16).random_(0, 2**16)",
    "T.ones(3, dtype=T.uint8).random_(256)", "T.ones(3).random_(0)",
    "T.randperm(300, dtype=T.uint8)", "T.randperm(256, dtype=T.uint8)",
    "T.randperm(3, dtype=T.bool)",
    "T.ones(3).uniform_(0, float('inf'))", "T.ones(3).uniform_(-3e38, 3e38)",
    "T.ones(3, dtype=T.float16).uniform_(0, 1e5)",
    "T.multinomial(T.tensor([1, 2]), 1)", "T.bernoulli(T.ones(3, dtype=T.int64))",
    "T.bernoulli(T.ones(3, dtype=T.int64), 0.5)", "T.poisson(T.tensor([1], dtype=T.int64))",
    "T.rand(3, dtype=T.int64)", "T.randn(3, dtype=T.bool)",
    "T.rand_like(T.ones(3, dtype=T.int64))", "T.ones(3, dtype=T.int64).uniform_()",
    "T.ones(3, dtype=T.int64).normal_()", "T.normal(T.zeros(3, dtype=T.int64), 1.)",
    "T.ones(3, dtype=T.int64).exponential_()", "T.ones(3, dtype=T.int64).cauchy_()",
    "T.ones(3, dtype=T.int64).log_normal_()", "T.normal(T.zeros(3), T.ones(2))",
    "T.normal(2.0, 3.0)", "T.nn.init.trunc_normal_(T.empty(3, 3, dtype=T.int64))",
    "T.randn(3, generator=5)", "T.randperm(3, generator=5)",
    "T.Generator().manual_seed(3.0)", "T.Generator().manual_seed(2**64)",
    "T.Generator().manual_seed(-2**63 - 1)", "T.manual_seed(1.5)",
]


@pytest.mark.parametrize("code", ERROR_CASES)
def test_argument_errors_are_pytorchs(code):
    def outcome(lib):
        try:
            eval(code, {"T": lib})
        except Exception as e:   # noqa: BLE001 - the type is what is compared
            return type(e).__name__
        return "ok"

    assert outcome(graphnet) == outcome(torch)


def test_seeds_and_generator_device_are_pytorchs():
    for seed in (-1, -5, -2 ** 63, 2 ** 64 - 1, 2 ** 63 + 5, 7):
        assert graphnet.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
        assert graphnet.Generator().manual_seed(seed).initial_seed() == \
            torch.Generator().manual_seed(seed).initial_seed()
    a, b = graphnet.Generator().manual_seed(-1), graphnet.Generator().manual_seed(2 ** 64 - 1)
    assert graphnet.rand(3, generator=a).equal(graphnet.rand(3, generator=b))
    device = graphnet.Generator().device
    assert isinstance(device, graphnet.device) and str(device) == str(torch.Generator().device)
    graphnet.manual_seed(0)


def test_bfloat16_alpha_dropout_drops_at_the_rate_asked():
    """The keep draw is compared in float32: in bfloat16, 1 - p = 0.9 rounded to 0.8984 and
    dropped 0.1012 of the units at p=0.1 (PyTorch: 0.1)."""
    y = F.alpha_dropout(graphnet.ones(2 * 10 ** 6, dtype=graphnet.bfloat16), 0.1, True)
    values, counts = np.unique(y.float().numpy(), return_counts=True)
    assert len(values) == 2
    dropped = counts[values.argmin()] / counts.sum()
    assert abs(dropped - 0.1) < 0.0008, dropped   # 4 standard errors
