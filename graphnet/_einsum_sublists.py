"""PyTorch's sublist form of einsum, `einsum(x, [0, 1], y, [2, 1], [0, 2])`, as the equation
string graphnet's einsum op takes (0-25 are A-Z, 26-51 a-z, as PyTorch numbers them)."""

from __future__ import annotations


def sublist_equation(args: tuple) -> tuple:
    """(equation, operands) of einsum's sublist form: operand, sublist, ..., [output]."""
    def letters(sublist):
        out = []
        for n in sublist:
            if n is Ellipsis:
                out.append("...")
            elif 0 <= n < 26:
                out.append(chr(ord("A") + n))
            elif 26 <= n < 52:
                out.append(chr(ord("a") + n - 26))
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the "
                                 "valid range [0, 52)")
        return "".join(out)
    output = args[-1] if len(args) % 2 else None    # an odd count ends with the output's
    pairs = args[:-1] if len(args) % 2 else args
    operands, inputs = pairs[0::2], pairs[1::2]
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    equation = ",".join(letters(s) for s in inputs)
    if output is not None:
        equation += "->" + letters(output)
    return equation, operands
