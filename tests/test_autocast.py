"""`autocast("cpu")` against torch 2.13's CPU autocast: each op family's output dtype exactly
and its values to bfloat16 tolerance, gradients in each leaf's own dtype, training steps of
an MLP and a small convnet eagerly and compiled, a compiled program keyed on the autocast
state, the region API (decorator, nesting, state functions, warnings and errors) and
GradScaler("cpu") under autocast."""

import threading
import warnings

import numpy as np
import pytest
import torch

import graphnet as G
from graphnet import _autocast

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _np(t):
    return t.detach().float().numpy()


def _name(dtype):
    return str(dtype).split(".")[-1]


# ---- op families: (name, fn(T, F, *inputs), input arrays) --------------------------------
A, B, V = _arr(3, 4), _arr(4, 5), _arr(4)
A3, B3 = _arr(2, 3, 4), _arr(2, 4, 5)
IMG, W2 = _arr(2, 3, 8, 8), _arr(4, 3, 3, 3)
VOL = _arr(1, 2, 4, 4, 4)
LABELS = np.array([0, 2, 1])
CASES = [
    ("mm", lambda T, F, a, b: T.mm(a, b), (A, B)),
    ("matmul", lambda T, F, a, b: a @ b, (A, B)),
    ("bmm", lambda T, F, a, b: T.bmm(a, b), (A3, B3)),
    ("linear", lambda T, F, a, w, b: F.linear(a, w, b), (A, _arr(5, 4), _arr(5))),
    ("conv1d", lambda T, F, x, w: F.conv1d(x, w), (_arr(2, 3, 8), _arr(4, 3, 3))),
    ("conv2d", lambda T, F, x, w, b: F.conv2d(x, w, b, padding=1), (IMG, W2, _arr(4))),
    ("conv3d", lambda T, F, x, w: F.conv3d(x, w), (VOL, _arr(3, 2, 2, 2, 2))),
    # NOTE: torch's bfloat16 conv_transpose2d is off by up to 0.12 from the exact product of
    # the rounded inputs here (graphnet's by 0.03): compared at atol 0.15, see _ATOL
    ("conv_transpose2d", lambda T, F, x, w: F.conv_transpose2d(x, w), (IMG, _arr(3, 4, 3, 3))),
    ("prelu", lambda T, F, a, w: F.prelu(a, w), (A, np.array([0.25], np.float32))),
    ("sdpa", lambda T, F, q, k, v: F.scaled_dot_product_attention(q, k, v), (A3, A3, A3)),
    ("einsum_contract", lambda T, F, a, b: T.einsum("ij,jk->ik", a, b), (A, B)),
    ("einsum_product", lambda T, F, a, b: T.einsum("ij,ij->ij", a, b), (A, A)),
    ("relu_of_mm", lambda T, F, a, b: T.relu(a @ b) + 1, (A, B)),
    ("cross_entropy", lambda T, F, a: F.cross_entropy(a.bfloat16(), T.tensor(LABELS)), (A,)),
    ("mse_loss", lambda T, F, a, b: F.mse_loss(a @ b, (a @ b).detach() * 0.5), (A, B)),
    ("l1_loss", lambda T, F, a: F.l1_loss(a.bfloat16(), a.bfloat16() * 2), (A,)),
    ("smooth_l1_loss", lambda T, F, a: F.smooth_l1_loss(a.bfloat16(), a * 0), (A,)),
    ("huber_loss", lambda T, F, a: F.huber_loss(a.bfloat16(), a.bfloat16() * 3), (A,)),
    ("kl_div", lambda T, F, a: F.kl_div(a.bfloat16().log_softmax(-1), a.softmax(-1),
                                        reduction="batchmean"), (A,)),
    ("bce_with_logits", lambda T, F, a: F.binary_cross_entropy_with_logits(
        a.bfloat16(), (a > 0).float()), (A,)),
    ("cdist", lambda T, F, a: T.cdist(a.bfloat16(), a.bfloat16()), (A,)),
    ("prod", lambda T, F, a: T.prod(a.bfloat16(), 1), (A,)),
    ("cat_promote", lambda T, F, a: T.cat([a.bfloat16(), a]), (A,)),
    ("cat_bf16", lambda T, F, a: T.cat([a.bfloat16(), a.bfloat16()]), (A,)),
    ("stack_promote", lambda T, F, a: T.stack([a, a.bfloat16()]), (A,)),
    ("max_pool2d", lambda T, F, x: F.max_pool2d(x.bfloat16(), 2), (IMG,)),
    ("max_pool3d", lambda T, F, x: F.max_pool3d(x.bfloat16(), 2), (VOL,)),
    ("avg_pool3d", lambda T, F, x: F.avg_pool3d(x.bfloat16(), 2), (VOL,)),
    ("adaptive_avg_pool3d", lambda T, F, x: F.adaptive_avg_pool3d(x.bfloat16(), 1), (VOL,)),
    ("pad_reflect", lambda T, F, x: F.pad(x.bfloat16(), (1, 1, 1, 1), mode="reflect"), (IMG,)),
    ("pad_replicate", lambda T, F, x: F.pad(x.bfloat16(), (1, 1, 1, 1), mode="replicate"),
     (IMG,)),
    ("pad_constant", lambda T, F, x: F.pad(x.bfloat16(), (1, 1, 1, 1)), (IMG,)),
    ("layer_norm_of_mm", lambda T, F, a, b: F.layer_norm(a @ b, (5,)), (A, B)),
    ("float64_not_cast", lambda T, F, a, b: a.double() @ b.double(), (A, B)),
    ("softmax_not_listed", lambda T, F, a: a.softmax(-1), (A,)),
]


