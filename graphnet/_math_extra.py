"""More elementwise math and reductions as PyTorch spells them: the names graphnet adds
beyond graphnet/_math.py, gathered from their files (each attaches its Tensor methods):

- _math_pointwise.py: functions with extra arguments (polygamma, logit, lerp, isclose ...),
  aliases, the bitwise operators, in-place forms (`x.asin_()`, `torch.relu_(x)`);
- _math_reduce.py: reductions and scans (cumprod, median, quantile, std_mean, diff ...);
- _dtype_methods.py: dtype questions and conversions (`x.type()`, `promote_types` ...).

The plain elementwise ops (asin, hypot, bitwise_and ...) need no file here: their functions
and methods are generated from their op-table entries (graphnet/_ops/pointwise_extra.py)."""

from __future__ import annotations

from . import _dtype_methods, _math_pointwise, _math_reduce
from ._dtype_methods import *  # noqa: F401,F403
from ._math_pointwise import *  # noqa: F401,F403
from ._math_reduce import *  # noqa: F401,F403

__all__: list[str] = (_math_pointwise.__all__ + _math_reduce.__all__
                      + _dtype_methods.__all__)
