"""Which parameters of a group one multi-tensor update may take together (`Optimizer.step`):
a parameter listed twice, or two sharing one storage, are updated one after the other."""

from __future__ import annotations


def _storage_key(p, ids: set) -> int:
    """Which storage `p` updates: its own, or, for a parameter that is a view or alias of
    another one in the list (`dec.weight = Parameter(enc.weight.t())`), the shared one. Such
    parameters are updated one after the other, as torch's in-place steps on one storage
    are: computed together from the same values, the second store undid the first."""
    state = p.__dict__
    owner = state.get("_storage")
    if owner is not None and id(owner) in ids:
        return id(owner)
    base = p._base      # `dec.weight.data = enc.weight.data(.t())`: an alias of `enc.weight`
    for _ in range(4):
        if base is None:
            break
        if id(base) in ids:
            return id(base)
        found = base.__dict__.get("_storage")
        base = found if found is not None else base._base
    key = id(p)
    for ref in state.get("_aliases") or ():
        alias = ref()
        if alias is not None and id(alias) in ids:
            key = min(key, id(alias))
    return key


def rounds(params: list) -> list:
    """`params` as lists without repeats, run one after the other: the first listing of each
    parameter, then the second ... A parameter listed twice in a group (tied weights
    gathered from two modules) is updated twice per step, its state advanced twice, as
    torch's CPU loop does; one multi-tensor update computed both from the same value."""
    ids = {id(p) for p in params}
    keys = [_storage_key(p, ids) for p in params]
    if len(set(keys)) == len(params):
        return [params] if params else []
    rounds, seen = [], {}
    for p, key in zip(params, keys):
        k = seen[key] = seen.get(key, -1) + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(p)
    return rounds