_ATOL = {"conv_transpose2d": 0.15}
# Composite functions (graphnet runs several ops, PyTorch autocasts one): each carries
# `_autocast.autocast_as(...)` on its definition, so it casts as torch's one op.
COMPOSITES = [
    ("addmm", lambda T, F, c, a, b: T.addmm(c, a, b), (_arr(3, 5), A, B)),
    ("baddbmm", lambda T, F, c, a, b: T.baddbmm(c, a, b), (_arr(2, 3, 5), A3, B3)),
    ("mv", lambda T, F, a, v: T.mv(a, v), (A, V)),
    ("dot", lambda T, F, v: T.dot(v, v), (V,)),
    ("vecdot", lambda T, F, a: T.linalg.vecdot(a, a), (A,)),
    ("index_copy", lambda T, F, a: a.index_copy(0, T.tensor([1]), a[:1].bfloat16()), (A,)),
    ("addbmm", lambda T, F, c, a, b: T.addbmm(c, a, b), (_arr(3, 5), A3, B3)),
    ("addmv", lambda T, F, c, a, v: T.addmv(c, a, v), (_arr(3), A, V)),
]


def _run_case(T, fn, arrays, compiled):
    F = T.nn.functional
    leaves = [T.tensor(a, requires_grad=True) for a in arrays]

    def body(*xs):
        with T.autocast("cpu", dtype=T.bfloat16):
            out = fn(T, F, *xs)
        out.float().sum().backward()
        return out

    out = (G.compile(body) if compiled else body)(*leaves)
    return out, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name,fn,arrays", CASES + COMPOSITES,
                         ids=[c[0] for c in CASES + COMPOSITES])
def test_op_runs_in_torchs_autocast_dtype(name, fn, arrays, compiled):
    want, want_grads = _run_case(torch, fn, arrays, False)
    got, got_grads = _run_case(G, fn, arrays, compiled)
    assert _name(got.dtype) == _name(want.dtype)
    atol = _ATOL.get(name, 1e-2)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-2, atol=atol)
    for g, w in zip(got_grads, want_grads):
        assert _name(g.dtype) == _name(w.dtype) == "float32"   # each leaf's own dtype
        np.testing.assert_allclose(_np(g), _np(w), rtol=2e-2, atol=2 * atol)


# ---- training steps ----------------------------------------------------------------------
def _model(T, kind):
    nn = T.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                             nn.LayerNorm(16), nn.Linear(16, 3))
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))


