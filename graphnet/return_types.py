"""`graphnet.return_types`: the named tuples ops return (`x.sort()`, `x.max(0)`,
`linalg.slogdet(A)`...), as `torch.return_types`: fields by name or position, and PyTorch's
repr, one field per line:

>>> import graphnet as torch
>>> torch.tensor([3., 1.]).sort()
graphnet.return_types.sort(
values=tensor([1., 3.]),
indices=tensor([1, 0]))
"""

from __future__ import annotations

from collections import namedtuple


def return_type(name: str, fields: list):
    """The named tuple class `graphnet.return_types.<name>` with `fields`, made once."""
    known = globals().get(name)
    if known is not None:
        assert known._fields == tuple(fields), (name, known._fields, fields)
        return known
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"graphnet.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                               "__module__": __name__, "__qualname__": name})
    globals()[name] = cls
    return cls
