"""Autocast corners against torch 2.13's CPU autocast: recurrent layers, einsum of three or
more operands (cast by PyTorch's chain of pairs), affine_grid, out= and in-place forms (not
autocast in PyTorch), custom_fwd/custom_bwd, the deprecated torch.cpu.amp / torch.cuda.amp
spellings, non-bool flags, and capturable=True optimizers on the CPU."""

import random
import warnings

import numpy as np
import pytest
import torch

import graphnet as gn

R = np.random.RandomState(0)
A = R.randn(3, 3).astype(np.float32)


def _name(dtype):
    return str(dtype).split(".")[-1]


def _np(t):
    return t.detach().float().numpy()


# ---- recurrent layers -------------------------------------------------------------------
X_SEQ = R.randn(6, 3, 4).astype(np.float32)


def _recurrent(T, kind, compiled=False, **kwargs):
    torch.manual_seed(0)
    ref = getattr(torch.nn, kind)(4, 5, **kwargs)
    model = ref if T is torch else getattr(gn.nn, kind)(4, 5, **kwargs)
    if T is gn:
        model.load_state_dict({k: gn.tensor(v.detach().numpy())
                               for k, v in ref.state_dict().items()})
    x = T.tensor(X_SEQ if "Cell" not in kind else X_SEQ[0], requires_grad=True)

    def run(x):
        with T.autocast("cpu"):
            out = model(x)
        outs = out if isinstance(out, tuple) else (out,)
        flat = [o for item in outs for o in (item if isinstance(item, tuple) else (item,))]
        sum(o.float().sum() for o in flat).backward()
        return flat

    flat = (gn.compile(run) if compiled else run)(x)
    return [_name(o.dtype) for o in flat], [_np(o) for o in flat], _np(x.grad)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("kind,kwargs", [
    ("RNN", {}), ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("GRU", {}), ("RNNCell", {}), ("GRUCell", {}), ("LSTMCell", {})])
def test_recurrent_layers_give_torchs_dtypes(kind, kwargs, compiled):
    want = _recurrent(torch, kind, **kwargs)
    got = _recurrent(gn, kind, compiled, **kwargs)
    assert got[0] == want[0]          # RNN: bfloat16 (its per-step linears); GRU: float32
    for g, w in zip(got[1] + [got[2]], want[1] + [want[2]]):
        np.testing.assert_allclose(g, w, rtol=3e-2, atol=3e-2)


@pytest.mark.filterwarnings("ignore:TF32 acceleration")
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_lstm_is_torchs_onednn_lstm(compiled):
    # NOTE: PyTorch's default CPU LSTM is oneDNN's mkldnn_rnn_layer, cast to bfloat16 (on a
    # CPU without bfloat16 support it raises instead; only with oneDNN switched off does it
    # run float32 cells): graphnet gives the bfloat16 results wherever PyTorch gives any
    got = _recurrent(gn, "LSTM", compiled)
    assert got[0] == ["bfloat16"] * 3
    try:
        want = _recurrent(torch, "LSTM")
    except RuntimeError:
        return      # this CPU: PyTorch's oneDNN has no bfloat16 kernels
    assert want[0] == got[0]
    for g, w in zip(got[1] + [got[2]], want[1] + [want[2]]):
        np.testing.assert_allclose(g, w, rtol=3e-2, atol=3e-2)


# ---- einsum -----------------------------------------------------------------------------
EQUATIONS = [
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]), ("ij,jk,kl", [(3, 4), (4, 5), (5, 2)]),
    ("i,i,i->", [(3,), (3,), (3,)]), ("ij,ij,ij->ij", [(3, 3)] * 3),
    ("ij,jk,k->ik", [(3, 4), (4, 5), (5,)]), ("ij,j,k->ik", [(3, 4), (4,), (5,)]),
    ("...ij,...jk,...kl->...il", [(2, 3, 4), (2, 4, 5), (2, 5, 2)]),
    ("bij,bjk,bkl,blm->bim", [(2, 3, 4), (2, 4, 5), (2, 5, 6), (2, 6, 3)]),
    ("ii,ij,jk->k", [(3, 3), (3, 4), (4, 5)]), ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("ij,jk->ik", [(3, 1), (1, 4)]),   # a size-1 label is not contracted: float32
]


def _random_equations(count, seed=0):
    rng = random.Random(seed)
    for _ in range(count):
        terms = ["".join(rng.sample("abcde", rng.randint(1, 3)))
                 for _ in range(rng.randint(2, 4))]
        labels = sorted(set("".join(terms)))
        sizes = {c: rng.choice([1, 2, 3, 4]) for c in "abcde"}
        out = "".join(c for c in labels if rng.random() < 0.4)
        yield ",".join(terms) + "->" + out, [tuple(sizes[c] for c in t) for t in terms]