def _models(kind):
    torch.manual_seed(0)
    tm, gm = _model(torch, kind), _model(G, kind)
    with G.no_grad():
        for tp, gp in zip(tm.state_dict().values(), gm.state_dict().values()):
            gp.copy_(G.tensor(tp.detach().numpy()))
    return tm, gm


def _train_step(T, model, opt):
    def step(x, y):
        opt.zero_grad()
        with T.autocast("cpu", dtype=T.bfloat16):
            out = model(x)
            loss = T.nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        return out, loss
    return step


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("kind", ["mlp", "convnet"])
def test_training_step_matches_torch(kind, compiled):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6) if kind == "mlp" else (5, 2, 8, 8)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    tm, gm = _models(kind)
    t_step = _train_step(torch, tm, torch.optim.SGD(tm.parameters(), lr=0.1))
    g_step = _train_step(G, gm, G.optim.SGD(gm.parameters(), lr=0.1))
    g_step = G.compile(g_step) if compiled else g_step
    for _ in range(2):
        t_out, t_loss = t_step(torch.tensor(x), torch.tensor(y))
        g_out, g_loss = g_step(G.tensor(x), G.tensor(y))
        assert _name(g_out.dtype) == _name(t_out.dtype) == "bfloat16"
        assert _name(g_loss.dtype) == _name(t_loss.dtype) == "float32"
        np.testing.assert_allclose(_np(g_out), _np(t_out), rtol=2e-2, atol=2e-2)
        np.testing.assert_allclose(g_loss.item(), t_loss.item(), rtol=1e-2)
        # NOTE: compared as norms: a bfloat16 value one rounding apart can move a max pool's
        # winner, and with it single gradient elements
        scale = max(np.linalg.norm(p.grad.numpy()) for p in tm.parameters())
        for tp, gp in zip(tm.parameters(), gm.parameters()):
            assert _name(gp.dtype) == _name(gp.grad.dtype) == "float32"
            error = np.linalg.norm(gp.grad.numpy() - tp.grad.numpy())
            assert error <= 0.03 * np.linalg.norm(tp.grad.numpy()) + 1e-4 * scale
            np.testing.assert_allclose(_np(gp), _np(tp), atol=1e-2)


def test_compiled_function_is_keyed_on_the_autocast_state():
    a, b = _arr(3, 4), _arr(4, 5)
    fn = G.compile(lambda x, y: x @ y)
    outside = fn(G.tensor(a), G.tensor(b))
    with G.autocast("cpu"):
        inside = fn(G.tensor(a), G.tensor(b))
        with torch.autocast("cpu"):
            want = torch.tensor(a) @ torch.tensor(b)
    with G.autocast("cpu", dtype=G.float16):
        half = fn(G.tensor(a), G.tensor(b))
    again = fn(G.tensor(a), G.tensor(b))
    assert outside.dtype is again.dtype is G.float32
    assert inside.dtype is G.bfloat16 and half.dtype is G.float16
    np.testing.assert_array_equal(_np(inside), _np(want))
    np.testing.assert_allclose(_np(again), a @ b, rtol=1e-5)


# ---- the region API ------------------------------------------------------------------------
def test_state_functions_decorator_and_nesting_match_torch():
    for T in (torch, G):
        assert not T.is_autocast_enabled("cpu") and not T.is_autocast_enabled()
        assert T.get_autocast_dtype("cpu") == T.bfloat16
        assert T.get_autocast_dtype("cuda") == T.float16

        @T.autocast("cpu")
        def mm(a, b):
            assert T.is_autocast_enabled("cpu")
            return a @ b

        a = T.tensor(A)
        assert mm(a, a.T).dtype == T.bfloat16
        with T.autocast("cpu", dtype=T.float16):
            assert T.get_autocast_dtype("cpu") == T.float16
            assert (a @ a.T).dtype == T.float16
            with T.autocast("cpu", enabled=False):
                assert not T.is_autocast_enabled("cpu")
                assert (a @ a.T).dtype == T.float32
            assert T.is_autocast_enabled("cpu") and (a @ a.T).dtype == T.float16
        assert not T.is_autocast_enabled("cpu") and T.get_autocast_dtype("cpu") == T.bfloat16
        assert (a @ a.T).dtype == T.float32
        assert T.autocast_increment_nesting() == 1 and T.autocast_decrement_nesting() == 0
        assert T.is_autocast_cache_enabled()
        T.set_autocast_enabled("cpu", True)
        assert (a @ a.T).dtype == T.bfloat16
        T.set_autocast_enabled("cpu", False)
        T.clear_autocast_cache()
    assert _autocast.active == 0


