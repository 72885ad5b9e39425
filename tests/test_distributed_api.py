"""graphnet.distributed's process API (issue 12, item 1): PyTorch's names and errors, JAX's
engine underneath. What needs a fresh JAX (init, 8 simulated devices) runs in a subprocess;
tests/test_distributed_processes.py runs two processes together."""

import json
import os
import subprocess
import sys
import textwrap
import time

import jax
import pytest

import graphnet
import graphnet.distributed as dist
from graphnet.distributed import launch
from xla_env import with_devices

NOT_INITIALIZED = "Default process group has not been initialized"
LAUNCHER_VARS = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK",
                 "LOCAL_WORLD_SIZE", "JAX_COORDINATOR_ADDRESS")


def _fresh_python(code, devices=1, timeout=60):
    """Run `code` in a new interpreter (JAX not started, `devices` CPU devices); its stdout."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARS}
    env.update(XLA_FLAGS=with_devices(devices),
               JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def test_pytorch_names_and_not_initialized_errors():
    assert graphnet.distributed is dist and dist.init_process_group is dist.init
    assert dist.is_available() and not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, dist.destroy_process_group,
                 lambda: dist.all_reduce(graphnet.ones(2))):
        with pytest.raises(ValueError, match=NOT_INITIALIZED):
            call()
    with pytest.raises(NotImplementedError, match="one process group"):
        dist.get_rank(group=object())


@pytest.mark.parametrize("kwargs,env,message", [
    ({"backend": "ucc"}, {}, "unknown backend 'ucc'"),
    ({"init_method": "file:///tmp/rendezvous"}, {}, "'env://' or 'tcp://host:port'"),
    ({"init_method": "tcp://127.0.0.1:1234", "rank": 0}, {}, "needs world_size= and rank="),
    ({}, {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1234", "WORLD_SIZE": "2"},
     "environment variable RANK expected, but not set"),
    ({}, {"MASTER_ADDR": "127.0.0.1", "RANK": "0", "WORLD_SIZE": "2"},
     "environment variable MASTER_PORT expected"),
])
def test_a_bad_rendezvous_is_refused_before_jax_is_touched(monkeypatch, kwargs, env, message):
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        dist.init(**kwargs)
    assert not dist.is_initialized()


def test_init_after_jax_started_says_to_call_it_first(monkeypatch):
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    graphnet.ones(1)    # JAX's backend has started in this process
    with pytest.raises(RuntimeError, match="before the first tensor"):
        dist.init(init_method="tcp://127.0.0.1:1234", world_size=1, rank=0)


def test_mesh_over_this_processs_devices():
    count = jax.device_count()
    m = dist.mesh()
    assert isinstance(m, jax.sharding.Mesh) and dict(m.shape) == {"data": count, "model": 1}
    assert m.axis_types == (jax.sharding.AxisType.Auto,) * 2
    with pytest.raises(ValueError, match=f"needs data \\* model = {count + 1} devices, but "
                                         f"there are {count}"):
        dist.mesh(data=count + 1)
    with pytest.raises(ValueError, match="model must be a positive int"):
        dist.mesh(model=0)


def test_one_process_group_and_an_eight_device_mesh_in_a_fresh_jax():
    port = launch.free_port()
    out = _fresh_python(f"""
        import json
        import jax
        from jax._src import xla_bridge
        import graphnet, graphnet.nn, graphnet.optim, graphnet.utils.data
        import graphnet.distributed as dist
        graphnet.manual_seed(0)                  # allowed before init: it makes no array
        seen = {{"started_by_import": xla_bridge.backends_are_initialized()}}
        try:
            dist.init()                          # no launcher variables anywhere
        except ValueError as err:
            seen["no_rendezvous"] = str(err)
        dist.init(init_method="tcp://127.0.0.1:{port}", world_size=1, rank=0)
        seen["group"] = [dist.is_initialized(), dist.get_rank(), dist.get_world_size()]
        try:
            dist.init_process_group(init_method="tcp://127.0.0.1:{port}", world_size=1, rank=0)
        except ValueError as err:
            seen["twice"] = str(err)
        dist.barrier()
        x, n = graphnet.tensor([1.5, -2.0]), graphnet.tensor([3, 4])
        dist.all_reduce(x, op=dist.ReduceOp.MAX)
        dist.all_reduce(n)
        seen["all_reduce"] = [x.tolist(), str(x.dtype), n.tolist(), str(n.dtype)]
        seen["meshes"] = [dict(dist.mesh().shape), dict(dist.mesh(model=2).shape),
                          dict(dist.mesh(data=2, model=4).shape)]
        for kwargs in ({{"data": 3}}, {{"model": 3}}):
            try:
                dist.mesh(**kwargs)
            except ValueError as err:
                seen.setdefault("mesh_errors", []).append(str(err))
        dist.destroy_process_group()
        seen["after_destroy"] = dist.is_initialized()
        print(json.dumps(seen))
    """, devices=8)
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["started_by_import"] is False
    assert "no rendezvous found" in seen["no_rendezvous"]
    assert "graphnet.distributed.launch" in seen["no_rendezvous"]
    assert seen["group"] == [True, 0, 1]
    assert seen["twice"] == "trying to initialize the default process group twice!"
    assert seen["all_reduce"] == [[1.5, -2.0], "graphnet.float32", [3, 4], "graphnet.int64"]
    assert seen["meshes"] == [{"data": 8, "model": 1}, {"data": 4, "model": 2},
                              {"data": 2, "model": 4}]
    data_error, model_error = seen["mesh_errors"]
    assert "mesh(data=3, model=1) needs data * model = 3 devices, but there are 8" in data_error
    assert "the 8 devices do not split into groups of 3" in model_error
    assert seen["after_destroy"] is False


def test_launcher_environment():
    env = launch.process_env(1, 4, "10.0.0.1", 2345, cpu_devices=2,
                             base={"XLA_FLAGS": "--xla_dump_to=/tmp/x"})
    assert {k: env[k] for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE",
                                "MASTER_ADDR", "MASTER_PORT", "JAX_PLATFORMS")} == {
        "RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "4",
        "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "2345", "JAX_PLATFORMS": "cpu"}
    assert env["XLA_FLAGS"] == ("--xla_dump_to=/tmp/x "
                                "--xla_force_host_platform_device_count=2")
    assert "XLA_FLAGS" not in launch.process_env(0, 1, "a", 1, base={})


def test_launcher_stops_the_others_when_one_process_fails(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import os, sys, time\n"
                      "if os.environ['RANK'] == '1':\n    sys.exit(3)\n"
                      "time.sleep(60)\n")
    start = time.monotonic()
    assert launch.launch(str(script), [], nproc=3) == 3
    assert time.monotonic() - start < 20
    ok = tmp_path / "ok.py"
    ok.write_text("import os\nassert os.environ['WORLD_SIZE'] == '2'\n")
    assert launch.main(["--nproc", "2", str(ok)]) == 0
    with pytest.raises(SystemExit):
        launch.main(["--nproc", "0", str(ok)])
