"""A dimension argument out of range raises PyTorch's IndexError, in its words, from every
op that takes one, eagerly and compiled. Before, most raised a ShapeError with JAX's words
("axis 2 is out of bounds"), not an IndexError, and some a bare "tuple index out of range".
graphnet's DimensionError is both an IndexError and a ShapeError (it names the module)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

A = np.arange(6, dtype=np.float32).reshape(2, 3)


def _index(lib):
    return lib.tensor([0])


# each: (lib, functional module, a 2 x 3 tensor) -> the call; every one is out of range
CASES = {
    "sum": lambda lib, F, x: x.sum(2),
    "sum negative": lambda lib, F, x: x.sum(-3),
    "sum tuple": lambda lib, F, x: x.sum((0, 2)),
    "mean": lambda lib, F, x: x.mean(2),
    "mean tuple": lambda lib, F, x: x.mean((0, 2)),
    "prod": lambda lib, F, x: x.prod(2),
    "max": lambda lib, F, x: x.max(2),
    "min": lambda lib, F, x: x.min(2),
    "amax": lambda lib, F, x: x.amax(2),
    "argmax": lambda lib, F, x: x.argmax(2),
    "argmin negative": lambda lib, F, x: x.argmin(-3),
    "std": lambda lib, F, x: x.std(2),
    "var": lambda lib, F, x: x.var(2),
    "std_mean": lambda lib, F, x: lib.std_mean(x, 2),
    "norm": lambda lib, F, x: x.norm(dim=2),
    "logsumexp": lambda lib, F, x: x.logsumexp(2),
    "all": lambda lib, F, x: (x > 0).all(2),
    "any": lambda lib, F, x: (x > 0).any(2),
    "nansum": lambda lib, F, x: x.nansum(2),
    "count_nonzero": lambda lib, F, x: x.count_nonzero(2),
    "median": lambda lib, F, x: x.median(2),
    "cumsum": lambda lib, F, x: x.cumsum(2),
    "cumprod": lambda lib, F, x: x.cumprod(2),
    "cummax": lambda lib, F, x: x.cummax(2),
    "softmax": lambda lib, F, x: x.softmax(2),
    "softmax functional negative": lambda lib, F, x: F.softmax(x, dim=-3),
    "log_softmax": lambda lib, F, x: F.log_softmax(x, 2),
    "normalize": lambda lib, F, x: F.normalize(x, dim=2),
    "glu": lambda lib, F, x: F.glu(x, 2),
    "cosine_similarity": lambda lib, F, x: F.cosine_similarity(x, x, dim=2),
    "unsqueeze": lambda lib, F, x: x.unsqueeze(3),
    "unsqueeze negative": lambda lib, F, x: x.unsqueeze(-4),
    "squeeze": lambda lib, F, x: x.squeeze(2),
    "squeeze tuple": lambda lib, F, x: x.squeeze((0, 2)),
    "transpose": lambda lib, F, x: x.transpose(0, 2),
    "swapaxes": lambda lib, F, x: x.swapaxes(0, 2),
    "permute": lambda lib, F, x: x.permute(0, 2),
    "movedim": lambda lib, F, x: x.movedim(0, 2),
    "flip": lambda lib, F, x: x.flip(2),
    "roll": lambda lib, F, x: x.roll(1, 2),
    "narrow": lambda lib, F, x: x.narrow(2, 0, 1),
    "select": lambda lib, F, x: x.select(2, 0),
    "unbind": lambda lib, F, x: x.unbind(2),
    "size": lambda lib, F, x: x.size(2),
    "gather": lambda lib, F, x: x.gather(2, _index(lib).view(1, 1)),
    "index_select": lambda lib, F, x: x.index_select(2, _index(lib)),
    "cat": lambda lib, F, x: lib.cat([x, x], 2),
    "stack": lambda lib, F, x: lib.stack([x, x], 3),
    "split": lambda lib, F, x: x.split(1, 2),
    "chunk": lambda lib, F, x: x.chunk(2, 2),
    "sort": lambda lib, F, x: x.sort(2),
    "topk": lambda lib, F, x: x.topk(1, 2),
    "diff": lambda lib, F, x: x.diff(dim=2),
}


def _raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def _check(ours, theirs):
    assert isinstance(ours, IndexError), (type(ours), ours)
    assert isinstance(ours, graphnet.DimensionError) and isinstance(ours, graphnet.ShapeError)
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_a_dimension_out_of_range_raises_torchs_index_error(name):
    theirs = _raised(lambda: CASES[name](torch, torch.nn.functional, torch.tensor(A)))
    assert type(theirs) is IndexError and str(theirs).startswith("Dimension out of range")
    _check(_raised(lambda: CASES[name](graphnet, graphnet.nn.functional, graphnet.tensor(A))),
           theirs)


@pytest.mark.parametrize("name", ["sum", "mean", "argmax", "softmax", "unsqueeze", "squeeze",
                                  "transpose", "cat", "stack", "gather", "glu", "size"])
def test_compiled_the_same_call_raises_the_same_error(name):
    theirs = _raised(lambda: CASES[name](torch, torch.nn.functional, torch.tensor(A)))
    step = graphnet.compile(lambda x: CASES[name](graphnet, graphnet.nn.functional, x))
    _check(_raised(lambda: step(graphnet.tensor(A))), theirs)


@pytest.mark.parametrize("call", ["sum(1)", "unsqueeze(2)", "softmax(1)", "size(0)",
                                  "size(-1)"])
def test_a_0d_tensor_takes_only_dimensions_0_and_minus_1(call):
    theirs = _raised(lambda: eval(f"x.{call}", {"x": torch.tensor(1.0)}))
    _check(_raised(lambda: eval(f"x.{call}", {"x": graphnet.tensor(1.0)})), theirs)


def test_inside_a_module_the_error_names_the_module():
    class Inner(graphnet.nn.Module):
        def forward(self, x):
            return x.sum(3)

    class Outer(graphnet.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def forward(self, x):
            return self.inner(x)

    with pytest.raises(IndexError, match=r"^inner: Dimension out of range \(expected to be in "
                                         r"range of \[-2, 1\], but got 3\)$"):
        Outer()(graphnet.tensor(A))


def test_an_index_error_that_is_not_about_a_dimension_keeps_its_own_words():
    x = graphnet.tensor(A)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with "
                                         "size 2"):
        x[5]
    assert float(x.sum(-2)[2]) == 7.0      # in range: no error, the right values
    assert x.unsqueeze(-3).shape == (1, 2, 3) and x.size(-1) == 3