def test_unsupported_dtype_and_cuda_warn_and_disable_as_torch():
    for T in (torch, G):
        with pytest.warns(UserWarning, match="target dtype is not supported"):
            region = T.autocast("cpu", dtype=T.float64)
        with region:
            assert not T.is_autocast_enabled("cpu")
        if not G.cuda.is_available():
            with pytest.warns(UserWarning, match="CUDA is not available"):
                region = T.autocast("cuda")
            with region:
                assert (T.ones(2, 2) @ T.ones(2, 2)).dtype == T.float32


def test_bad_arguments_raise_torchs_errors():
    for T in (torch, G):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            T.autocast(0)
        with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
            T.autocast("gpu")
        with pytest.raises(TypeError, match="requires a callable"):
            T.autocast("cpu")(3)
        with pytest.raises(TypeError, match="missing 1 required positional argument"):
            T.autocast()
        a = T.tensor(A)
        with T.autocast("cpu"), pytest.raises(RuntimeError, match="Unexpected floating"):
            T.cat([a.half(), a])   # float16 in a bfloat16 region
        with T.autocast("cpu"):
            assert T.cat([a, a.half()]).dtype == T.float32


def test_integer_inputs_are_never_cast():
    for T in (torch, G):
        i = T.ones(2, 2, dtype=T.int64)
        with T.autocast("cpu"):
            assert T.nn.functional.linear(i, i).dtype == T.int64


def test_state_is_per_thread():
    seen = []
    with G.autocast("cpu"):
        worker = threading.Thread(target=lambda: seen.append(
            (G.is_autocast_enabled("cpu"), (G.ones(2, 2) @ G.ones(2, 2)).dtype)))
        worker.start()
        worker.join()
        assert (G.ones(2, 2) @ G.ones(2, 2)).dtype is G.bfloat16
    assert seen == [(False, G.float32)]


def test_autocast_as_runs_a_composite_as_one_op():
    # what graphnet's addmm (matmul + add) and mv (a matmul) need to be torch's one op each
    addmm = _autocast.autocast_as("lower")(lambda c, a, b: a @ b + c)
    mv = _autocast.autocast_as(None)(lambda a, v: a @ v)
    a, b, c, v = G.tensor(A), G.tensor(B), G.tensor(_arr(3, 5)), G.tensor(V)
    with torch.autocast("cpu"):
        want_addmm = torch.addmm(torch.tensor(c.numpy()), torch.tensor(A), torch.tensor(B))
        want_mv = torch.mv(torch.tensor(A), torch.tensor(V))
    with G.autocast("cpu"):
        got_addmm, got_mv = addmm(c, a, b), mv(a, v)
        assert G.is_autocast_enabled("cpu") and (a @ b).dtype is G.bfloat16
    assert _name(got_addmm.dtype) == _name(want_addmm.dtype) == "bfloat16"
    assert _name(got_mv.dtype) == _name(want_mv.dtype) == "float32"
    np.testing.assert_allclose(_np(got_addmm), _np(want_addmm), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(_np(got_mv), _np(want_mv), rtol=1e-5)


def test_grad_scaler_cpu_with_autocast_matches_torch():
    results = []
    for T in (torch, G):
        T.manual_seed(0)
        model = T.nn.Linear(4, 2)
        with T.no_grad():
            model.weight.copy_(T.tensor(_arr(2, 4) * 0 + A[:2]))
            model.bias.fill_(0.1)
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scaler = T.amp.GradScaler("cpu", init_scale=2.0 ** 8)
        for _ in range(2):
            opt.zero_grad()
            with T.autocast("cpu"):
                loss = model(T.tensor(A)).float().pow(2).mean()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        results.append((model.weight.detach().numpy().copy(), scaler.get_scale()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-2, atol=1e-3)
    assert results[1][1] == results[0][1]
