"""Importing this package fills the op table."""

from . import contract, loss, pointwise, random, reduce, shape  # noqa: F401  (registration)
from . import sequence  # noqa: F401  (registration)
from . import constant  # noqa: F401  (registration: made by constant folding)
from . import conv, norm  # noqa: F401  (registration)
from . import control  # noqa: F401  (registration: cond / while_loop sub-graphs)
from . import sort  # noqa: F401  (registration: sort, topk, kthvalue, searchsorted)
from . import scatter  # noqa: F401  (registration: index_add, scatter_add ...)
from . import pointwise_extra, reduce_extra, shape_extra, linalg  # noqa: F401
from . import conv_extra, loss_extra, select, layers_extra  # noqa: F401
from . import sharding  # noqa: F401  (registration: layouts on a device mesh)
from . import special  # noqa: F401  (registration: graphnet.special's own kernels)
from . import checked  # noqa: F401  (registration: checked_parameters)
from . import fake_quant  # noqa: F401  (registration: fake_quantize_per_*_affine)
from ._table import KINDS, OPS, OpDef, defop

__all__ = ["KINDS", "OPS", "OpDef", "defop"]
