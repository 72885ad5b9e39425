"""Helpers for the seed corpus (tests/test_seed_corpus.py): programs written once against a
PyTorch-shaped namespace `T` (graphnet or torch), deterministic weights copied in through
`load_state_dict`, and a normal form of results so both libraries' outputs compare."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

PROGRAMS: dict[str, "Program"] = {}


@dataclass
class Program:
    fn: Callable
    seed: str          # which seed text it comes from, e.g. "002 §3.2"
    xfail: str | None  # a known graphnet gap: the reason, shown by pytest
    raises: type       # how that gap shows: anything else is a real failure


def program(seed: str, xfail: str | None = None, raises: type = AssertionError):
    """Register `fn(T, nn, F) -> results` as a corpus program. `xfail` marks a known gap;
    `raises` is the exception graphnet's run fails with (AssertionError: results differ)."""

    def register(fn):
        PROGRAMS[fn.__name__] = Program(fn, seed, xfail, raises)
        return fn

    return register


def arr(T, *shape, seed: int = 0, low=None, high=None):
    """The same float32 input for both libraries."""
    rng = np.random.default_rng(seed)
    if low is not None:
        return T.from_numpy(rng.integers(low, high, shape).astype(np.int64))
    return T.from_numpy(rng.standard_normal(shape).astype(np.float32))


def det_init(T, module, scale: float = 0.5):
    """Give every float entry of module.state_dict() values derived from its name only, so a
    graphnet and a torch module built the same way hold the same weights."""
    state = {}
    for name, value in module.state_dict().items():
        shape = tuple(value.shape)
        if not value.dtype.is_floating_point:
            state[name] = value
            continue
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        data = rng.uniform(-scale, scale, shape).astype(np.float32)
        if name.endswith("running_var"):
            data = np.abs(data) + 0.5
        state[name] = T.from_numpy(data)
    module.load_state_dict(state)
    return module


_PREFIX = re.compile(r"\b(torch|graphnet)\.")


def text(s: str) -> str:
    """Library-neutral text: `torch.Size([2])` and `graphnet.Size([2])` both read `T.Size`."""
    return _PREFIX.sub("T.", s)


def plain(x):
    """A comparable normal form: tensors become (dtype, ndarray); modules their repr."""
    kind = type(x).__name__
    if hasattr(x, "detach") and hasattr(x, "dtype") and hasattr(x, "shape"):
        detached = x.detach()
        array = np.asarray(detached._value) if hasattr(detached, "_value") else \
            detached.cpu().numpy()
        return ("tensor", str(x.dtype).split(".")[-1], array)
    if kind == "Size":
        return ("size", tuple(x))
    if kind == "dtype":
        return ("dtype", str(x).split(".")[-1])
    if hasattr(x, "named_parameters") and hasattr(x, "forward"):
        return ("module", text(repr(x)))
    if isinstance(x, str):
        return text(x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def assert_same(g, t, path="result", atol=1e-5, rtol=1e-5):
    """graphnet's normal form `g` equals torch's `t`: text exactly, numbers to 1e-5."""
    if isinstance(t, tuple) and t and t[0] == "tensor":
        assert isinstance(g, tuple) and g[0] == "tensor", f"{path}: {g!r} is not a tensor"
        assert g[1] == t[1], f"{path}: dtype {g[1]} != torch's {t[1]}"
        assert g[2].shape == t[2].shape, f"{path}: shape {g[2].shape} != torch's {t[2].shape}"
        np.testing.assert_allclose(g[2].astype(np.float64), t[2].astype(np.float64),
                                   atol=atol, rtol=rtol, err_msg=path)
    elif isinstance(t, dict):
        assert isinstance(g, dict) and list(g) == list(t), f"{path}: keys {g!r} != {list(t)}"
        for k in t:
            assert_same(g[k], t[k], f"{path}[{k!r}]", atol, rtol)
    elif isinstance(t, (list, tuple)):
        assert isinstance(g, (list, tuple)) and len(g) == len(t), f"{path}: {g!r} != {t!r}"
        for i, (a, b) in enumerate(zip(g, t, strict=True)):
            assert_same(a, b, f"{path}[{i}]", atol, rtol)
    elif isinstance(t, float) and not isinstance(t, bool):
        assert isinstance(g, (int, float)), f"{path}: {g!r} is not a number"
        np.testing.assert_allclose(g, t, atol=atol, rtol=rtol, err_msg=path)
    else:
        assert g == t, f"{path}:\n--- graphnet ---\n{g}\n--- torch ---\n{t}"
