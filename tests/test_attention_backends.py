"""The SDPA kernel switches against torch 2.13 (CPU): torch.backends.cuda.enable_*_sdp and
*_sdp_enabled, torch.nn.attention.SDPBackend and sdpa_kernel (nesting, restoring, priority,
refusals), and where scaled_dot_product_attention then refuses to run; and SDPA with no keys
(S == 0), which crashed graphnet: zeros and zero gradients, eager and compiled."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.attention as tattn

import graphnet as G
import graphnet.nn.attention as gattn

BACKENDS = ["MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION",
            "OVERRIDEABLE"]
SWITCHES = ["flash", "mem_efficient", "math", "cudnn"]
rng = np.random.default_rng(0)


def _flags(lib):
    return tuple(getattr(lib.backends.cuda, f"{name}_sdp_enabled")() for name in SWITCHES)


def test_backend_enum_like_torch():
    for name in ["ERROR", *BACKENDS]:
        ours, theirs = getattr(gattn.SDPBackend, name), getattr(tattn.SDPBackend, name)
        assert int(ours) == int(theirs) and repr(ours) == repr(theirs)
        assert str(ours) == str(theirs) and ours.name == theirs.name
    assert list(gattn.SDPBackend.__members__) == list(tattn.SDPBackend.__members__)
    assert G.nn.attention.sdpa_kernel is gattn.sdpa_kernel


@pytest.mark.parametrize("chosen", [[name] for name in BACKENDS] +
                         [[], ["MATH", "EFFICIENT_ATTENTION"], "MATH"])
def test_sdpa_kernel_sets_and_restores_the_switches(chosen):
    def pick(lib):
        enum = (gattn if lib is G else tattn).SDPBackend
        return getattr(enum, chosen) if isinstance(chosen, str) else \
            [getattr(enum, n) for n in chosen]
    seen = []
    for lib, mod in ((torch, tattn), (G, gattn)):
        before = _flags(lib)
        with mod.sdpa_kernel(pick(lib)) as context:
            assert context == {}
            seen.append(_flags(lib))
        assert _flags(lib) == before == (True,) * 4
    assert seen[0] == seen[1]


def test_sdpa_kernel_refuses_what_torch_refuses():
    for mod in (tattn, gattn):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with mod.sdpa_kernel("math"):
                pass


def test_set_priority_reorders_and_restores():
    for mod in (gattn,):
        with mod.sdpa_kernel([mod.SDPBackend.MATH, mod.SDPBackend.FLASH_ATTENTION],
                             set_priority=True):
            enabled = gattn._enabled_backends(with_priority=True)
            assert enabled == [mod.SDPBackend.MATH, mod.SDPBackend.FLASH_ATTENTION]
    from graphnet.backends import _attention_flags
    assert _attention_flags.sdp_priority() == torch._C._get_sdp_priority_order()


@pytest.mark.parametrize("name", SWITCHES)
def test_cuda_switches_toggle_like_torch(name):
    for lib in (torch, G):
        enable = getattr(lib.backends.cuda, f"enable_{name}_sdp")
        enabled = getattr(lib.backends.cuda, f"{name}_sdp_enabled")
        try:
            enable(False)
            assert enabled() is False
            # NOTE: torch names set_sdp_use_math for flash and mem_efficient too: graphnet
            # names the switch set
            with pytest.raises(RuntimeError, match="expects a bool, but got"):
                enable(0)
        finally:
            enable(True)
        assert enabled() is True


def test_deprecated_sdp_kernel_warns_and_switches():
    for lib in (torch, G):
        with pytest.warns(FutureWarning, match="sdp_kernel\\(\\)` is deprecated"):
            with lib.backends.cuda.sdp_kernel(enable_math=False, enable_cudnn=False):
                assert _flags(lib) == (True, True, False, False)
        assert _flags(lib) == (True,) * 4


def _sdpa_outcome(lib, shapes, compiled=False, **kw):
    q, k, v = (lib.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes)
    fn = (lambda q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw))
    fn = G.compile(fn) if compiled else fn
    try:
        return fn(q, k, v).shape
    except RuntimeError as err:
        return str(err).split(".")[0]


SHAPES = {"4d": [(2, 2, 5, 8), (2, 2, 6, 8), (2, 2, 6, 8)],
          "3d": [(2, 5, 8), (2, 6, 8), (2, 6, 8)],
          "value_dim": [(2, 2, 5, 8), (2, 2, 6, 8), (2, 2, 6, 4)],
          "broadcast_batch": [(2, 2, 5, 8), (1, 2, 6, 8), (1, 2, 6, 8)],
          "no_keys": [(2, 2, 5, 8), (2, 2, 0, 8), (2, 2, 0, 8)],
          "no_queries": [(2, 2, 0, 8), (2, 2, 6, 8), (2, 2, 6, 8)],
          "no_head_dim": [(2, 2, 5, 0), (2, 2, 6, 0), (2, 2, 6, 8)]}
CHOICES = [["MATH"], ["FLASH_ATTENTION"], ["EFFICIENT_ATTENTION"], []]


@pytest.mark.parametrize("dropout_p", [0.0, 0.5])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("chosen", CHOICES)
def test_sdpa_runs_or_refuses_like_torch_on_cpu(chosen, shape, dropout_p, compiled=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's "flash attention requires ..." notes
        with tattn.sdpa_kernel([getattr(tattn.SDPBackend, n) for n in chosen]):
            want = _sdpa_outcome(torch, SHAPES[shape], dropout_p=dropout_p)
    with gattn.sdpa_kernel([getattr(gattn.SDPBackend, n) for n in chosen]):
        got = _sdpa_outcome(G, SHAPES[shape], compiled, dropout_p=dropout_p)
    assert (tuple(got) if not isinstance(got, str) else got) == \
        (tuple(want) if not isinstance(want, str) else want)


@pytest.mark.parametrize("dropout_p", [0.0, 0.5])
@pytest.mark.parametrize("chosen", CHOICES)
def test_compiled_sdpa_runs_or_refuses_like_torch(chosen, dropout_p):
    test_sdpa_runs_or_refuses_like_torch_on_cpu(chosen, "4d", dropout_p, compiled=True)


def test_a_compiled_sdpa_follows_the_switches_between_calls():
    q = G.randn(1, 2, 3, 4)
    f = G.compile(lambda q: G.nn.functional.scaled_dot_product_attention(q, q, q))
    f(q)
    with gattn.sdpa_kernel([]):
        with pytest.raises(RuntimeError, match="No viable backend"):
            f(q)
    assert f(q).shape == (1, 2, 3, 4)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"mask": True}, {"mask": False}])
def test_sdpa_without_keys_gives_zeros_and_zero_grads(kw, compiled):
    q = rng.standard_normal((2, 3, 4)).astype(np.float32)
    kv = np.zeros((2, 0, 4), np.float32)
    results = []
    for lib in (torch, G):
        tq, tk, tv = (lib.tensor(a, requires_grad=True) for a in (q, kv, kv))
        args = dict(kw)
        if "mask" in args:
            boolean = args.pop("mask")
            args["attn_mask"] = lib.zeros(3, 0, dtype=lib.bool if boolean else lib.float32)

        def step(tq, tk, tv):
            out = lib.nn.functional.scaled_dot_product_attention(tq, tk, tv, **args)
            (out * 2).sum().backward()
            return out
        out = (G.compile(step) if compiled and lib is G else step)(tq, tk, tv)
        results.append([out.detach().numpy(), tq.grad.numpy(), tuple(tk.grad.shape)])
    (want, want_grad, want_k), (got, got_grad, got_k) = results
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_grad, want_grad)
    assert got_k == want_k == (2, 0, 4)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_sdpa_without_a_head_dim_averages_the_values_like_torch(compiled):
    q, k = np.zeros((2, 2, 5, 0), np.float32), np.zeros((2, 2, 6, 0), np.float32)
    v = rng.standard_normal((2, 2, 6, 3)).astype(np.float32)
    results = []
    for lib in (torch, G):
        tv = lib.tensor(v, requires_grad=True)

        def step(tv):
            out = lib.nn.functional.scaled_dot_product_attention(lib.tensor(q), lib.tensor(k), tv)
            out.sum().backward()
            return out
        out = (G.compile(step) if compiled and lib is G else step)(tv)
        results.append((out.detach().numpy(), tv.grad.numpy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_multihead_attention_without_keys_matches_torch(training, need_weights):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    torch.nn.init.normal_(theirs.out_proj.bias)
    ours = G.nn.MultiheadAttention(4, 2, batch_first=True)
    ours.load_state_dict({k: G.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    theirs.train(training), ours.train(training)
    q = rng.standard_normal((2, 3, 4)).astype(np.float32)
    kv = np.zeros((2, 0, 4), np.float32)
    with torch.no_grad(), G.no_grad():
        want, want_w = theirs(torch.tensor(q), torch.tensor(kv), torch.tensor(kv),
                              need_weights=need_weights)
        got, got_w = ours(G.tensor(q), G.tensor(kv), G.tensor(kv), need_weights=need_weights)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    assert (got_w is None) == (want_w is None)
    if want_w is not None:
        assert tuple(got_w.shape) == tuple(want_w.shape) == (2, 3, 0)
