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

A dict's ``_metadata`` attribute (a ``state_dict()``'s module versions, which
``load_state_dict`` reads) is kept apart from the structure, as ``[[key path, node], ...]``
under the header key ``dict_metadata``: readers that do not know the key load the same
structure without it, as before (see encode and decode).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import checkpoint_error

# A tensor's name in the safetensors file may not collide with the header's own key.
_RESERVED_NAMES = frozenset({"__metadata__"})


def _show(path: list[str | int]) -> str:
    """Render a key path the way the user would index it: obj['state'][0]."""
    return "obj" + "".join(f"[{key!r}]" for key in path)


def encode(obj: Any, is_tensor: Callable[[Any], bool]) -> tuple[Any, dict[str, Any], list]:
    """Split ``obj`` into a JSON-able structure, ``{name: tensor}`` in visiting order, and
    the ``_metadata`` of its dicts as ``[[key path, node], ...]``.

    Names are the '/'-joined key path (``state/0/momentum_buffer``), made unique with a
    ``#n`` suffix when keys themselves contain '/'. A tensor object reachable twice
    (tied weights) is stored once and both places refer to the same name.
    """
    tensors: dict[str, Any] = {}
    dict_metadata: list = []
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
            hint = "(e.g. a numpy scalar with .item())"
            if callable(getattr(x, "state_dict", None)):   # `save(model, path)`, as torch pickles
                hint = (f"(save its .state_dict(): graphnet writes no pickled objects, so a "
                        f"{type(x).__name__} is rebuilt by your code and then given "
                        f"load_state_dict(graphnet.load(...)))")
            raise refuse(x, path, f"Supported: Tensor, dict, list, tuple, int, float, bool, str, "
                         f"None; convert it to one of these {hint}.")
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
            if type(x) is not dict and getattr(x, "_metadata", None) is not None:
                # NOTE: a state_dict's module versions: without them load_state_dict took a
                # BatchNorm state without num_batches_tracked for a pre-version-2 one
                dict_metadata.append([list(path), walk(x._metadata, [*path, "_metadata"])])
            return {"dict": pairs}
        tag = "tuple" if type(x) is tuple else "list"
        return {tag: [walk(value, [*path, i]) for i, value in enumerate(x)]}

    structure = walk(obj, [])
    return structure, tensors, dict_metadata


def decode(node: Any, tensors: Mapping[str, Any], where: str,
           dict_metadata: Any = ()) -> tuple[Any, set[str]]:
    """Rebuild the object from ``node``; returns it and the set of tensor names it used.
    A dict with an entry in ``dict_metadata`` (encode's) comes back as an OrderedDict with
    that ``_metadata``, as torch.load returns a state_dict.

    Raises CheckpointError for any node outside the grammar or a name not in ``tensors``,
    and for a ``dict_metadata`` entry that is malformed or names no dict of the structure.
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

    metadata_at = _metadata_by_path(dict_metadata, malformed)

    def build(n: Any, path: tuple | None = None) -> Any:
        """``n`` rebuilt; ``path``, its key path, finds its ``_metadata`` (None: inside one)."""
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
                items = [build(item, None if path is None else (*path, i))
                         for i, item in enumerate(body)]
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
                    out[key] = build(value, None if path is None else (*path, key))
                metadata = metadata_at.pop(path, None) if path is not None else None
                if metadata is not None:
                    out = OrderedDict(out)
                    metadata = build(metadata)
                    out._metadata = OrderedDict(metadata) if type(metadata) is dict \
                        else metadata   # type: ignore[attr-defined]
                return out
        raise malformed(f"unexpected node {str(n)[:80]}")

    try:
        obj = build(node, ())
    except RecursionError:
        raise malformed("nested too deeply") from None
    if metadata_at:
        raise malformed(f"dict_metadata names {list(next(iter(metadata_at)))!r}, which is "
                        f"not a dict of the structure")
    return obj, used


def _metadata_by_path(dict_metadata: Any, malformed: Callable[[str], Exception]) -> dict:
    """encode's ``[[key path, node], ...]`` as {key path (a tuple): node}, checked."""
    if not isinstance(dict_metadata, (list, tuple)):
        raise malformed("dict_metadata is not a list")
    by_path: dict = {}
    for entry in dict_metadata:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)
                and all(isinstance(k, (str, int)) and not isinstance(k, bool)
                        for k in entry[0])):
            raise malformed(f"dict_metadata entry {str(entry)[:80]} is not a [key path, node]")
        path = tuple(entry[0])
        if path in by_path:
            raise malformed(f"dict_metadata names {entry[0]!r} twice")
        by_path[path] = entry[1]
    return by_path


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
