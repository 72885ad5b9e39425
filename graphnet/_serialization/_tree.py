"""The nested structure of a checkpoint as JSON, with every tensor replaced by a name.

Grammar of one node (format version 1, see docs/serialization.md)::

    node := null | true | false | <int> | <float> | <string>
          | {"float": "nan" | "inf" | "-inf"}
          | {"tensor": <name>}
          | {"list": [node, ...]}
          | {"tuple": [node, ...]}
          | {"dict": [[<string or int key>, node], ...]}

A JSON object is always one of the tagged forms, so a user's dict can never be
mistaken for a tag. Dicts are stored as a list of pairs because JSON object keys
are always strings: this keeps ``{0: ...}`` apart from ``{"0": ...}`` and keeps order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import checkpoint_error

# A tensor's name in the safetensors file may not collide with the header's own key.
_RESERVED_NAMES = frozenset({"__metadata__"})


def _show(path: list[str | int]) -> str:
    """Render a key path the way the user would index it: obj['state'][0]."""
    return "obj" + "".join(f"[{key!r}]" for key in path)


def encode(obj: Any, is_tensor: Callable[[Any], bool]) -> tuple[Any, dict[str, Any]]:
    """Split ``obj`` into a JSON-able structure and ``{name: tensor}`` in visiting order.

    Names are the '/'-joined key path (``state/0/momentum_buffer``), made unique with a
    ``#n`` suffix when keys themselves contain '/'. A tensor object reachable twice
    (tied weights) is stored once and both places refer to the same name.
    """
    tensors: dict[str, Any] = {}
    name_of_tensor: dict[int, str] = {}
    open_containers: set[int] = set()

    def fresh_name(path: list[str | int]) -> str:
        base = "/".join(str(key) for key in path) or "tensor"
        name, n = base, 1
        while name in tensors or name in _RESERVED_NAMES:
            name, n = f"{base}#{n}", n + 1
        return name

    def refuse(x: Any, path: list[str | int], fix: str) -> TypeError:
        return TypeError(f"graphnet.save: cannot store {type(x).__name__} at {_show(path)}. {fix}")

    def walk(x: Any, path: list[str | int]) -> Any:
        if is_tensor(x):
            if id(x) not in name_of_tensor:
                name_of_tensor[id(x)] = fresh_name(path)
                tensors[name_of_tensor[id(x)]] = x
            name = name_of_tensor[id(x)]
            # a Parameter, or a tensor that requires grad, comes back as one (torch.save
            # keeps both; a reloaded learnable tensor had stopped training)
            if type(x).__name__ == "Parameter":
                return {"parameter": [name, bool(x.requires_grad)]}
            return {"requires_grad": name} if getattr(x, "requires_grad", False) \
                else {"tensor": name}
        if x is None or isinstance(x, bool):
            return x
        if isinstance(x, int):
            return int(x)  # NOTE: int() drops IntEnum-like subclasses json may print oddly
        if isinstance(x, str):
            return str(x)
        if isinstance(x, float):
            if math.isfinite(x):
                return float(x)
            return {"float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}
        if not isinstance(x, (dict, list, tuple)):
            raise refuse(x, path, "Supported: Tensor, dict, list, tuple, int, float, bool, str, "
                         "None; convert it to one of these (e.g. a numpy scalar with .item()).")
        if type(x) is tuple or type(x) is list or isinstance(x, dict):
            if id(x) in open_containers:
                raise refuse(x, path, "The object contains itself; checkpoints must be trees.")
            open_containers.add(id(x))
            try:
                return walk_container(x, path)
            finally:
                open_containers.discard(id(x))
        raise refuse(x, path, "Subclasses of list/tuple (e.g. namedtuples) would lose their type; "
                     "convert with list(...), tuple(...) or ._asdict().")

    def walk_container(x: Any, path: list[str | int]) -> Any:
        if isinstance(x, dict):
            pairs = []
            for key, value in x.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(
                        f"graphnet.save: dict key {key!r} ({type(key).__name__}) at {_show(path)} "
                        "is not supported. Use str or int keys."
                    )
                key = int(key) if isinstance(key, int) else str(key)
                pairs.append([key, walk(value, [*path, key])])
            return {"dict": pairs}
        tag = "tuple" if type(x) is tuple else "list"
        return {tag: [walk(value, [*path, i]) for i, value in enumerate(x)]}

    return walk(obj, []), tensors


def decode(node: Any, tensors: Mapping[str, Any], where: str) -> tuple[Any, set[str]]:
    """Rebuild the object from ``node``; returns it and the set of tensor names it used.

    Raises CheckpointError for any node outside the grammar or a name not in ``tensors``.
    """
    used: set[str] = set()
    leaves: dict = {}   # (tag, name) -> the Parameter or grad-requiring tensor made once

    def malformed(what: str) -> Exception:
        return checkpoint_error(
            where, f"the structure in its metadata is malformed ({what})",
            "The file is corrupted or was edited by hand; load an earlier checkpoint.",
        )

    def leaf(tag: str, tensor: Any, requires_grad: bool) -> Any:
        key = (tag, id(tensor))
        if key not in leaves:
            leaves[key] = learnable(tensor, requires_grad, tag == "parameter", where)
        return leaves[key]

    def build(n: Any) -> Any:
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, dict) and len(n) == 1:
            ((tag, body),) = n.items()
            if tag == "tensor" and isinstance(body, str):
                if body not in tensors:
                    raise checkpoint_error(
                        where,
                        f"its structure refers to tensor {body!r}, which the file does not "
                        f"contain",
                        "The file is corrupted; load an earlier checkpoint.",
                    )
                used.add(body)
                return tensors[body]
            if tag == "parameter" and isinstance(body, list) and len(body) == 2 \
                    and isinstance(body[1], bool):
                return leaf(tag, build({"tensor": body[0]}), body[1])
            if tag == "requires_grad" and isinstance(body, str):
                return leaf(tag, build({"tensor": body}), True)
            if tag == "float" and body in ("nan", "inf", "-inf"):
                return float(body)
            if tag in ("list", "tuple") and isinstance(body, list):
                items = [build(item) for item in body]
                return tuple(items) if tag == "tuple" else items
            if tag == "dict" and isinstance(body, list):
                out = {}
                for pair in body:
                    if not (isinstance(pair, list) and len(pair) == 2):
                        raise malformed(f"dict entry {str(pair)[:80]} is not a [key, value] pair")
                    key, value = pair
                    if isinstance(key, bool) or not isinstance(key, (str, int)):
                        raise malformed(f"dict key {str(key)[:80]} is not a str or int")
                    if key in out:  # keeping one of the two values would be a silent guess
                        raise malformed(f"dict key {str(key)[:80]!r} appears twice")
                    out[key] = build(value)
                return out
        raise malformed(f"unexpected node {str(n)[:80]}")

    try:
        return build(node), used
    except RecursionError:
        raise malformed("nested too deeply") from None


def learnable(tensor: Any, requires_grad: bool, parameter: bool, where: str) -> Any:
    """`tensor` as the Parameter, or the leaf requiring grad, it was when saved."""
    import graphnet

    if requires_grad and not (tensor.is_floating_point() or tensor.is_complex()):
        raise checkpoint_error(where, f"it marks an integer tensor ({tensor.dtype}) as "
                               f"requiring grad", "The file is corrupted; load an earlier "
                               "checkpoint.")
    if parameter:
        return graphnet.nn.Parameter(tensor, requires_grad=requires_grad)
    return tensor.requires_grad_(requires_grad)
