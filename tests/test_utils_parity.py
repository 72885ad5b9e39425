"""Library utilities around models that differed from PyTorch: half-precision norms (and so
clip_grad_norm_) overflowed, a DataLoader took settings it then ignored, nn.init accepted
bad arguments or crashed on empty tensors, `.double()` left `.grad` in float32, and module
state names that no path reaches were accepted."""

import warnings

import numpy as np
import pytest
import torch

import graphnet


def _outcome(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(lib)
        except Exception as err:   # noqa: BLE001 - the type and words are compared
            return type(err).__name__, str(err).replace("graphnet", "torch")
    seen = [str(w.message) for w in caught if "zero-element" in str(w.message)]
    if hasattr(out, "detach"):
        out = out.detach().float().numpy().tolist()
    return "value", out, seen


def _same(case):
    want, got = _outcome(case, torch), _outcome(case, graphnet)
    assert got == want
    return want


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_norms_reduce_in_float32(dtype):
    # NOTE: gradients compared for the 2-norm (what clip_grad_norm_ takes); PyTorch computes
    # the slope of other orders in half precision in its own order of operations
    for k, norm in enumerate((lambda t, x: x.norm(), lambda t, x: t.linalg.vector_norm(x),
                              lambda t, x: t.linalg.vector_norm(x, 3),
                              lambda t, x: x.norm(p=1),
                              lambda t, x: t.linalg.vector_norm(x, float("inf")))):
        outs = []
        for lib in (torch, graphnet):
            x = lib.tensor([300.0, 400.0, -250.0], dtype=getattr(lib, dtype), requires_grad=True)
            n = norm(lib, x)
            n.backward()
            outs.append((n.detach().float().item(), x.grad.float().numpy()))
        assert outs[0][0] == outs[1][0]
        if k < 2:
            np.testing.assert_array_equal(outs[1][1], outs[0][1])


@pytest.mark.parametrize("compiled", [False, True])
def test_clip_grad_norm_of_fp16_gradients(compiled):
    def run(lib, fn):
        p = lib.nn.Parameter(lib.zeros(2, dtype=lib.float16))
        p.grad = lib.tensor([300.0, 400.0], dtype=lib.float16)
        total = fn(p)
        return float(total), p.grad.float().numpy()

    def clip(p):
        return graphnet.nn.utils.clip_grad_norm_([p], 1.0)

    want = run(torch, lambda p: torch.nn.utils.clip_grad_norm_([p], 1.0))
    got = run(graphnet, graphnet.compile(clip) if compiled else clip)
    assert got[0] == want[0] == 500.0
    np.testing.assert_array_equal(got[1], want[1])


LOADERS = {
    "batch_size set later": lambda t: setattr(t.utils.data.DataLoader(list(range(6)), 4),
                                              "batch_size", 2),
    "sampler set later": lambda t: setattr(t.utils.data.DataLoader(list(range(6))), "sampler",
                                           None),
    "drop_last set later": lambda t: setattr(t.utils.data.DataLoader(list(range(6))),
                                             "drop_last", True),
    "collate_fn set later": lambda t: setattr(t.utils.data.DataLoader(list(range(6))),
                                              "collate_fn", None),
    "persistent workers, no workers": lambda t: t.utils.data.DataLoader(
        list(range(6)), persistent_workers=True),
    "prefetch factor, no workers": lambda t: t.utils.data.DataLoader(list(range(6)),
                                                                     prefetch_factor=2),
    "len of its iterator": lambda t: len(iter(t.utils.data.DataLoader(list(range(6)), 4))),
}


@pytest.mark.parametrize("case", LOADERS)
def test_dataloader_settings_follow_torch(case):
    _same(LOADERS[case])


def test_a_loader_iterator_keeps_its_length_while_iterating():
    loader = graphnet.utils.data.DataLoader(list(range(7)), batch_size=3)
    it = iter(loader)
    assert len(it) == 3
    assert next(it).tolist() == [0, 1, 2] and len(it) == 3
    assert [b.tolist() for b in it] == [[3, 4, 5], [6]]


INIT = {
    "gain of a bool slope": lambda t: t.nn.init.calculate_gain("leaky_relu", True),
    "gain of a str slope": lambda t: t.nn.init.calculate_gain("leaky_relu", "a"),
    "gain of an int slope": lambda t: t.nn.init.calculate_gain("leaky_relu", 1),
    "dirac with groups not dividing": lambda t: t.nn.init.dirac_(t.empty(5, 3, 3), groups=2),
    "trunc_normal_ with a > b": lambda t: t.nn.init.trunc_normal_(t.empty(3), a=2.0, b=-2.0),
    "orthogonal_ of int64": lambda t: t.nn.init.orthogonal_(t.empty(2, 2, dtype=t.int64)),
    "uniform_ of int64": lambda t: t.nn.init.uniform_(t.empty(3, dtype=t.int64)),
    "normal_ of int64": lambda t: t.nn.init.normal_(t.empty(3, dtype=t.int64)),
    "kaiming_normal_ of nothing": lambda t: t.nn.init.kaiming_normal_(t.empty(3, 0)).shape,
    "kaiming_uniform_ of nothing": lambda t: t.nn.init.kaiming_uniform_(t.empty(3, 0)).shape,
    "orthogonal_ of nothing": lambda t: t.nn.init.orthogonal_(t.empty(0, 3)).shape,
}


@pytest.mark.parametrize("case", INIT)
def test_init_arguments_follow_torch(case):
    want, got = _outcome(INIT[case], torch), _outcome(INIT[case], graphnet)
    assert got[0] == want[0]
    if want[0] == "value":
        assert tuple(np.atleast_1d(got[1])) == tuple(np.atleast_1d(want[1]))
        assert got[2] == want[2]
    else:
        assert got[1] == want[1]


def test_double_casts_an_existing_gradient():
    lin = graphnet.nn.Linear(2, 1)
    lin(graphnet.ones(1, 2)).sum().backward()
    lin.double()
    assert lin.weight.grad.dtype == graphnet.float64 == lin.weight.dtype
    lin.half()
    assert lin.bias.grad.dtype == graphnet.float16


NAMES = {
    "buffer with a dot": lambda t: t.nn.Module().register_buffer("a.b", t.ones(1)),
    "empty buffer name": lambda t: t.nn.Module().register_buffer("", t.ones(1)),
    "empty parameter name": lambda t: t.nn.Module().register_parameter("", None),
    "buffer name not a str": lambda t: t.nn.Module().register_buffer(1, None),
}


@pytest.mark.parametrize("case", NAMES)
def test_state_names_follow_torch(case):
    _same(NAMES[case])
