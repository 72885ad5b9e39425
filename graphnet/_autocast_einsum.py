"""einsum in an autocast region, cast as PyTorch's einsum casts: by the pairs it contracts.

PyTorch runs an einsum as a chain of two-operand steps: left to right for two operands,
along opt_einsum's path ("auto", torch.backends.opt_einsum's default; opt_einsum comes with
JAX) for three or more. A step that sums a label away that both operands hold with a size
other than 1 runs through bmm, which autocast lowers (bfloat16 out); any other step is a
`mul`, not cast, whose bfloat16 and float32 inputs promote to float32. So `ij,jk,kl->il` is
bfloat16, `ij,ij,ij->ij` float32, and `ij,jk,k->ik` float32 when the path contracts j first
and then multiplies by k; `ij,jk->ik` with j of size 1 is float32 too.

NOTE: before, any einsum of three or more operands ran in float32 in a region, where
PyTorch's chain gave bfloat16, and size-1 labels counted as contracted.

>>> with graphnet.autocast("cpu"):
...     graphnet.einsum("ij,jk,kl->il", a, b, c).dtype
graphnet.bfloat16
"""

from __future__ import annotations

import opt_einsum


def explicit(equation: str, n_operands: int) -> tuple[list[str], str]:
    """(each operand's labels, the output's), with `...` as the one label "." and an implicit
    output made explicit as PyTorch makes it: the ellipsis, then the labels seen once in
    alphabetical order (A-Z before a-z)."""
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    terms = [t.replace("...", ".") for t in inputs.split(",")]
    if len(terms) != n_operands:
        raise ValueError("einsum(): the equation names another number of operands than "
                         "were given")
    if arrow:
        return terms, output.replace("...", ".")
    joined = "".join(terms)
    once = sorted(c for c in set(joined) if c != "." and joined.count(c) == 1)
    return terms, ("." if "." in joined else "") + "".join(once)


def wide_labels(term: str, shape: tuple) -> set:
    """The labels of an operand whose size is not 1 (the ellipsis, ".", when any dim it
    covers is not 1): only those count when PyTorch decides what a step contracts."""
    if "." not in term:
        return {c for c, n in zip(term, shape) if n != 1}
    before, _, after = term.partition(".")
    covered = shape[len(before):len(shape) - len(after)]
    wide = {c for c, n in zip(before, shape) if n != 1}
    wide |= {c for c, n in zip(after, shape[len(shape) - len(after):]) if n != 1}
    return wide | ({"."} if any(n != 1 for n in covered) else set())


def pair_contracts(terms: list[str], output: str, shapes: list) -> bool:
    """Whether PyTorch's step over two operands goes through bmm: a label summed away here
    (not in `output`) that both hold with a size other than 1."""
    (ta, tb), (sa, sb) = terms, shapes
    both = wide_labels(ta, sa) & wide_labels(tb, sb)
    return any(c not in output for c in both)


def contracts(equation: str, args: tuple) -> bool:
    """The two-operand rule (graphnet/_autocast.py's `policy`): bmm, so bfloat16 out."""
    if len(args) != 2:
        return False
    terms, output = explicit(equation, 2)
    return pair_contracts(terms, output, [tuple(a.shape) for a in args])


def _spelled(labels: str) -> str:
    return labels.replace(".", "...")


def einsum_pairwise(operands: tuple, equation: str):
    """The einsum of `operands` (three or more) as PyTorch's chain of pairs computes it in an
    autocast region: each pair a two-operand einsum that the region casts by `contracts`."""
    from ._dispatch import dispatch   # NOTE: _dispatch imports _autocast, which imports us
    from ._dtype_methods import promote_types

    terms, output = explicit(equation, len(operands))
    ops = list(operands)
    path = opt_einsum.contract_path(equation, *[tuple(t.shape) for t in operands],
                                    shapes=True, optimize="auto")[0]
    for pair in path:
        chosen = [(ops.pop(i), terms.pop(i)) for i in sorted(pair, reverse=True)][::-1]
        # a label stays while the output or a later operand holds it with a size other
        # than 1; PyTorch sums it away at the first step after which none does
        later = set(output).union(*(wide_labels(t, tuple(o.shape)) for o, t in zip(ops, terms)))
        labels = "".join(t for _, t in chosen)
        keep = "".join(dict.fromkeys(c for c in labels if c in later))
        if len(chosen) == 1:   # opt_einsum's one-operand step (never in PyTorch's paths)
            (a, ta), = chosen
            result = dispatch("einsum", a, equation=f"{_spelled(ta)}->{_spelled(keep)}")
        else:
            (a, ta), (b, tb) = chosen
            if a.dtype is not b.dtype and not pair_contracts(
                    [ta, tb], keep, [tuple(a.shape), tuple(b.shape)]):
                wide = promote_types(a.dtype, b.dtype)   # PyTorch's `mul` promotes
                a, b = (t if t.dtype is wide else dispatch("cast", t, dtype=wide.np)
                        for t in (a, b))
            result = dispatch("einsum", a, b,
                              equation=f"{_spelled(ta)},{_spelled(tb)}->{_spelled(keep)}")
        ops.append(result)
        terms.append(keep)
    (result,), (labels,) = ops, terms
    if labels == output:
        return result
    return dispatch("einsum", result, equation=f"{_spelled(labels)}->{_spelled(output)}")
