"""softshrink with a threshold computed as a tensor, the ISTA step `softshrink(z, lam / L)`
with `L` the Lipschitz constant: its sign check ran `lambd < 0` in Python, so a compiled ISTA
loop stopped at "bool() needs the value of a traced tensor". The threshold is now checked as
PyTorch checks it, in [0, the input dtype's largest value], eagerly or inside the program,
with PyTorch's message (numbers too: the message had changed in PyTorch)."""

import numpy as np
import pytest
import torch

import graphnet as gn

D = np.random.default_rng(0).standard_normal((6, 10)).astype(np.float32)
X = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32)


def _ista(lib, d, x, lam=0.1, steps=10):
    lipschitz = lib.linalg.matrix_norm(d, ord=2) ** 2
    z = lib.zeros(x.shape[0], d.shape[1])
    for _ in range(steps):
        z = lib.nn.functional.softshrink(z - ((z @ d.T - x) @ d) / lipschitz, lam / lipschitz)
    return z


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_ista_with_a_computed_threshold_matches_torch(static):
    want = _ista(torch, torch.tensor(D), torch.tensor(X)).numpy()
    fn = gn.compile(lambda d, x: _ista(gn, d, x)) if static else lambda d, x: _ista(gn, d, x)
    got = fn(gn.tensor(D), gn.tensor(X)).numpy()
    assert np.count_nonzero(want) not in (0, want.size)   # some codes shrunk to zero
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _error(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001 - the type and message are what is compared
        return type(e).__name__, str(e).splitlines()[0]
    return None


@pytest.mark.parametrize("lam", [-0.1, 1e39, float("nan"), 0.2])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_number_thresholds_check_as_pytorch(lam, dtype):
    def run(lib):
        x = lib.linspace(-1, 1, 5, dtype=getattr(lib, dtype))
        return lambda: lib.nn.functional.softshrink(x, lam).float().tolist()

    assert _error(run(gn)) == _error(run(torch))
    if _error(run(torch)) is None:
        assert run(gn)() == run(torch)()


@pytest.mark.parametrize("mode", ["eager", "argument", "computed"])
@pytest.mark.parametrize("lam", [-0.3, 7e4, float("nan")])
def test_a_bad_threshold_raises_pytorchs_error_in_every_mode(mode, lam):
    x = np.ones(3, np.float16)
    want = _error(lambda: torch.nn.functional.softshrink(torch.tensor(x), torch.tensor(lam)))
    assert want is not None
    if mode == "eager":
        def fn(a, b):
            return gn.nn.functional.softshrink(a, b)
    elif mode == "argument":
        fn = gn.compile(lambda a, b: gn.nn.functional.softshrink(a, b))
    else:   # a threshold the program computes: checked inside it
        fn = gn.compile(lambda a, b: gn.nn.functional.softshrink(a, b * 1.0))
    assert _error(lambda: fn(gn.tensor(x), gn.tensor(lam))) == want
    ok = fn(gn.tensor(x), gn.tensor(0.25)).float().tolist()   # and a good one still runs
    assert ok == [0.75, 0.75, 0.75]


def test_a_threshold_of_several_elements_is_refused_as_pytorch():
    for lib in (torch, gn):
        with pytest.raises(TypeError, match="must be Number, not Tensor"):
            lib.nn.functional.softshrink(lib.ones(3), lib.tensor([0.1, 0.2]))
