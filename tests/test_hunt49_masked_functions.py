"""`torch.masked`'s functions over plain tensors with `mask=`: masked set pooling
(`masked.amax(x, 1, mask=m)`, `masked.mean`, `masked.softmax`). `graphnet.masked` raised
AttributeError saying masked *tensors* are a prototype, though these functions never make
one. Values, dtypes, errors and gradients are compared with PyTorch's, dynamic and compiled."""

import numpy as np
import pytest
import torch

import graphnet as gn

REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "logsumexp", "norm", "var", "std"]
ALONG_ONE_DIM = ["argmax", "argmin", "median", "softmax", "log_softmax", "softmin",
                 "normalize", "cumsum", "cumprod"]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5)).astype(np.float32)
MASK = RNG.random((3, 4, 5)) < 0.6
MASK[1, 2] = False            # a row with nothing kept along the last dim
MASK[:, :, 0] &= MASK[:, :, 1]


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:   # noqa: BLE001 - the type and message are compared
        return type(e).__name__, str(e).splitlines()[0].replace("graphnet.", "torch.")
    return str(out.dtype).split(".")[-1], out.detach().double().numpy()


def _same(got, want, tol=1e-5):
    assert got[0] == want[0], (got, want)
    if isinstance(want[1], np.ndarray):
        np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol, equal_nan=True)
    else:
        assert got[1] == want[1]


def _call(lib, name, x, dim, keepdim, mask, dtype=None):
    fn = getattr(lib.masked, name)
    extra = {"dtype": getattr(lib, dtype)} if dtype else {}
    if name in REDUCTIONS and name != "norm":
        return fn(x, dim, keepdim=keepdim, mask=mask, **extra)
    if name == "norm":
        return fn(x, 2.0, dim, keepdim=keepdim, mask=mask, **extra)
    if name in ("argmax", "argmin", "median"):
        return fn(x, dim, keepdim=keepdim, mask=mask, **extra)
    if name == "normalize":
        return fn(x, 2.0, dim, mask=mask, **extra)
    return fn(x, dim, mask=mask, **extra)


MASKS = {"full": MASK, "broadcast": MASK[0, :, :1], "none": None}


@pytest.mark.parametrize("mask", sorted(MASKS))
@pytest.mark.parametrize("dim,keepdim", [(None, False), (2, False), (-1, True), ((0, 2), False),
                                         ((), True), (1, True)])
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_match_torch(name, dim, keepdim, mask):
    m = MASKS[mask]

    def run(lib):
        tm = None if m is None else lib.tensor(m)
        return _outcome(lambda: _call(lib, name, lib.tensor(X), dim, keepdim, tm))

    _same(run(gn), run(torch))


@pytest.mark.parametrize("mask", sorted(MASKS))
@pytest.mark.parametrize("dim", [0, -1, 1])
@pytest.mark.parametrize("name", ALONG_ONE_DIM)
def test_one_dim_functions_match_torch(name, dim, mask):
    m = MASKS[mask]

    def run(lib):
        tm = None if m is None else lib.tensor(m)
        return _outcome(lambda: _call(lib, name, lib.tensor(X), dim, False, tm))

    _same(run(gn), run(torch))


# NOTE: not cumsum of bool: PyTorch's cumsum refuses dtype=bool, graphnet's counts it
@pytest.mark.parametrize("name,dtype", [
    (name, dtype) for name in ("sum", "prod", "amax", "amin", "argmax", "mean", "median",
                               "cumsum", "var")
    for dtype in ("int32", "int64", "uint8", "int8", "bool")
    if (name, dtype) != ("cumsum", "bool")])
def test_integer_inputs_take_pytorchs_dtypes_and_errors(name, dtype):
    values = (X * 3).astype(np.int64) % 7

    def run(lib):
        x = lib.tensor(values).to(getattr(lib, dtype))
        return _outcome(lambda: _call(lib, name, x, 1, False, lib.tensor(MASK)))

    _same(run(gn), run(torch))


@pytest.mark.parametrize("name", ["sum", "amax", "mean", "logsumexp", "norm", "std", "softmax",
                                  "log_softmax", "normalize", "cumprod"])
@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_gradients_skip_masked_elements(name, static):
    def grads(lib, compiled):
        x = lib.tensor(X.astype(np.float64), requires_grad=True)

        def loss(x, m):
            out = _call(lib, name, x, -1, False, m)
            return lib.where(out.isfinite(), out, lib.zeros_like(out)).square().sum()

        fn = gn.compile(loss) if compiled else loss
        fn(x, lib.tensor(MASK)).backward()
        return x.grad.numpy()

    want = grads(torch, False)
    got = grads(gn, static)
    assert (got[~MASK & np.isfinite(want)] == 0).all()   # NaN: std of a row with none kept
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_masked_set_pooling_compiles_and_follows_new_masks():
    pool = gn.compile(lambda h, m: gn.masked.amax(h, 1, mask=m.unsqueeze(-1)))
    h = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    for lengths in ([4, 2], [1, 3]):
        m = np.arange(4)[None, :] < np.array(lengths)[:, None]
        want = torch.masked.amax(torch.tensor(h), 1, mask=torch.tensor(m).unsqueeze(-1))
        np.testing.assert_array_equal(pool(gn.tensor(h), gn.tensor(m)).numpy(), want.numpy())


def test_logaddexp_masks_each_side():
    a, b = X[0], X[1]
    ma, mb = MASK[0], MASK[2]
    want = torch.masked.logaddexp(torch.tensor(a), torch.tensor(b), input_mask=torch.tensor(ma),
                                  other_mask=torch.tensor(mb))
    got = gn.masked.logaddexp(gn.tensor(a), gn.tensor(b), input_mask=gn.tensor(ma),
                              other_mask=gn.tensor(mb))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("case", ["repeated dim", "dim out of range", "mask of more dims",
                                  "unbiased and correction"])
def test_bad_arguments_raise_as_pytorch(case):
    def run(lib):
        x, m = lib.tensor(X), lib.tensor(MASK)
        call = {
            "repeated dim": lambda: lib.masked.sum(x, (1, 1), mask=m),
            "dim out of range": lambda: lib.masked.amax(x, 3, mask=m),
            "mask of more dims": lambda: lib.masked.sum(x, 1, mask=m.unsqueeze(0)),
            "unbiased and correction": lambda: lib.masked.var(x, 1, True, correction=0, mask=m),
        }[case]
        return _outcome(call)

    want = run(torch)
    assert not isinstance(want[1], np.ndarray)
    _same(run(gn), want)


def test_the_masked_tensor_subclass_is_refused_with_its_reason():
    with pytest.raises(AttributeError, match="prototype tensor subclass"):
        gn.masked.masked_tensor(gn.ones(2), gn.tensor([True, False]))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = gn.masked.nothing
