"""graphnet.compile's warnings name the user's line that called the compiled function, not
graphnet's own (runtime/compiled.py `_user_level`)."""

import warnings

import graphnet as gn

LOG = []


def _caught(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [w for w in caught if "graphnet.compile" in str(w.message)]


def test_the_cache_limit_warning_names_the_callers_line():
    fast = gn.compile(lambda x: x * 2, cache_size=2)

    def run():
        for n in range(1, 5):
            fast(gn.ones(n))   # the line the warning must name

    found = _caught(run)
    assert found and all(w.filename == __file__ for w in found)
    assert found[0].lineno == run.__code__.co_firstlineno + 2


def test_the_python_state_warning_names_the_callers_line():
    def step(x):
        LOG.append(1)
        return x * 2

    fast = gn.compile(step)

    def run():
        fast(gn.ones(2))
        fast(gn.ones(2))

    found = _caught(run)
    assert found and all(w.filename == __file__ for w in found)
