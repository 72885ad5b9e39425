"""Edge cases of convolutions and pools against PyTorch: an empty batch with autotuning on
(graphnet/_ops/conv.py, pool_autotune.py), the window element a max pool picks when its
window holds NaNs (pool_candidates.winner_rule), and PyTorch's errors for empty channel or
spatial axes, over-padded dilated pools and adaptive pools to a size of 0
(graphnet/nn/functional_conv.py)."""

import jax
import numpy as np
import pytest
from parity import torch

import graphnet
from graphnet import nn
from graphnet._dispatch import clear_kernel_cache
from graphnet._ops import conv_autotune
from graphnet._ops.conv_candidates import conv_by_direction
from graphnet._ops.pool_candidates import CANDIDATES, pool_by_direction

TF = torch.nn.functional
GF = graphnet.nn.functional


@pytest.fixture
def autotuning(tmp_path, monkeypatch):
    """Autotuning on, with a private cache; eager kernels traced afresh under it."""
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_CACHE", str(tmp_path / "autotune.json"))
    conv_autotune.clear_memory()
    conv_autotune.set_enabled(True)
    clear_kernel_cache()
    yield
    conv_autotune.set_enabled(None)
    conv_autotune.clear_memory()
    clear_kernel_cache()


# ---- an empty batch with autotuning on -----------------------------------------------------
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_an_empty_batch_convolves_with_autotuning_on(nd, autotuning):
    shape = (0, 3) + (6,) * nd
    torch.manual_seed(0)
    ref = getattr(torch.nn, f"Conv{nd}d")(3, 4, 3, padding=1, stride=(2,) * nd)
    ours = getattr(nn, f"Conv{nd}d")(3, 4, 3, padding=1, stride=(2,) * nd)
    ours.load_state_dict({k: graphnet.tensor(v.detach().numpy())
                          for k, v in ref.state_dict().items()})
    tx = torch.zeros(shape, requires_grad=True)
    ty = ref(tx)
    ty.sum().backward()
    gx = graphnet.zeros(shape, requires_grad=True)
    gy = ours(gx)
    gy.sum().backward()
    assert tuple(gy.shape) == tuple(ty.shape) == (0, 4) + (3,) * nd
    assert tuple(gx.grad.shape) == shape
    np.testing.assert_array_equal(ours.weight.grad.numpy(), ref.weight.grad.numpy())
    np.testing.assert_array_equal(ours.bias.grad.numpy(), ref.bias.grad.numpy())
    compiled = graphnet.compile(lambda x: ours(x))(graphnet.zeros(shape))
    assert tuple(compiled.shape) == tuple(ty.shape)
    functional = getattr(GF, f"conv{nd}d")(graphnet.zeros(shape), ours.weight)
    assert tuple(functional.shape) == tuple(getattr(TF, f"conv{nd}d")(tx, ref.weight).shape)
    # nothing was timed for it: the fixed rule lowered it
    rows = [r for r in conv_autotune.conv_choices() if r["input"][0] == 0]
    assert rows and all(r["source"] == "rule" for r in rows)


def test_an_empty_batch_max_pools_by_the_rule_with_autotuning_on(autotuning):
    x = graphnet.zeros((0, 2, 8, 8), requires_grad=True)
    y = GF.max_pool2d(x, 3, 2, 1)
    y.sum().backward()
    assert tuple(y.shape) == tuple(TF.max_pool2d(torch.zeros(0, 2, 8, 8), 3, 2, 1).shape)
    assert tuple(x.grad.shape) == (0, 2, 8, 8)
    compiled = graphnet.compile(lambda v: GF.max_pool2d(v, 2))(graphnet.zeros((0, 2, 8, 8)))
    assert tuple(compiled.shape) == (0, 2, 4, 4)
    rows = [r for r in conv_autotune.conv_choices() if r["op"] == "max_pool2d"]
    assert rows and all(r["source"] == "rule" for r in rows)


