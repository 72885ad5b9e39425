"""The persistent compile cache (issue 13, item 2): on by default in a per-user directory, moved
or turned off by GRAPHNET_COMPILE_CACHE or graphnet.set_compile_cache, the user's own JAX
setting left alone, and a second process finding every program the first one compiled.
What needs a fresh `import graphnet` runs in a subprocess; the rest calls install_default()
again in this process and puts JAX's settings back afterwards."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import pytest
from jax.experimental.compilation_cache import compilation_cache

import graphnet
from graphnet import _compile_cache

ENV = "GRAPHNET_COMPILE_CACHE"
OPTIONS = ("jax_compilation_cache_dir", *_compile_cache._THRESHOLDS)


def _fresh_python(code, env, timeout=120):
    """Run `code` in a new interpreter with `env` added (no cache setting inherited); the JSON
    it prints last."""
    base = {k: v for k, v in os.environ.items()
            if k not in (ENV, "JAX_COMPILATION_CACHE_DIR", *_compile_cache._THRESHOLDS.values())}
    base.update(JAX_PLATFORMS="cpu", **env)
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=base,
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def jax_settings(monkeypatch):
    """No cache variable in the environment, and JAX's cache settings as they were after."""
    saved = {option: getattr(jax.config, option) for option in OPTIONS}
    origin = dict(_compile_cache._origin)
    for name in (ENV, "XDG_CACHE_HOME", *_compile_cache._THRESHOLDS.values()):
        monkeypatch.delenv(name, raising=False)
    yield
    for option, value in saved.items():
        jax.config.update(option, value)
    _compile_cache._origin.update(origin)
    compilation_cache.reset_cache()


def _install(directory=None):
    """install_default() as on a fresh import, with `directory` as the user's JAX setting."""
    jax.config.update("jax_compilation_cache_dir", directory)
    _compile_cache.install_default()
    return graphnet.compile_cache_info()


def test_import_turns_it_on_in_the_per_user_cache_without_starting_jax(tmp_path):
    seen = _fresh_python("""
        import json, jax
        from jax._src import xla_bridge
        import graphnet
        print(json.dumps({"info": graphnet.compile_cache_info(),
                          "started": xla_bridge.backends_are_initialized(),
                          "min_s": jax.config.jax_persistent_cache_min_compile_time_secs,
                          "min_bytes": jax.config.jax_persistent_cache_min_entry_size_bytes}))
    """, {"XDG_CACHE_HOME": str(tmp_path)})
    assert seen["started"] is False
    assert seen["info"]["dir"] == str(tmp_path / "graphnet" / "jax")
    assert seen["info"]["enabled"] and seen["info"]["source"] == "graphnet default"
    assert (seen["min_s"], seen["min_bytes"]) == (0, 0)   # every compile kept
    assert (tmp_path / "graphnet" / "jax").is_dir()


def test_home_cache_when_xdg_is_unset(jax_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    info = _install()
    assert info["dir"] == str(tmp_path / ".cache" / "graphnet" / "jax") and info["enabled"]


@pytest.mark.parametrize("value", ["0", "off", "OFF"])
def test_environment_variable_turns_it_off(jax_settings, monkeypatch, value):
    monkeypatch.setenv(ENV, value)
    info = _install()
    assert not info["enabled"] and info["dir"] is None
    assert info["reason"] == f"{ENV}={value}"


def test_environment_variable_moves_it(jax_settings, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path / "here"))
    info = _install()
    assert info["dir"] == str(tmp_path / "here") and info["enabled"]
    assert info["source"] == ENV
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0


def test_the_users_own_jax_setting_wins(jax_settings, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path / "graphnet's"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    info = _install(str(tmp_path / "mine"))
    assert info["dir"] == str(tmp_path / "mine") and info["enabled"]
    assert "before importing graphnet" in info["source"]
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 1.0   # not touched
    assert not (tmp_path / "graphnet's").exists()


def test_a_jax_threshold_from_the_environment_is_kept(jax_settings, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "2")
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 2.0)
    assert _install()["enabled"]
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 2.0
    assert jax.config.jax_persistent_cache_min_entry_size_bytes == 0


