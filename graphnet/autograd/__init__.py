"""`graphnet.autograd`: torch.autograd's functions and classes.

- `grad`, `backward` (_api.py) over the eager tape (_engine.py), or inside `graphnet.compile`
  through the recording mode's `grad` hook; `create_graph=True` records the backward itself
  (_graph.py), so gradient penalties and double backward work in both modes;
- `Function`, `once_differentiable` (function.py; compiled: _function_static.py);
- tensor hooks and `retain_grad` (_hooks.py, attached to Tensor here);
- grad modes (grad_mode.py), anomaly detection (anomaly_mode.py), `Variable`, `gradcheck`
  (gradcheck.py) and `functional` (jacobian, hessian, vjp, jvp, hvp, vhp)."""

from __future__ import annotations

import sys

from .._tensor import Tensor
from . import _hooks
from ._api import backward, grad
from .anomaly_mode import (
    detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled,
    set_detect_anomaly,
)
from .function import Function, InplaceFunction, NestedIOFunction, once_differentiable
from .grad_mode import (
    enable_grad, enforce_grad_layout_policy, inference_mode, is_grad_enabled,
    is_inference_mode_enabled, is_multithreading_enabled, no_grad, set_grad_enabled,
    set_multithreading_enabled,
)
from .variable import Variable
from . import _graph  # noqa: F401  (registers the `vjp` op)
from . import function, functional, gradcheck as _gradcheck_module  # noqa: F401
from . import forward_ad, profiler  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck

_hooks.attach(Tensor)


def is_inference(input: Tensor) -> bool:
    """`graphnet.is_inference(t)`: True for a tensor made under `inference_mode()`."""
    return input.is_inference()


# NOTE: PyTorch also has these at top level (torch.inference_mode ...). They are set on the
# graphnet package from here, which graphnet/__init__.py imports, so this family's names stay
# in this package.
_top = sys.modules[__name__.rpartition(".")[0]]
for _name in ("inference_mode", "is_inference_mode_enabled", "is_anomaly_enabled",
              "is_anomaly_check_nan_enabled", "set_anomaly_enabled", "is_inference"):
    setattr(_top, _name, globals()[_name])


def is_tensor_like(inp) -> bool:
    """True for a Tensor (PyTorch also counts objects with `__torch_function__`)."""
    return isinstance(inp, Tensor)


__all__ = [
    "Function", "InplaceFunction", "NestedIOFunction", "Variable", "backward",
    "detect_anomaly", "enable_grad", "enforce_grad_layout_policy", "functional", "grad",
    "gradcheck", "gradgradcheck", "inference_mode", "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled",
    "is_multithreading_enabled", "is_tensor_like", "no_grad", "once_differentiable",
    "set_anomaly_enabled", "set_detect_anomaly", "set_grad_enabled",
    "set_multithreading_enabled",
]


def __getattr__(name: str):
    """A missing name: torch's AttributeError, with the reason and the alternative when it is
    refused on purpose (runtime/coverage.py `REFUSED`)."""
    from .._errors import missing_attribute

    raise missing_attribute("graphnet.autograd", "torch.autograd", name)