def test_every_conv_candidate_runs_on_an_empty_batch():
    x, w = np.zeros((0, 3, 5), np.float32), np.ones((4, 3, 3), np.float32)
    for name in ("xla", "xla_channels_last", "patches_matmul", "shifted_matmuls"):
        y, pull = jax.vjp(conv_by_direction(name, name, name, (1,), ((0, 0),), (1,), 1), x, w)
        assert y.shape == (0, 4, 3)
        assert pull(np.zeros(y.shape, np.float32))[1].shape == w.shape


# ---- NaN in max-pool windows: PyTorch keeps the last NaN -----------------------------------
def nan_input(shape, seed):
    """Values 0..2 (many ties) with about a third NaN: windows with no, one and several NaNs,
    NaNs before and after numbers."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, shape).astype(np.float32)
    x[rng.random(shape) < 0.35] = np.nan
    return x


def torch_max_pool(x, kernel, stride, padding, dilation=1, ceil=False):
    tx = torch.tensor(x, requires_grad=True)
    y, index = getattr(TF, f"max_pool{len(kernel)}d")(tx, kernel, stride, padding, dilation,
                                                     ceil_mode=ceil, return_indices=True)
    g = np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), index.numpy(), tx.grad.numpy(), g


def test_torchs_rule_is_the_last_nan_else_the_first_maximum():
    nan = float("nan")
    for row, want in [([nan, 5, 1, 2], 0), ([5, 1, nan, 2], 2), ([nan, 1, nan, 2], 2),
                      ([nan, nan, 1, nan], 3), ([1, 5, 5, 2], 1)]:
        x = np.array([[row]], np.float32)
        assert torch_max_pool(x, (4,), (4,), (0,))[1].item() == want
        ours = GF.max_pool1d(graphnet.tensor(x), 4, return_indices=True)[1]
        assert ours.item() == want


POOL_CASES = [   # (x shape, kernel, stride, padding)
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)),         # tiling windows
    ((2, 3, 9, 9), (3, 3), (2, 2), (1, 1)),         # overlapping, padded
    ((2, 2, 12), (4,), (4,), (0,)),                 # 1-d
    ((1, 2, 4, 4, 4), (2, 2, 2), (2, 2, 2), (0, 0, 0)),   # 3-d
]


@pytest.mark.parametrize("case", range(len(POOL_CASES)))
def test_every_max_pool_candidate_picks_torchs_nan(case):
    shape, kernel, stride, padding = POOL_CASES[case]
    x = nan_input(shape, case)
    y_ref, index_ref, dx_ref, g = torch_max_pool(x, kernel, stride, padding)
    args = (kernel, stride, padding, False)
    names = [n for n, (_, applies, _) in CANDIDATES.items() if applies(shape, *args)]
    for forward in names:
        for grad in [n for n in names if "input_grad" in CANDIDATES[n][2]]:
            f = pool_by_direction(forward, grad, *args)
            np.testing.assert_array_equal(np.asarray(jax.jit(f)(x)), y_ref)
            y, pull = jax.vjp(f, x)
            np.testing.assert_array_equal(np.asarray(y), y_ref)
            np.testing.assert_array_equal(np.asarray(pull(g)[0]), dx_ref,
                                          err_msg=f"{forward}/{grad}")
    pool = getattr(GF, f"max_pool{len(kernel)}d")   # the window stack, with indices
    values, index = pool(graphnet.tensor(x), kernel, stride, padding, return_indices=True)
    np.testing.assert_array_equal(values.numpy(), y_ref)
    np.testing.assert_array_equal(index.numpy(), index_ref)


@pytest.mark.parametrize("dilation", [1, 2])
def test_max_pool_indices_and_gradient_follow_torchs_nan_eager_and_compiled(dilation):
    x = nan_input((2, 3, 9, 9), 11)
    y_ref, index_ref, dx_ref, g = torch_max_pool(x, (3, 3), (2, 2), (1, 1), dilation)
    gx = graphnet.tensor(x, requires_grad=True)
    y, index = GF.max_pool2d(gx, 3, 2, 1, dilation, return_indices=True)
    y.backward(graphnet.tensor(g))
    np.testing.assert_array_equal(index.numpy(), index_ref)
    np.testing.assert_array_equal(gx.grad.numpy(), dx_ref)

    def step(v, cot):
        (GF.max_pool2d(v, 3, 2, 1, dilation) * cot).sum().backward()
    cx = graphnet.tensor(x, requires_grad=True)
    graphnet.compile(step)(cx, graphnet.tensor(g))
    np.testing.assert_array_equal(cx.grad.numpy(), dx_ref)
    # LeNet's tiling pool keeps its winner eagerly (conv.py, _max_pool_residuals)
    _, _, dx_tiled, g2 = torch_max_pool(x[..., :8, :8], (2, 2), (2, 2), (0, 0))
    tx = graphnet.tensor(x[..., :8, :8], requires_grad=True)
    GF.max_pool2d(tx, 2).backward(graphnet.tensor(g2))
    np.testing.assert_array_equal(tx.grad.numpy(), dx_tiled)


@pytest.mark.parametrize("nd,size", [(1, 3), (2, (3, 2)), (3, 2)])
def test_adaptive_max_pool_picks_torchs_nan(nd, size):
    shape = (2, 2) + (7, 6, 5)[:nd]
    x = nan_input(shape, nd)
    tx = torch.tensor(x, requires_grad=True)
    ty, t_index = getattr(TF, f"adaptive_max_pool{nd}d")(tx, size, return_indices=True)
    g = np.random.default_rng(3).standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    gx = graphnet.tensor(x, requires_grad=True)
    gy, g_index = getattr(GF, f"adaptive_max_pool{nd}d")(gx, size, return_indices=True)
    gy.backward(graphnet.tensor(g))
    np.testing.assert_array_equal(gy.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(g_index.numpy(), t_index.numpy())
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


# ---- PyTorch's errors and empty results ----------------------------------------------------
def outcome(lib, call):
    """("ok", shape) or (error type, message) of call(functional module, zeros)."""
    F = TF if lib is torch else GF
    try:
        out = call(F, lib.zeros)
    except Exception as error:   # noqa: BLE001 - the outcome is what is compared
        return type(error), str(error)
    return "ok", tuple((out[0] if isinstance(out, tuple) else out).shape)


ERROR_CASES = {   # name: (call, words of torch's message that ours shares)
    "dilated pool padded past half its kernel": (
        lambda F, z: F.max_pool2d(z(1, 1, 9, 9), 3, padding=2, dilation=2),
        "pad should be smaller than or equal to half of kernel size"),
    "dilated pool, 1-d, with indices": (
        lambda F, z: F.max_pool1d(z(1, 1, 9), 3, padding=2, dilation=2, return_indices=True),
        "pad should be smaller than or equal to half of kernel size"),
    "dilated pool, 3-d": (lambda F, z: F.max_pool3d(z(1, 1, 9, 9, 9), 3, padding=2,
                                                    dilation=2),
                          "pad should be smaller than or equal to half of kernel size"),
    "conv of a zero-length input": (
        lambda F, z: F.conv1d(z(1, 2, 0), z(3, 2, 1), padding=1),
        "Only zero batch or zero channel inputs are supported, but got input shape: "
        "[1, 2, 1, 0]"),
    "conv of a zero-height input": (
        lambda F, z: F.conv2d(z(1, 2, 0, 3), z(3, 2, 1, 1), padding=1),
        "Only zero batch or zero channel inputs are supported, but got input shape: "
        "[1, 2, 0, 3]"),
    "conv to 0 channels": (
        lambda F, z: F.conv2d(z(1, 3, 5, 5), z(0, 3, 3, 3)),
        "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of "
        "size [0, 3, 3, 3] instead"),
    "conv to fewer channels than groups": (
        lambda F, z: F.conv2d(z(1, 4, 5, 5), z(1, 2, 3, 3), groups=2),
        "expected weight to be at least 2 at dimension 0"),
    "max pool of 0 channels": (lambda F, z: F.max_pool2d(z(1, 0, 4, 4), 2),
                               "with optional 0 dim batch size for input"),
    "max pool of 0 channels, unbatched": (lambda F, z: F.max_pool2d(z(0, 4, 4), 2, return_indices=True),
                      "with optional 0 dim batch size for input"),
    "max pool of 0 channels, 1-d": (lambda F, z: F.max_pool1d(z(2, 0, 4), 2),
                                    "optional 0 dim batch size"),
    "max pool of 0 channels, 3-d": (lambda F, z: F.max_pool3d(z(1, 0, 4, 4, 4), 2), ""),
    "max pool of zero length, padded": (lambda F, z: F.max_pool1d(z(1, 1, 0), 2, padding=1),
                                   "optional 0 dim batch size"),
    "avg pool of 0 channels": (lambda F, z: F.avg_pool2d(z(1, 0, 4, 4), 2), ""),
    "adaptive max pool of 0 channels": (
        lambda F, z: F.adaptive_max_pool2d(z(1, 0, 4, 4), 2),
        "Expected input to have non-zero size for non-batch dimensions, but input has sizes "
        "[1, 0, 4, 4] with dimension 1 being empty"),
    "adaptive pool to a negative size": (lambda F, z: F.adaptive_avg_pool2d(z(1, 1, 4, 4), -1),
                                         "must be greater than or equal to 0"),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_match_torch(name):
    call, words = ERROR_CASES[name]
    want, got = outcome(torch, call), outcome(graphnet, call)
    assert want[0] is RuntimeError and issubclass(got[0], RuntimeError), (want, got)
    assert words in want[1] and words in got[1], (want, got)


OK_CASES = {
    "adaptive avg pool to 0": lambda F, z: F.adaptive_avg_pool2d(z(2, 3, 4, 4), 0),
    "adaptive avg pool to (0, 2)": lambda F, z: F.adaptive_avg_pool2d(z(2, 3, 4, 4), (0, 2)),
    "adaptive avg pool to 0, 1-d": lambda F, z: F.adaptive_avg_pool1d(z(2, 3, 4), 0),
    "adaptive avg pool to 0, 3-d, unbatched": lambda F, z: F.adaptive_avg_pool3d(z(3, 4, 4, 4), 0),
    "adaptive max pool to 0, indices": lambda F, z: F.adaptive_max_pool2d(
        z(1, 1, 4, 4), (2, 0), return_indices=True),
    "adaptive max pool of 0 channels, unbatched": lambda F, z: F.adaptive_max_pool2d(
        z(0, 4, 4), 2),
    "adaptive avg pool of 0 channels": lambda F, z: F.adaptive_avg_pool2d(z(1, 0, 4, 4), 2),
    "max pool of an empty batch": lambda F, z: F.max_pool2d(z(0, 1, 4, 4), 2),
    "dilated pool padded within half its kernel": lambda F, z: F.max_pool2d(
        z(1, 1, 9, 9), (3, 5), padding=(0, 2), dilation=(1, 2)),
    "conv of an empty batch of zero length": lambda F, z: F.conv1d(z(0, 2, 0), z(3, 2, 1),
                                                                   padding=1),
}


@pytest.mark.parametrize("name", list(OK_CASES))
def test_empty_results_match_torch(name):
    want, got = outcome(torch, OK_CASES[name]), outcome(graphnet, OK_CASES[name])
    assert want[0] == "ok" and got == want


def test_an_adaptive_pool_to_0_compiles_and_differentiates():
    x = graphnet.ones((2, 3, 4, 4), requires_grad=True)
    y = graphnet.compile(lambda v: GF.adaptive_avg_pool2d(v, (0, 2)))(x)
    assert tuple(y.shape) == (2, 3, 0, 2)
    GF.adaptive_max_pool2d(x, 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3, 4, 4), np.float32))