def test_an_unwritable_directory_leaves_it_off_without_crashing(jax_settings, monkeypatch,
                                                                 tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))     # the default place: quietly off
    info = _install()
    assert not info["enabled"] and "not a writable directory" in info["reason"]
    monkeypatch.setenv(ENV, str(blocker / "cache"))        # asked for: off, with a warning
    with pytest.warns(UserWarning, match=f"{ENV}=.*the persistent compile cache is off"):
        info = _install()
    assert not info["enabled"] and info["source"] == ENV
    with pytest.raises(ValueError, match="set_compile_cache.*not a writable directory"):
        graphnet.set_compile_cache(blocker / "cache")


def test_set_compile_cache_moves_and_disables_it_in_this_process(jax_settings, tmp_path):
    info = graphnet.set_compile_cache(tmp_path)
    assert info["dir"] == str(tmp_path) and info["enabled"] and info["entries"] == 0

    # NOTE: a function no other test compiles, so it is a new cache entry in any order
    jax.jit(lambda x: x * 3.25 + 1.5)(jax.numpy.arange(7.0)).block_until_ready()
    info = graphnet.compile_cache_info()
    assert info["entries"] >= 1 and info["bytes"] > 0 and info["source"] == "set_compile_cache"

    info = graphnet.set_compile_cache(None)
    assert not info["enabled"] and info["dir"] is None and info["entries"] == 0
    entries = len(os.listdir(tmp_path))
    jax.jit(lambda x: x * 4.75 - 2.5)(jax.numpy.arange(5.0)).block_until_ready()
    assert len(os.listdir(tmp_path)) == entries               # nothing written any more


# A training step of a small MLP, static then dynamic, counting JAX's persistent-cache hits and
# misses (a miss is a compile written to the cache) while each mode runs its first two calls.
TRAIN_TWICE = """
    import json, time
    from jax._src import monitoring
    counts = {"misses": 0, "hits": 0}
    def listen(event, **_):
        for kind in counts:
            if event == f"/jax/compilation_cache/cache_{kind}":
                counts[kind] += 1
    monitoring.register_event_listener(listen)
    import jax
    import graphnet
    from graphnet import nn

    seen = {"info": graphnet.compile_cache_info()}
    for mode in ("static", "dynamic"):
        graphnet.manual_seed(0)
        model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
        opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        if mode == "static":
            step = graphnet.compile(step)
        x, y = graphnet.randn(16, 32), graphnet.randint(0, 10, (16,))
        before, start = dict(counts), time.perf_counter()
        for _ in range(2):    # the first call makes the optimizer state, the second is steady
            step(x, y)
        jax.block_until_ready([p._value for p in model.parameters()])
        seen[mode] = {"s": time.perf_counter() - start,
                      **{kind: counts[kind] - before[kind] for kind in counts}}
    print(json.dumps(seen))
"""


def test_a_second_process_compiles_nothing(tmp_path):
    env = {ENV: str(tmp_path / "cache")}
    cold = _fresh_python(TRAIN_TWICE, env)
    warm = _fresh_python(TRAIN_TWICE, env)
    assert cold["info"]["enabled"] and cold["info"]["entries"] == 0
    assert warm["info"]["entries"] > 0
    for mode in ("static", "dynamic"):
        assert cold[mode]["misses"] > 0 and cold[mode]["hits"] == 0, cold
        # equal programs lowered in another process (other ids, other hash seed): same keys
        assert warm[mode]["misses"] == 0 and warm[mode]["hits"] == cold[mode]["misses"], warm
    # NOTE: a relative check, not a timing budget: warm loads what cold compiled (5-7x apart)
    assert warm["static"]["s"] < cold["static"]["s"], (cold, warm)
