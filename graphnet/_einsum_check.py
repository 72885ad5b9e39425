"""PyTorch's checks of an einsum equation against its operands' shapes, with its messages.

JAX's own errors were passed through before, with the sizes of a mismatched label swapped
("Size of label 'j' for operand 1 (3) does not match previous terms (4)" for an operand 1
whose `j` is 4), which sent a user to the wrong tensor."""

from __future__ import annotations

import functools


def _terms(equation: str) -> tuple[list, str | None]:
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    return lhs.split(","), (rhs if arrow else None)


def _labels(term: str, i: int) -> list:
    """The term's labels, '...' as one entry, with PyTorch's errors for stray dots."""
    labels, j = [], 0
    while j < len(term):
        if term[j] == ".":
            if term[j:j + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of "
                                   f"any ellipsis")
            if "..." in labels:
                raise RuntimeError(f"einsum(): found '.' for operand {i} for which an "
                                   f"ellipsis was already found")
            labels.append("...")
            j += 3
        else:
            labels.append(term[j])
            j += 1
    return labels


@functools.lru_cache(maxsize=256)   # once per equation: einsum runs in training steps
def check_subscripts(equation: str) -> None:
    """PyTorch's letters-only rule (`i1->i` and `i_->i` gave numbers)."""
    arrow = equation.find("->")
    for i, c in enumerate(equation):
        if not (c.isascii() and c.isalpha()) and c not in " ,." \
                and not (arrow >= 0 and i in (arrow, arrow + 1)):
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the "
                               f"equation string, subscripts must be in [a-zA-Z]")


def check_operands(equation: str, operands) -> None:
    """`check_subscripts`, then `check` for einsum's operands when they are all tensors."""
    from ._tensor import Tensor

    check_subscripts(equation)
    if operands and all(isinstance(o, Tensor) for o in operands):
        check(equation, tuple(tuple(o.shape) for o in operands))


@functools.lru_cache(maxsize=512)   # once per equation and shapes: einsum runs in steps
def check(equation: str, shapes: tuple) -> None:
    """Raise PyTorch's RuntimeError where `equation` does not fit operands of `shapes`."""
    terms, output = _terms(equation)
    if len(shapes) < len(terms):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(shapes) > len(terms):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    parsed = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        labels = _labels(term, i)
        named = len(labels) - ("..." in labels)
        if "..." not in labels and named != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({len(shape)}) for "
                               f"operand {i} and no ellipsis was given")
        if named > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"is more than the number of dimensions ({len(shape)}) for "
                               f"operand {i}")
        parsed.append(labels)
    if output is not None:
        seen = set()
        for label in _labels(output, len(shapes)):
            if label == "...":
                continue
            if label in seen:
                raise RuntimeError(f"einsum(): output subscript {label} appears more than "
                                   f"once in the output")
            if not any(label in labels for labels in parsed):
                raise RuntimeError(f"einsum(): output subscript {label} does not appear in "
                                   f"the equation for any input operand")
            seen.add(label)
    sizes, ellipsis = {}, {}    # label -> size; ellipsis dims, counted from the right
    for i, (labels, shape) in enumerate(zip(parsed, shapes)):
        spread = len(shape) - (len(labels) - 1) if "..." in labels else 0
        dims, own = [], {}
        for label in labels:
            if label == "...":
                covered = shape[len(dims):len(dims) + spread]
                for k, size in enumerate(covered):
                    back = len(covered) - k
                    before = ellipsis.get(back)
                    if before is not None and size != 1 and before != 1 and size != before:
                        raise RuntimeError(
                            f"einsum(): dimension {k} covered by ellipsis in operand {i}"
                            f"has size {size} which does not broadcast with previously seen "
                            f"ellipsis with size {before} for the respective dimension")
                    if before is None or before == 1:
                        ellipsis[back] = size
                dims += covered
                continue
            size = shape[len(dims)]
            dims.append(size)
            if label in own and own[label] != size:
                raise RuntimeError(f"einsum(): subscript {label} is repeated for operand {i} "
                                   f"but the sizes don't match, {size} != {own[label]}")
            own[label] = size
        for label, size in own.items():
            before = sizes.get(label)
            if before is not None and size != 1 and before != 1 and size != before:
                raise RuntimeError(f"einsum(): subscript {label} has size {size} for operand "
                                   f"{i} which does not broadcast with previously seen size "
                                   f"{before}")
            if before is None or before == 1:
                sizes[label] = size
