"""The first lines of training scripts: threads, matmul precision, deterministic switches,
finfo/iinfo, typename, set_printoptions, backends flags and mixed-precision boilerplate
(autocast / GradScaler), compared with what torch 2.13 says and does on this CPU machine."""

import warnings

import numpy as np
import pytest
from parity import to_gn, to_torch, torch

import graphnet
import graphnet.backends.cudnn as cudnn


def test_settings_round_trip_like_pytorch():
    threads = graphnet.get_num_threads()
    graphnet.set_num_threads(1)
    assert graphnet.get_num_threads() == 1
    graphnet.set_num_threads(threads)
    assert graphnet.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    graphnet.set_float32_matmul_precision("high")
    assert graphnet.backends.cuda.matmul.allow_tf32
    graphnet.set_float32_matmul_precision("highest")
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        graphnet.set_float32_matmul_precision("low")
    assert graphnet.get_float32_matmul_precision() == "highest"
    graphnet.use_deterministic_algorithms(True)
    assert graphnet.are_deterministic_algorithms_enabled()
    graphnet.use_deterministic_algorithms(False)
    cudnn.benchmark, cudnn.deterministic = True, True
    assert graphnet.backends.cudnn.benchmark and not graphnet.backends.mps.is_available()
    cudnn.benchmark, cudnn.deterministic = False, False


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16"])
def test_finfo_matches_torch(name):
    ours, theirs = graphnet.finfo(getattr(graphnet, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs).replace("torch.", "")


def test_iinfo_and_typename_match_torch():
    for name in ("int64", "int32", "uint8", "int8"):
        ours, theirs = graphnet.iinfo(getattr(graphnet, name)), torch.iinfo(getattr(torch, name))
        assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)
    for dtype in ("float32", "int64", "bool", "float64"):
        assert graphnet.typename(graphnet.zeros(1, dtype=getattr(graphnet, dtype))) == \
            torch.typename(torch.zeros(1, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("options", [dict(precision=2), dict(profile="short"),
                                     dict(sci_mode=True), dict(precision=6, sci_mode=False)])
def test_set_printoptions_prints_like_torch(options):
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    try:
        graphnet.set_printoptions(**options)
        torch.set_printoptions(**options)
        assert repr(to_gn(x)) == repr(to_torch(x))
    finally:
        graphnet.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_autocast_boilerplate_runs_where_pytorch_disables_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with graphnet.autocast("cuda", enabled=not graphnet.cuda.is_available()):
            pass   # no GPU: PyTorch warns and disables; so does graphnet
        with graphnet.amp.autocast("cpu", enabled=False):
            y = graphnet.ones(2) * 2
        with graphnet.cuda.amp.autocast(enabled=False):
            pass
    assert y.tolist() == [2.0, 2.0]
    with graphnet.autocast("cpu", dtype=graphnet.bfloat16):   # runs: tests/test_autocast.py
        assert graphnet.is_autocast_enabled("cpu")


def _scaler_run(T, scaler, blow_up_at):
    model = T.nn.Linear(3, 1)
    with T.no_grad():
        model.weight.copy_(T.tensor([[0.5, -0.2, 0.1]]))
        model.bias.fill_(0.3)
    opt = T.optim.SGD(model.parameters(), lr=0.1)
    x = T.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    scales = []
    for i in range(4):
        opt.zero_grad()
        loss = model(x).pow(2).mean() * (float("inf") if i == blow_up_at else 1.0)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, model.weight.detach().numpy().copy()


def test_grad_scaler_scales_skips_and_adapts_like_torch():
    kwargs = dict(init_scale=1024.0, growth_interval=2)
    ours = _scaler_run(graphnet, graphnet.amp.GradScaler("cpu", **kwargs), blow_up_at=1)
    theirs = _scaler_run(torch, torch.amp.GradScaler("cpu", **kwargs), blow_up_at=1)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        disabled = graphnet.cuda.amp.GradScaler()   # no GPU here: passes through
    if not graphnet.cuda.is_available():
        assert not disabled.is_enabled() and disabled.get_scale() == 1.0
        plain = _scaler_run(graphnet, disabled, blow_up_at=-1)
        assert np.isfinite(plain[1]).all()


def test_testing_assert_close_and_checkpoint_behave_as_pytorch():
    a = graphnet.tensor([1.0, 2.0])
    graphnet.testing.assert_close(a, graphnet.tensor([1.0, 2.0 + 1e-6]))
    for bad, match in [(graphnet.tensor([1.0, 2.1]), "not close"),
                       (graphnet.tensor([1, 2]), "dtype"), (graphnet.tensor([1.0]), "shape")]:
        with pytest.raises(AssertionError, match=match):
            graphnet.testing.assert_close(a, bad)
        with pytest.raises(AssertionError, match=match):
            torch.testing.assert_close(to_torch(a.numpy()), to_torch(bad.numpy()))
    from graphnet.utils.checkpoint import checkpoint, checkpoint_sequential

    layer = graphnet.nn.Linear(3, 3)
    x = graphnet.randn(2, 3, requires_grad=True)
    checkpoint(layer, x, use_reentrant=False).sum().backward()
    direct = x.grad.clone()
    x.grad = None
    layer(x).sum().backward()
    assert (x.grad == direct).all()
    seq = graphnet.nn.Sequential(layer, graphnet.nn.ReLU())
    assert (checkpoint_sequential(seq, 2, x) == seq(x)).all()


PRINTED = {
    "wide rows wrap at the line width": np.random.default_rng(1).standard_normal((3, 40)),
    "summarised matrix": np.random.default_rng(2).standard_normal((50, 50)),
    "summarised vector": np.random.default_rng(3).standard_normal(2000),
    "summarised 3-d": np.random.default_rng(4).standard_normal((40, 40, 3)),
    "big integers": np.arange(1001),
    "nan and inf in integer mode": np.array([1.0, np.nan, np.inf]),
    "negative zero": np.array([-0.0, 2.0]),
    "scientific": np.array([1e10, 1.0]),
    "bools": np.random.default_rng(5).random((3, 4)) < 0.5,
}


@pytest.mark.parametrize("name", list(PRINTED))
def test_tensors_print_like_torch(name):
    array = PRINTED[name]
    array = array.astype(np.float32) if array.dtype == np.float64 else array
    assert repr(to_gn(array)) == repr(to_torch(array))
