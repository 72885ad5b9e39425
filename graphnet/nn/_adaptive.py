"""AdaptiveLogSoftmaxWithLoss (Grave et al., "Efficient softmax approximation for GPUs"): a
head over the frequent classes plus one entry per tail cluster, and a low-rank projection per
cluster over its rare classes.

NOTE: PyTorch's forward picks each cluster's rows with `nonzero()` (shapes that depend on
the targets' values, which a compiled program cannot have). graphnet evaluates each cluster
on every row and gathers each row's target from the full log-distribution: the same values
and gradients (rows outside a cluster get none of its gradient), static shapes. Which
clusters it evaluates is PyTorch's choice, though: only those some target falls in, so the
others' weights keep `.grad` None and an optimizer leaves them alone (a zero gradient would
still move them under momentum, Adam or weight decay). That set is a fact of the targets'
values (graphnet/_host_reads.argument_fact): a compiled program is built for it and traces
again when a call's targets use other clusters. A compiled training step whose targets the
traced code computes has no such fact, and is refused rather than given zero gradients."""

from __future__ import annotations

import itertools
from collections import namedtuple

from .. import _math
from .._errors import TraceError
from .._grad_mode import is_grad_enabled
from .._host_reads import argument_fact
from .._mode import tracing
from .._factories import zeros
from .._layout import cat
from .._dispatch import dispatch
from . import functional as F
from ._containers import ModuleList, Sequential
from ._linear import Linear
from ._module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax over many classes sorted by frequency: classes below `cutoffs[0]`
    live in the head, the rest in tail clusters whose projections shrink by `div_value`.

    forward(input [N, in_features], target [N]) -> (output [N] target log-probabilities,
    loss = -output.mean()); `log_prob(input)` is the full [N, n_classes] log-distribution,
    `predict(input)` its argmax.

    >>> asm = nn.AdaptiveLogSoftmaxWithLoss(64, 1000, cutoffs=[10, 100])
    >>> out, loss = asm(torch.randn(8, 64), torch.randint(0, 1000, (8,)))
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1 \
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if target_.dtype.name not in ("int32", "int64"):   # PyTorch's gather check
            raise RuntimeError("gather(): Expected dtype int32/int64 for index")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        full = self._get_full_log_prob(input, self.head(input), self._used_clusters(target))
        output = dispatch("adaptive_log_softmax_target", full, target,
                          n_classes=self.n_classes)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _used_clusters(self, target) -> tuple | None:
        """Whether some target falls in each tail cluster, when that decides which weights
        get gradients (grad mode on, a tail weight requiring grad); None: evaluate them all."""
        if not (is_grad_enabled() and any(p.requires_grad for p in self.tail.parameters())):
            return None
        bounds = list(itertools.pairwise(self.cutoffs))

        def used(values):
            return tuple(bool(((values >= lo) & (values < hi)).any()) for lo, hi in bounds)

        fact = argument_fact(target, "the tail clusters its targets fall in", used)
        if fact is None and tracing():   # under vmap: every cluster, as before
            raise TraceError(
                "AdaptiveLogSoftmaxWithLoss inside a compiled training step needs its target "
                "as an argument of the compiled call: as in PyTorch, only the tail clusters "
                "some target falls in get gradients, and the targets here are computed in the "
                "traced code, whose values a static graph does not have. Pass the targets to "
                "the compiled function, use log_prob(input) with nll_loss (every cluster "
                "evaluated, every tail weight gets a gradient), or run this step uncompiled.")
        return fact

    def _get_full_log_prob(self, input, head_output, used=None):
        """[N, n_classes]: head classes, then each cluster's log-softmax plus its head entry
        (zeros for a cluster `used` marks unused: no target reads them)."""
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i, (lo, hi) in enumerate(itertools.pairwise(self.cutoffs)):
            if used is not None and not used[i]:
                parts.append(zeros(input.shape[0], hi - lo, dtype=head_logprob.dtype))
                continue
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, dim=1)

    def log_prob(self, input):
        """Log-probabilities of all n_classes for each row of `input` [N, in_features]."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most probable class of each row (`log_prob(input).argmax(dim=1)`)."""
        return _math.argmax(self.log_prob(input), dim=1)