def _einsum(T, equation, arrays, compiled=False):
    xs = [T.tensor(a, requires_grad=True) for a in arrays]

    def run(*xs):
        with T.autocast("cpu"):
            out = T.einsum(equation, *xs)
        out.float().sum().backward()
        return out

    out = (gn.compile(run) if compiled else run)(*xs)
    return _name(out.dtype), _np(out), [_name(x.grad.dtype) for x in xs]


@pytest.mark.parametrize("equation,shapes", EQUATIONS + list(_random_equations(40)),
                         ids=str)
def test_einsum_dtype_follows_torchs_chain_of_pairs(equation, shapes):
    arrays = [np.asarray(R.randn(*s), np.float32) for s in shapes]
    want = _einsum(torch, equation, arrays)
    got = _einsum(gn, equation, arrays)
    assert (got[0], got[2]) == (want[0], want[2])
    np.testing.assert_allclose(got[1], want[1], rtol=2e-2, atol=2e-2)


def test_compiled_einsum_chain_matches_torch():
    arrays = [np.asarray(R.randn(*s), np.float32) for s in [(3, 4), (4, 5), (5, 2)]]
    want = _einsum(torch, "ij,jk,kl->il", arrays)
    got = _einsum(gn, "ij,jk,kl->il", arrays, compiled=True)
    assert got[0] == want[0] == "bfloat16"
    np.testing.assert_allclose(got[1], want[1], rtol=2e-2, atol=2e-2)


# ---- affine_grid ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [[2, 1, 7, 5], [2, 1, 3, 6, 5]], ids=str)
def test_affine_grid_is_lowered_as_torchs_bmm(size):
    nd = len(size) - 2
    theta = R.randn(2, nd, nd + 1).astype(np.float32)
    results = []
    for T in (torch, gn):
        t = T.tensor(theta, requires_grad=True)
        with T.autocast("cpu"):
            grid = T.nn.functional.affine_grid(t, size, align_corners=False)
        (grid.float() ** 2).sum().backward()
        results.append((_name(grid.dtype), _np(grid), _np(t.grad)))
    (gd, gv, gg), (td, tv, tg) = results[1], results[0]
    assert gd == td == "bfloat16"
    np.testing.assert_allclose(gv, tv, rtol=1e-2, atol=2e-2)   # one bfloat16 step
    np.testing.assert_allclose(gg, tg, rtol=2e-2, atol=0.1)   # bfloat16 sums of the grid


# ---- out= and in-place forms: not autocast in PyTorch -----------------------------------
OUT_CASES = {
    "mm": lambda T, a: T.mm(a, a, out=T.empty(3, 3)),
    "matmul": lambda T, a: T.matmul(a, a, out=T.empty(3, 3)),
    "bmm": lambda T, a: T.bmm(a[None], a[None], out=T.empty(1, 3, 3)),
    "addmm": lambda T, a: T.addmm(a, a, a, out=T.empty(3, 3)),
    "baddbmm": lambda T, a: T.baddbmm(a[None], a[None], a[None], out=T.empty(1, 3, 3)),
    "addbmm": lambda T, a: T.addbmm(a, a[None], a[None], out=T.empty(3, 3)),
    "mm_bfloat16_out": lambda T, a: T.mm(a, a, out=T.empty(3, 3, dtype=T.bfloat16)),
    "tensordot_stays_cast": lambda T, a: T.tensordot(a, a, dims=1, out=T.empty(3, 3)),
    "chain_matmul_stays_cast": lambda T, a: T.chain_matmul(a, a, a, out=T.empty(3, 3)),
    "index_copy": lambda T, a: T.index_copy(a, 0, T.tensor([1]), a[:1].bfloat16(),
                                            out=T.empty(3, 3)),
    "addmm_": lambda T, a: a.clone().addmm_(a, a),
    "baddbmm_": lambda T, a: a[None].clone().baddbmm_(a[None], a[None]),
    "addbmm_": lambda T, a: a.clone().addbmm_(a[None], a[None]),
    "index_copy_": lambda T, a: a.clone().index_copy_(0, T.tensor([1]), a[:1].bfloat16()),
    "addmm_functional_is_cast": lambda T, a: T.addmm(a, a, a),
}


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("name", list(OUT_CASES))
def test_out_and_in_place_forms_are_not_autocast(name):
    results = []
    for T in (torch, gn):
        with T.autocast("cpu"):
            try:
                r = OUT_CASES[name](T, T.tensor(A))
                results.append((_name(r.dtype), _np(r)))
            except RuntimeError as e:
                results.append(("RuntimeError", str(e).split(",")[0]))
    (got_kind, got), (want_kind, want) = results[1], results[0]
    assert got_kind == want_kind
    if got_kind == "RuntimeError":
        assert got == want
    else:
        tolerance = 1e-2 if got_kind == "bfloat16" else 1e-5
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


