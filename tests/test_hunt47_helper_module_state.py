"""Python state a helper in another module changes inside a compiled function (a counter it
keeps with `global`, a list it appends to, a logging record it emits) is seen: the call runs
the Python code again each time, as eagerly (it moved once, while tracing, silently)."""

import importlib
import io
import logging
import sys

import graphnet as gn

HELPER = '''
CALLS = 0
RECORDS = []

def bump():
    global CALLS
    CALLS += 1

def record(x):
    RECORDS.append(x.shape[0])
'''


def _helper(tmp_path):
    (tmp_path / "gn_helper_mod.py").write_text(HELPER)
    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop("gn_helper_mod", None)
        return importlib.import_module("gn_helper_mod")
    finally:
        sys.path.remove(str(tmp_path))


def test_helper_module_globals_change_on_every_call(tmp_path):
    helper = _helper(tmp_path)

    def step(x):
        helper.bump()
        helper.record(x)
        return x * 2

    fast = gn.compile(step)
    for n in (2, 2, 2, 3):
        assert fast(gn.ones(n)).tolist() == [2.0] * n
    assert helper.CALLS == 4 and helper.RECORDS == [2, 2, 2, 3]


def test_logging_inside_a_compiled_step_logs_on_every_call():
    log = logging.getLogger("gn_hunt47_steps")
    log.setLevel(logging.INFO)
    log.propagate = False
    stream = io.StringIO()
    log.addHandler(logging.StreamHandler(stream))

    def step(x):
        log.info("step")
        return x + 1

    fast = gn.compile(step)
    for _ in range(4):
        fast(gn.ones(2))
    assert stream.getvalue().splitlines() == ["step"] * 4


def test_a_helper_that_only_reads_globals_compiles_once(tmp_path):
    helper = _helper(tmp_path)
    fast = gn.compile(lambda x: x * (helper.CALLS + 2))
    for _ in range(3):
        assert fast(gn.ones(2)).tolist() == [2.0, 2.0]
    assert fast.explain()["graphs"] == 1


class _Logger:
    def __init__(s):      # noqa: N805  (a method's first argument by another name)
        s.calls = 0

    def log(s, value, tag=""):    # noqa: N805
        s.calls += 1


class _Result:
    def __init__(self, loss, tag):
        self.loss, self.tag, self.n = loss, tag, 0
        self.bump()

    def bump(self):
        self.n += 1


def test_a_method_reached_through_a_partial_or_an_attribute_updates_its_object():
    import functools

    logger, other = _Logger(), _Logger()

    class Net(gn.nn.Module):
        def __init__(self, on_step):
            super().__init__()
            self.lin = gn.nn.Linear(2, 2)
            self.on_step = on_step

        def forward(self, x, callback):
            callback(x.shape[0])
            self.on_step(x.shape[0])
            return self.lin(x)

    fast = gn.compile(Net(other.log))
    callback = functools.partial(logger.log, tag="loss")
    for _ in range(4):
        fast(gn.ones(1, 2), callback)
    assert (logger.calls, other.calls) == (4, 4)


def test_objects_the_step_makes_do_not_count_as_changed_state():
    fast = gn.compile(lambda x: _Result(x.sum(), "train"))
    for _ in range(3):
        out = fast(gn.ones(2))
    assert (out.tag, out.n, float(out.loss)) == ("train", 1, 2.0)
    assert fast.explain()["graphs"] == 1


def test_an_owner_reached_through_a_weak_reference_is_watched():
    import weakref

    class Trainer:
        def __init__(self):
            self.global_step = 0

    class Net(gn.nn.Module):
        def __init__(self, trainer):
            super().__init__()
            self.lin = gn.nn.Linear(3, 1)
            self._trainer = weakref.ref(trainer)

        def forward(self, x):
            self._trainer().global_step += 1
            return self.lin(x)

    trainer = Trainer()
    fast = gn.compile(Net(trainer))
    for _ in range(4):
        fast(gn.ones(2, 3))
    assert trainer.global_step == 4


_COMPILES = [0]


def _count_compiles(event, duration, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES[0] += 1


def test_a_package_callback_into_user_code_is_not_the_steps_state():
    from jax import monitoring

    monitoring.register_event_duration_secs_listener(_count_compiles)

    def f(x):   # folded on the host while tracing: JAX compiles, and calls the listener
        return x * int(gn.arange(41).reshape(41, 1).sum())

    fast = gn.compile(f)
    for _ in range(3):
        fast(gn.ones(2))
    assert _COMPILES[0] > 0
    assert fast.explain()["graphs"] == 1
