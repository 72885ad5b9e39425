"""CosineSimilarity and PairwiseDistance: modules holding the options of
`F.cosine_similarity` and `F.pairwise_distance` (graphnet/nn/functional_distance.py)."""

from __future__ import annotations

from . import functional_distance as D
from ._module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along `dim`, each norm clamped at `eps`.

    >>> nn.CosineSimilarity(dim=1)(torch.randn(8, 16), torch.randn(8, 16)).shape
    graphnet.Size([8])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return D.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance between the rows of two inputs (over their last dimension); `eps` is
    added to the difference so the gradient stays finite."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return D.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