# ---- custom_fwd / custom_bwd ------------------------------------------------------------
def _custom_mm(T, cast_inputs, compiled=False):
    class MyMM(T.autograd.Function):
        @staticmethod
        @T.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a.mm(b)

        @staticmethod
        @T.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad.mm(b.t()), a.t().mm(grad)

    a, b = T.tensor(A, requires_grad=True), T.tensor(A.T.copy(), requires_grad=True)

    def run(a, b):
        with T.autocast("cpu"):
            out = MyMM.apply(a, b)
            out.float().sum().backward()
        return out, MyMM.apply(a, b)   # outside the region: custom_fwd changes nothing

    out, plain = (gn.compile(run) if compiled else run)(a, b)
    return [_name(t.dtype) for t in (out, plain, a.grad)], _np(out), _np(a.grad)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("cast", [None, "float32"])
def test_custom_fwd_and_bwd_match_torch(cast, compiled):
    want = _custom_mm(torch, cast and torch.float32)
    got = _custom_mm(gn, cast and gn.float32, compiled)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-2)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-2)
    for T in (torch, gn):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            T.amp.custom_fwd(device_type=None)


# ---- deprecated spellings and flag types ------------------------------------------------
def _spellings(T):
    made = []
    for make in (lambda: T.cpu.amp.autocast(), lambda: T.cpu.amp.GradScaler(),
                 lambda: T.cuda.amp.autocast(), lambda: T.cuda.amp.GradScaler(),
                 lambda: T.cpu.amp.autocast(dtype=T.float16),
                 lambda: T.cuda.amp.custom_fwd(cast_inputs=T.float32)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            obj = make()
        made.append((isinstance(obj, (T.amp.autocast, T.amp.GradScaler)),
                     _name(getattr(obj, "fast_dtype", None)), getattr(obj, "_enabled", None),
                     [(w.category.__name__, str(w.message)) for w in caught]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with T.cpu.amp.autocast():
            made.append(_name((T.ones(2, 2) @ T.ones(2, 2)).dtype))
    return made


@pytest.mark.skipif(gn.cuda.is_available(), reason="the cuda spellings warn of no GPU")
def test_cpu_and_cuda_amp_spellings_warn_as_torch():
    assert _spellings(gn) == _spellings(torch)
    import graphnet.cpu.amp as cpu_amp

    assert cpu_amp.GradScaler is gn.cpu.amp.GradScaler


def _flag_errors(T):
    errors = []
    for kwargs in (dict(enabled=1), dict(enabled=None), dict(enabled=np.bool_(True)),
                   dict(dtype="bfloat16")):
        try:
            with T.autocast("cpu", **kwargs):
                errors.append("entered")
        except TypeError as e:
            errors.append(str(e))
        errors.append(T.is_autocast_enabled("cpu"))
    for value in (1, None):
        try:
            T.set_autocast_cache_enabled(value)
        except TypeError as e:
            errors.append(str(e))
    try:
        T.set_autocast_enabled(None)
    except TypeError as e:
        errors.append(str(e))
    return errors


@pytest.mark.filterwarnings("ignore:In CPU autocast, but the target dtype")
def test_non_bool_flags_raise_torchs_type_errors():
    assert _flag_errors(gn) == _flag_errors(torch)
    assert not gn.is_autocast_enabled("cpu") and gn.is_autocast_cache_enabled()


# ---- capturable=True on the CPU ---------------------------------------------------------
@pytest.mark.skipif(gn.cuda.is_available(), reason="parameters live on the GPU there")
@pytest.mark.parametrize("foreach", [None, True])
@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "ASGD",
                                  "Adadelta", "RMSprop", "Rprop"])
def test_capturable_step_on_the_cpu_fails_torchs_assertion(name, foreach):
    messages = []
    for T in (torch, gn):
        p = T.nn.Parameter(T.tensor([1.0, 2.0]))
        opt = getattr(T.optim, name)([p], lr=0.1, capturable=True, foreach=foreach)
        opt.step()   # no grads: nothing to check, as in PyTorch
        p.grad = T.tensor([0.5, -1.0])
        with pytest.raises(AssertionError) as caught:
            opt.step()
        messages.append(str(caught.value))
        assert p.tolist() == [1.0, 2.0]
    assert messages[0] == messages[1]
    stepped = []
    for T in (torch, gn):   # fused=True takes PyTorch's fused CPU kernel: no assertion
        q = T.nn.Parameter(T.tensor([1.0]))
        opt = T.optim.Adam([q], lr=0.1, capturable=True, fused=True)
        q.grad = T.tensor([0.5])
        opt.step()
        stepped.append(q.item())
    assert stepped[0] == pytest.approx(stepped[1], rel=1e-6)
