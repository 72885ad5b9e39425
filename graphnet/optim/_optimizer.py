"""`Optimizer`: parameter groups with per-group options, state, zero_grad, state_dict.

Subclasses implement `_step_group(group, params, grads, states)` with one multi-tensor op per
group, so a step is one fused kernel eagerly and one node in a traced graph."""

from __future__ import annotations

import copy
import functools
import warnings
import weakref
from collections import OrderedDict, defaultdict

import jax

from .. import _dispatch
from .._errors import TraceError, type_name
from .._autograd import no_grad
from .._methods import zero_in_place
from .._tensor import Tensor
from ._capturable import check_capturable
from ._hooks import StepHooks, with_step_hooks
from ._rounds import rounds as _rounds


def _typename(value) -> str:
    if isinstance(value, Tensor):
        return "graphnet.Tensor"
    return type_name(value)


# per active trace (a dispatch mode): id(optimizer) -> its order of first step in that trace
_TRACE_ORDER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()

# Options whose term PyTorch's step leaves out while they are 0 (`if weight_decay != 0:`).
# Such a 0 reaches the update kernel as None, which leaves the term out (`is_off` in
# _kernels.py), eagerly and in a traced step (guarded on staying 0); as a number it is a
# live input, traced like the lr: the MLP's SGD program then computed g + 0 * p, reading
# every parameter once more. Any other value is a live input, changed without recompiling.
OFF_AT_ZERO = frozenset({"weight_decay", "dampening"})


# options PyTorch's optimizers fill in when a saved group lacks them (their __setstate__)
_FLAGS = ("maximize", "foreach", "differentiable", "fused", "capturable", "nesterov",
          "amsgrad", "decoupled_weight_decay")


# per optimizer, the state PyTorch's __setstate__ turns from a number (a checkpoint of an
# older PyTorch, or one edited by hand: `state['step'] = 1`) into a 0-d tensor on load; the
# update kernels read it as a tensor (an int 'step' failed the next step)
_SCALAR_STATE = {
    "Adam": ("step",), "AdamW": ("step",), "RAdam": ("step",), "Adamax": ("step",),
    "Adagrad": ("step",), "Adadelta": ("step",), "RMSprop": ("step",), "Rprop": ("step",),
    "Adafactor": ("step",), "NAdam": ("step", "mu_product"), "ASGD": ("step", "eta", "mu"),
}


def _scalar_state_keys(optimizer) -> tuple:
    """The keys of _SCALAR_STATE for `optimizer`'s class or the graphnet optimizer it
    extends."""
    for cls in type(optimizer).__mro__:
        if cls.__module__.startswith("graphnet.optim") and cls.__name__ in _SCALAR_STATE:
            return _SCALAR_STATE[cls.__name__]
    return ()


def _as_scalar_tensors(state: dict, keys: tuple) -> None:
    """`state`'s numbers under `keys` as 0-d tensors of PyTorch's scalar dtype (float64
    when that is the default dtype, else float32: its _get_scalar_dtype)."""
    from .. import _dtype as dt
    from .._default_dtype import default_float
    from .._factories import tensor

    dtype = dt.float64 if default_float() == dt.float64 else dt.float32
    for key in keys:
        if key in state and not isinstance(state[key], Tensor):
            state[key] = tensor(float(state[key]), dtype=dtype)


