"""Which parameters of a group one multi-tensor update may take together (`Optimizer.step`):
a parameter listed twice, or two sharing one storage, are updated one after the other."""

from __future__ import annotations


def _storage_key(p) -> int:
    """Which storage `p` updates, as one id for every tensor that shares it: the root of its
    view chain (`Parameter(enc.weight.t())`), and every alias of that root (`.data`,
    `detach()`, two `Parameter(w)` of one `w`, `load_state_dict(..., assign=True)` of one
    tensor into two modules), listed in the optimizer or not. Parameters of one storage are
    updated one after the other, as torch's in-place steps on it are: computed together
    from the same values, the second store undid the first (before, only an owner the
    optimizer also listed was seen, so two parameters aliasing a third tensor lost an
    update per step)."""
    root = p
    for _ in range(8):
        found = root.__dict__.get("_storage")
        nxt = found if found is not None else root._alias_src
        if nxt is None:
            break
        root = nxt
    key, seen, todo = id(root), {id(root)}, [root]
    while todo and len(seen) < 64:
        for ref in todo.pop().__dict__.get("_aliases") or ():
            alias = ref()
            if alias is not None and id(alias) not in seen:
                seen.add(id(alias))
                key = min(key, id(alias))
                todo.append(alias)
    return key


def rounds(params: list) -> list:
    """`params` as lists without repeats, run one after the other: the first listing of each
    parameter, then the second ... A parameter listed twice in a group (tied weights
    gathered from two modules) is updated twice per step, its state advanced twice, as
    torch's CPU loop does; one multi-tensor update computed both from the same value."""
    keys = [_storage_key(p) for p in params]
    if len(set(keys)) == len(params):
        return [params] if params else []
    rounds, seen = [], {}
    for p, key in zip(params, keys):
        k = seen[key] = seen.get(key, -1) + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(p)
    return rounds
