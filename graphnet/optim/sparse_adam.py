"""SparseAdam, refused on purpose: it exists for sparse gradients (`nn.Embedding(...,
sparse=True)`), and graphnet has no sparse tensors, so every gradient is dense."""

from __future__ import annotations

from ._optimizer import Optimizer


class SparseAdam(Optimizer):
    """Refused: graphnet has no sparse gradients. Use `graphnet.optim.Adam` (or AdamW): with
    dense gradients it is the same algorithm, run as one fused update per group.

    >>> opt = graphnet.optim.Adam(model.parameters(), lr=1e-3)   # instead of SparseAdam
    """

    _graphnet_refusal = True   # runtime/coverage.py lists it as refused, not implemented

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        raise NotImplementedError(
            "graphnet.optim.SparseAdam is not supported: it updates only the rows present in "
            "sparse gradients (nn.Embedding(..., sparse=True)), and graphnet has no sparse "
            "tensors; every gradient is dense. Use graphnet.optim.Adam(params, lr=..., "
            "betas=..., eps=...) instead: on dense gradients it is the same algorithm.")
