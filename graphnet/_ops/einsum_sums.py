"""Which labels of an integer or bool einsum PyTorch sums alone, and which it contracts.

PyTorch's einsum sums a label that only one operand holds with `sum()`, which promotes
integer and bool operands to int64 (`einsum("ij->i", int8)` is int64 and does not wrap at
127), and contracts a label that several operands hold with `bmm`, which keeps the dtype and
refuses bool. `jnp.einsum` keeps the dtype throughout, so the kernel casts first."""

from __future__ import annotations


def integral_plan(equation: str, shapes) -> tuple[bool, bool]:
    """(promote to int64, contracts between operands) for `equation` over `shapes`."""
    operands, output = _labels(equation, shapes)
    sizes: dict[str, int] = {}
    holders: dict[str, int] = {}
    for labels, shape in zip(operands, shapes):
        for label, size in zip(labels, shape):
            sizes[label] = max(sizes.get(label, 1), size)
        for label in set(labels):
            holders[label] = holders.get(label, 0) + 1
    summed = [label for label in holders if label not in output]
    if len(operands) == 1:
        return bool(summed), False
    # several operands: a size-1 label is squeezed, not summed
    promote = any(holders[label] == 1 and sizes[label] != 1 for label in summed)
    contracts = any(holders[label] > 1 and sizes[label] != 1 for label in summed)
    return promote, contracts


def _labels(equation: str, shapes):
    """Each operand's labels, one per axis (an ellipsis's axes get their own labels), and
    the output's set of labels."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    operands = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            head, tail = term.split("...")
            spread = len(shape) - len(head) - len(tail)
            # ellipsis axes align from the right, as broadcasting does
            term_labels = list(head) + [f"...{k}" for k in range(spread, 0, -1)] + list(tail)
        else:
            term_labels = list(term)
        operands.append(term_labels)
    if arrow:
        output = set(rhs.replace("...", ""))
        if "..." in rhs:
            output |= {label for labels in operands for label in labels
                       if label.startswith("...")}
    else:   # implicit output: the labels seen once, and the ellipsis
        letters = [c for c in lhs if c.isalpha()]
        output = {c for c in letters if letters.count(c) == 1}
        output |= {label for labels in operands for label in labels if label.startswith("...")}
    return operands, output
