"""The warnings a compiled function gives, once each, when its traced code makes every call
trace and compile again: correct, but slow, and silent before. Called by
runtime/compiled.py after each trace."""

from __future__ import annotations

import warnings

# Artifact.retrace's reasons (runtime/artifact.py)
PYTHON_STATE_RETRACE = "the previous trace changed Python state"
STATE_RETRACE = "the previous trace created new state"
# traces in a row that read the state the previous one created and created new state again
# before the warning: an optimizer's buffers are made on the first call or two, never again
_STATE_RUNS = 2


# compiles for one reason (one guard, one argument) before the warning that names it
_REPEATS = 4


def warn_retraces(compiled, traced, reason: str, stacklevel: int) -> None:
    _warn_repeated(compiled, reason, stacklevel)
    if traced.python_changes and reason.startswith(PYTHON_STATE_RETRACE):
        _warn_once(compiled, "python", stacklevel,
                   f"the traced code changes Python state on every call "
                   f"({'; '.join(traced.python_changes[:3])}). A compiled program cannot "
                   f"repeat a Python side effect, so {compiled.name} is traced and compiled "
                   f"again on every call while it does (correct, but slow). To compile once, "
                   f"keep such a value in a tensor, which the program updates in place (in a "
                   f"module, a buffer: self.register_buffer('calls', graphnet.zeros((), "
                   f"dtype=graphnet.int64)), then `self.calls += 1`), or change it outside "
                   f"the compiled function.")
    runs = compiled.__dict__.get("state_runs", 0)
    runs = runs + 1 if reason.startswith(STATE_RETRACE) and traced.creates_state else 0
    compiled.state_runs = runs
    if runs >= _STATE_RUNS:
        _warn_once(compiled, "state", stacklevel,
                   f"the traced code keeps a tensor it creates anew on every call (a tensor "
                   f"made in the call and stored where it outlives it, as a custom "
                   f"optimizer's `self.state[p]['old_p'] = p.clone()`). The next call must "
                   f"read that new tensor, so {compiled.name} is traced and compiled again on "
                   f"every call (correct, but slow). To compile once, create such a tensor on "
                   f"the first call only and write into it in place afterwards "
                   f"(`state['old_p'].copy_(p)`), or keep it outside the compiled function.")


def _warn_repeated(compiled, reason: str, stacklevel: int) -> None:
    """Once per reason: the same guard or argument made `_REPEATS` compiles (a value the
    code reads that changes on every call: an lr logged from `param_groups`, a step counter,
    a batch object of the user's own class). Before, nothing was said until the cache limit,
    whose advice (a larger cache) does not help a value that never repeats."""
    topic = reason.split(":")[0] if reason.startswith(("input ", "keyword ")) else reason
    if topic.startswith(("input ", "keyword ")) and " shape " in topic:
        topic = topic.split(" shape ")[0] + " shape"
    counts = compiled.__dict__.setdefault("reason_counts", {})
    counts[topic] = counts.get(topic, 0) + 1
    if counts[topic] != _REPEATS or topic == "first call":
        return
    if topic.startswith("guard failed"):
        advice = ("the code, or a method of an object it reads, reads this Python value, "
                  "and each new value traces and compiles again. If it changes on every "
                  "call, pass it as a tensor (graphnet.tensor(value)) or use it outside the "
                  "compiled function")
    elif topic.endswith(" shape"):
        advice = ("each new shape traces and compiles again; pad the inputs to a few fixed "
                  "shapes (the last, shorter batch of an epoch is one more)")
    else:
        advice = ("each new value of a Python number, or each new object of your own class "
                  "(a dataclass batch), traces and compiles again: pass numbers that change "
                  "as tensors, and batches as tensors or tuples, lists, dicts or namedtuples "
                  "of tensors, whose tensors are keyed by shape and dtype")
    _warn_once(compiled, topic, stacklevel,
               f"compiled {_REPEATS} times for the same reason ({_short(topic)}): {advice}.")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _warn_once(compiled, kind: str, stacklevel: int, message: str) -> None:
    warned = compiled.__dict__.setdefault("warned_retraces", set())
    if kind in warned:
        return
    warned.add(kind)
    # NOTE: two frames below the one `stacklevel` was counted from (compiled.py `_compile`)
    warnings.warn(f"graphnet.compile({compiled.name}): {message}", stacklevel=stacklevel + 2)