class Optimizer(StepHooks):
    """The base of graphnet's optimizers: parameter groups with per-group options, `state`,
    `zero_grad`, `add_param_group`, `state_dict`/`load_state_dict` and step hooks, as in
    torch 2.13. Parameters may be given as tensors, dicts (groups) or (name, tensor) pairs
    (`model.named_parameters()`: the names are kept in each group's 'param_names').

    >>> opt = graphnet.optim.SGD(model.parameters(), lr=0.1)
    """

    def __init__(self, params, defaults: dict):
        if defaults.get("fused") and defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: dict = defaultdict(dict)
        self.param_groups: list[dict] = []
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own options; the rest from `defaults`)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        group = param_group   # NOTE: torch keeps (and fills in) the caller's dict
        params = group["params"]
        if isinstance(params, Tensor):
            group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            group["params"] = list(params)
        names = [p[0] for p in group["params"] if isinstance(p, tuple)]
        group["params"] = [p[1] if isinstance(p, tuple) else p for p in group["params"]]
        if names:
            if len(names) != len(group["params"]):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            group["param_names"] = names
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{_typename(p)}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for other in self.param_groups:
            if ("param_names" in group) != ("param_names" in other):
                kind = "with names" if "param_names" in group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to None (default) or to zeros (also where they were NaN)."""
        for group in self.param_groups:
            for p in group["params"]:
                # NOTE: set_to_none never reads .grad: a traced step would guard on it
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    zero_in_place(p.grad)

    def _hyper(self, group_index: int, name: str):
        # Always a float: a graph input's dtype must not change when a user writes 0 and a
        # scheduler later sets 0.1 (and PyTorch's defaults here are ints).
        group = self.param_groups[group_index]
        value = group[name]
        self._refuse_traced(group_index, name, value)
        if name in OFF_AT_ZERO and isinstance(value, (int, float)) and value == 0:
            _dispatch.depends_on(f"{type(self).__name__}: param_groups[{group_index}]"
                                 f"['{name}'] == 0",
                                 lambda: self.param_groups[group_index][name] == 0)
            return None
        # NOTE: read through the optimizer on every call, not from this dict object: a trace
        # sees a watching copy of it (compiler/python_state.py), and a replaced group is read
        return _dispatch.live_scalar(lambda: float(self.param_groups[group_index][name]),
                                     f"{self._trace_prefix()}group{group_index}.{name}")

    def _refuse_traced(self, group_index: int, name: str, value) -> None:
        """A hyper-parameter is fed to a compiled step as a number on every call (a changed lr
        never recompiles); a tensor computed inside the compiled function has no number yet."""
        if isinstance(value, Tensor) and not isinstance(value._value, jax.Array):
            raise TraceError(
                f"{type(self).__name__}: param_groups[{group_index}]['{name}'] is a tensor "
                f"computed inside the compiled function. A compiled optimizer step reads its "
                f"hyper-parameters as numbers passed to the program on every call, so it "
                f"cannot take one from a traced value. Set it outside the compiled function "
                f"(a float, or a tensor made outside it: it is read again on every call, "
                f"without recompiling), or run step() uncompiled.")

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        if type(self)._step_group is Optimizer._step_group:
            raise NotImplementedError(
                f"{type(self).__name__}.step() is not implemented: a subclass of "
                f"graphnet.optim.Optimizer overrides step(), as in torch")
        loss = None
        if closure is not None:
            from .._autograd import enable_grad

            with enable_grad():
                loss = closure()
        _dispatch.depends_on(f"{type(self).__name__}: the parameter groups traced",
                             self._groups_traced)
        self._started = set()   # ids of parameters whose state this step created
        undo = getattr(_dispatch.current_mode(), "failure_undo", None)
        if undo is not None:    # traced: a call that fails a check takes back the new state
            undo.append(functools.partial(self._keep_only, self._state_keys()))
        for index, group in enumerate(self.param_groups):
            check_capturable(self, group, [p for p in group["params"] if p.grad is not None])
            for params in _rounds([p for p in group["params"] if p.grad is not None]):
                for p in params:
                    name = self._param_name(p)
                    _dispatch.label_state(p, name)
                    for key, value in self.state[p].items():
                        if isinstance(value, Tensor):
                            _dispatch.label_state(value, f"{name}.{key}",
                                                  lambda p=p, k=key: self.state.get(p, {})[k])
                self._step_group(index, group, params, [p.grad for p in params],
                                 [self.state[p] for p in params])
        return loss

    def _state_keys(self) -> dict:
        """Which state entries each parameter has now (None: none at all)."""
        return {id(p): (p, tuple(self.state[p]) if p in self.state else None)
                for group in self.param_groups for p in group["params"]}

    def _keep_only(self, keys: dict) -> None:
        """Drop the state entries not in `keys` (`_state_keys` before a traced step whose
        compiled call then failed a check: PyTorch raised before the step made them; before,
        they stayed, NaN, and every later step gave NaN weights)."""
        for p, kept in keys.values():
            if kept is None:
                self.state.pop(p, None)
            elif p in self.state:
                for key in [k for k in self.state[p] if k not in kept]:
                    del self.state[p][key]

    def _groups_traced(self) -> list:
        """What a traced step's structure depends on: which tensors each group holds and, per
        parameter, which state entries exist (a `load_state_dict` without momentum buffers
        must retrace). Numbers read with `_hyper` are live inputs and are not in here.
        Parameters are named by id: the groups keep them alive, so an id is never reused."""
        # NOTE: one flat tuple of ints, compared on every compiled call: C-level equality
        state, key = self.state, []
        for g in self.param_groups:
            params = g["params"]
            key.append(len(params))
            key += map(id, params)
            key += [len(state[p]) if p in state else 0 for p in params]
        return tuple(key)

    def _static(self, index: int, name: str, derive=None):
        """`param_groups[index][name]` (or `derive(...)` of it) used to decide the *shape* of
        a step (`nesterov`, `amsgrad`, whether momentum is 0): a traced step is guarded on it."""
        group = self.param_groups[index]
        derive = derive or (lambda v: v)
        what = f"{type(self).__name__}: param_groups[{index}]['{name}']"
        _dispatch.depends_on(what, lambda: derive(self.param_groups[index][name]))
        return derive(group[name])

    def _param_name(self, p) -> str:
        i = 0
        for group in self.param_groups:
            for q in group["params"]:
                if q is p:
                    return f"{self._trace_prefix()}param{i}"
                i += 1
        return f"{self._trace_prefix()}param"

    def _trace_prefix(self) -> str:
        """'' for the first optimizer a trace steps, 'opt1.', 'opt2.' ... for the next ones:
        the names of live hyper-parameters and state inputs must be unique in one compiled
        program (two optimizers, as in a GAN step, would otherwise share 'group0.lr')."""
        mode = _dispatch.current_mode()
        if mode is None:
            return ""
        seen = _TRACE_ORDER.setdefault(mode, {})
        index = seen.setdefault(id(self), len(seen))
        return f"opt{index}." if index else ""

    def _step_group(self, index, group, params, grads, states):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _step_group")

    # ---- state_dict --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]} like PyTorch."""
        for hook in list(self._state_hooks("state_dict_pre").values()):
            hook(self)
        index_of, groups, next_index = {}, [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            # PyTorch's numbering: one index per listing, a parameter listed twice in a group
            # numbered by its last listing there (tied weights gathered from two modules)
            fresh = {id(p): i for i, p in enumerate(group["params"], next_index)
                     if id(p) not in index_of}
            index_of.update(fresh)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            next_index += len(group["params"])
            groups.append(packed)
        # PyTorch's: every entry of `self.state` in its order, the optimizer's own dicts (a
        # later in-place or replacing update shows through), and a key that is no parameter
        # as it is (a Lookahead's `state["n_steps"]`: dropped before, so a resumed run
        # counted again from zero)
        state = {}
        for key, value in self.state.items():
            if not isinstance(key, Tensor):
                state[key] = value
            elif id(key) in index_of and value:   # (graphnet's steps may leave empty ones)
                state[index_of[id(key)]] = value
        state_dict = {"state": state, "param_groups": groups}
        for hook in list(self._state_hooks("state_dict_post").values()):
            state_dict = hook(self, state_dict) or state_dict
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state and group options saved by `state_dict()` (graphnet's or torch's)."""
        state_dict = dict(state_dict)
        for hook in list(self._state_hooks("load_state_dict_pre").values()):
            state_dict = hook(self, state_dict) or state_dict
        self._load_state_dict(state_dict)
        for hook in list(self._state_hooks("load_state_dict_post").values()):
            hook(self)

    def _load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for ours, theirs in zip(self.param_groups, groups):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        params = [p for g in self.param_groups for p in g["params"]]
        ids = [i for g in groups for i in g["params"]]
        self.state = defaultdict(dict)
        indices = set(ids) | {str(i) for i in ids}
        for key, value in state_dict["state"].items():
            if key not in indices:   # not a parameter's: kept as it is, as PyTorch does
                self.state[key] = value
        for index, p in zip(ids, params):
            saved = state_dict["state"].get(index, state_dict["state"].get(str(index)))
            if saved:
                # PyTorch's policy: a floating state tensor takes the parameter's dtype (the
                # same tensor when it has it, so two optimizers loaded from one state dict
                # share it, as in PyTorch); `step` and other values are kept as they are
                self.state[p] = {k: ((v.to(p.dtype) if v.is_floating_point() and k != "step"
                                      else v)
                                     if isinstance(v, Tensor) else copy.deepcopy(v))
                                 for k, v in saved.items()}
                _as_scalar_tensors(self.state[p], _scalar_state_keys(self))
        # PyTorch's update_group: a copy of the saved group replaces this one (keeping its
        # params), in a new dict and a new list, so a group dict held from before the load no
        # longer steers the optimizer, and an Adam checkpoint loaded into SGD fails on the
        # missing 'momentum' instead of stepping with a mixture of both optimizers' options
        fresh = []
        for ours, theirs in zip(self.param_groups, groups):
            group = {k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"}
            group["params"] = ours["params"]
            if "param_names" in ours and "param_names" not in group:
                group["param_names"] = ours["param_names"]
            for key in _FLAGS if _builtin(type(self)) else ():   # their own __setstate__'s
                if key in self.defaults:
                    group.setdefault(key, self.defaults[key])
            fresh.append(group)
        self.__setstate__({"state": self.state, "param_groups": fresh})   # as PyTorch

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")   # PyTorch's blank line between groups
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _builtin(cls) -> bool:
    """Whether `cls` is, or derives from, one of graphnet's optimizers (not only the base)."""
    return any(c.__module__.startswith("graphnet.optim") and c not in (Optimizer, StepHooks)
               for c in cls.__mro__)


Optimizer.step = with_step_hooks(Optimizer.step)   # subclasses' own steps: __init_subclass__
