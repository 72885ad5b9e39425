"""NumPy's keyword names, as PyTorch accepts them: `axis=` for `dim=` and `keepdims=` for
`keepdim=` (`x.sum(axis=0)`, `torch.mean(x, axis=1, keepdims=True)`, `torch.cat(xs, axis=1)`).

PyTorch's argument parser takes them wherever a C-bound function or method has a parameter
named `dim` or `keepdim`; its functions written in Python do not (`F.softmax(x, axis=1)`,
`x.norm(axis=0)`, `x.split(1, axis=0)` raise TypeError), nor does any function take both
names at once (`x.sum(0, axis=0)`: "sum() got an unexpected keyword argument 'axis'").

`install()` runs once, when graphnet has bound its public names: every public function and
Tensor method with such a parameter (and each in-place form forwarding to one) is rebound to
a wrapper that renames the keywords and calls it. Internal calls (`_math.sum`) are not
wrapped. NumPy array operands of operators are graphnet/_numpy_compat_arrays.py.

>>> x.amax(axis=1, keepdims=True)   # == x.amax(dim=1, keepdim=True)
"""

from __future__ import annotations

import functools
import inspect
import sys
import types

from ._numpy_compat_arrays import install_operators

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))

# PyTorch's public functions written in Python, which take no NumPy names (torch 2.13):
# graphnet refuses them there too, as PyTorch does.
PYTHON_LEVEL = {
    "graphnet": {"norm", "split", "unique", "unique_consecutive"},
    "graphnet.nn.functional": {"glu", "gumbel_softmax", "log_softmax", "normalize", "softmax",
                               "softmin"},
    "Tensor": {"norm", "split", "unflatten", "unique", "unique_consecutive"},
}


def _positions(fn) -> dict | None:
    """{'dim': position or None (keyword-only), ...} for the parameters of `fn` that have a
    NumPy name; None when it has none (or no readable signature)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    found = {}
    for i, p in enumerate(params):
        if p.name in ("dim", "keepdim"):
            found[p.name] = i if p.kind is p.POSITIONAL_OR_KEYWORD else None
    return found or None


def with_numpy_names(fn, name: str, positions: dict):
    """`fn`, also taking `axis=` / `keepdims=` for its `dim` / `keepdim` (`positions`: their
    positional index, None for keyword-only). Both spellings at once raise PyTorch's
    TypeError."""
    aliases = tuple((alias, own, positions[own]) for alias, own in _ALIASES if own in positions)

    def renamed(args, kwargs):
        for alias, own, position in aliases:
            if alias in kwargs:
                if own in kwargs or (position is not None and len(args) > position):
                    raise TypeError(f"{name}() got an unexpected keyword argument '{alias}'")
                kwargs[own] = kwargs.pop(alias)
        return kwargs

    @functools.wraps(fn)
    def call(*args, **kwargs):
        # NOTE: every call of the public function pays this test (about 0.1 us)
        if "axis" in kwargs or "keepdims" in kwargs:
            kwargs = renamed(args, kwargs)
        return fn(*args, **kwargs)

    call.__numpy_names__ = True
    return call


def _forwards_everything(fn) -> bool:
    """An in-place form such as `Tensor.cumsum_`: `(self, *args, **kwargs)`, passed on."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD for p in params) and \
        not any(p.name in ("dim", "keepdim") for p in params)


def _install_in(namespace, label: str, done: dict) -> None:
    """Rebind each function of `namespace` (a module or the Tensor class) that has a `dim`
    or `keepdim` parameter, and each in-place form of one. `done` maps a function already
    wrapped to its wrapper, so one function bound under several names stays one object."""
    names = vars(namespace)
    refused = PYTHON_LEVEL.get(label, set())
    wrapped_here = {}
    for name, fn in list(names.items()):
        if not isinstance(fn, types.FunctionType) or name in refused or \
                getattr(fn, "__numpy_names__", False):
            continue
        if name.startswith("_") and not name.startswith("__"):
            continue
        positions = _positions(fn)
        if positions is None:
            continue
        if fn not in done:
            done[fn] = with_numpy_names(fn, name, positions)
        setattr(namespace, name, done[fn])
        wrapped_here[name] = positions
    for name, fn in list(names.items()):   # `x.cumsum_(axis=0)`, `x.index_add_(axis=0, ...)`
        base = wrapped_here.get(name[:-1]) if name.endswith("_") else None
        if base is not None and isinstance(fn, types.FunctionType) and \
                _forwards_everything(fn) and not getattr(fn, "__numpy_names__", False):
            setattr(namespace, name, with_numpy_names(fn, name[:-1] + "_", base))


def install() -> None:
    """Give every public function and Tensor method with a `dim`/`keepdim` parameter its
    NumPy names. Idempotent."""
    from . import _distance_top, linalg, special
    from ._tensor import Tensor
    from .nn import functional

    done: dict = {}
    # NOTE: _distance_top's names reach `graphnet` by a star import that runs after this
    # (graphnet/__init__.py imports it after _functional_top, which calls install()).
    for namespace, label in ((sys.modules["graphnet"], "graphnet"), (Tensor, "Tensor"),
                             (functional, "graphnet.nn.functional"),
                             (linalg, "graphnet.linalg"), (special, "graphnet.special"),
                             (_distance_top, "graphnet")):
        _install_in(namespace, label, done)
    install_operators(Tensor)
