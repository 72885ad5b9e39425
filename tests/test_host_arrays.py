"""Eager factories build small arrays on the host (graphnet/_host.py): no XLA program per new
shape, JAX's own conversion of the fill value, and buffers a donating step can overwrite."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import monitoring

import graphnet
from graphnet import _host
from graphnet._x64 import x64

_COMPILES = [0]


def _count(event, duration, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES[0] += 1


monitoring.register_event_duration_secs_listener(_count)


def _compiles(fn) -> int:
    before = _COMPILES[0]
    fn()
    return _COMPILES[0] - before


@pytest.mark.parametrize("make", [
    lambda n: graphnet.zeros(n, 3),
    lambda n: graphnet.ones(n, 5, dtype=graphnet.int64),
    lambda n: graphnet.full((2, n), 7.5),
    lambda n: graphnet.zeros_like(graphnet.from_numpy(np.ones((n, 2), np.float32))),
    lambda n: graphnet.tensor(np.arange(n * 2, dtype=np.float64).reshape(n, 2)),
    lambda n: graphnet.tensor([[1.5] * n]),
    lambda n: graphnet.from_numpy(np.ones((n, 4), np.int32)),
], ids=["zeros", "ones_int64", "full", "zeros_like", "tensor_numpy", "tensor_list",
        "from_numpy"])
def test_a_factory_compiles_nothing_for_a_new_shape(make):
    make(1)   # scalar conversions compile once per dtype
    assert _compiles(lambda: [make(n) for n in (1031, 1033, 1039)]) == 0


def test_eager_optimizer_state_and_zero_gradients_compile_per_op_not_per_buffer():
    # Adam's moments for parameters of 3 new shapes, and a zero cotangent for an unused output
    params = [graphnet.tensor(np.ones(s, np.float32), requires_grad=True)
              for s in ((1061, 3), (1063,), (7, 1069))]
    opt = graphnet.optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = graphnet.ones_like(p)
    opt.step()   # compiles the update kernels once per shape; the state costs nothing more
    more = [graphnet.tensor(np.ones(s, np.float32), requires_grad=True)
            for s in ((1091, 3), (1093,), (7, 1097))]
    opt2 = graphnet.optim.Adam(more, lr=0.1)
    for p in more:
        p.grad = graphnet.ones_like(p)
    with_state = _compiles(opt2.step)
    state = opt2.state[more[0]]
    assert float(state["exp_avg"].sum()) == pytest.approx(0.1 * 1091 * 3)
    # the same parameters again: only the (already compiled) update runs
    assert _compiles(opt2.step) == 0
    assert with_state <= 3 * 2   # per shape at most the update kernel and its state fill


def test_a_shape_met_a_few_times_compiles_nothing_and_then_takes_the_compiled_path():
    make = lambda: graphnet.zeros(1151, 3)   # noqa: E731
    make_value = lambda: graphnet.tensor(np.ones((1153, 2), np.float32))   # noqa: E731
    make(), make_value()   # scalar conversions compile once per dtype
    for fn, want in ((make, np.zeros((1151, 3))), (make_value, np.ones((1153, 2)))):
        assert _compiles(lambda: [fn() for _ in range(_host.HOST_USES - 1)]) == 0
        assert _compiles(fn) >= 1       # the compiled fill / copy (with its scalar's)
        assert _compiles(fn) == 0       # and reused from then on
        np.testing.assert_array_equal(np.asarray(fn()._value), want)


VALUES = [3e10, -1.0, 256.0, 2 ** 63, -1, 1e300, np.float64(2.5), np.int64(-1), 2.7, -2.7,
          float("nan"), float("inf"), 300, -129, True, 0.5, 1 + 2j, 2 ** 40]
DTYPES = [np.uint8, np.int8, np.int32, np.int64, np.float16, np.float32, jnp.bfloat16, np.bool_,
          np.complex64]


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_the_fill_value_converts_as_jax_converts_it(dtype):
    with x64():
        for value in VALUES:
            for shape in ((2,), (), (0, 3)):
                try:
                    expected = jnp.full(shape, value, dtype)
                except (OverflowError, TypeError):   # 2**63 as int64, 1+2j as an integer
                    continue
                _host._seen.clear()   # the host path is taken for a shape met first
                got = _host.full(shape, value, dtype)
                assert got.dtype == expected.dtype and got.shape == expected.shape
                wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
                np.testing.assert_array_equal(np.asarray(got).astype(wide),
                                              np.asarray(expected).astype(wide),
                                              err_msg=f"{value!r} as {np.dtype(dtype).name}")


def test_host_data_converts_as_jax_converts_it():
    with x64():
        for array, dtype in [(np.arange(6.0).reshape(2, 3), np.float32), (np.arange(6), None),
                             (np.array([1.5, -2.5, 3e10, np.nan]), np.int32),
                             (np.array([True, False]), np.float32), (np.zeros((0, 2)), None)]:
            _host._seen.clear()
            got, expected = _host.put(array, dtype), jnp.asarray(array, dtype)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def test_a_host_built_array_can_be_donated():
    step = jax.jit(lambda x: x * 2, donate_argnums=0)
    for _ in range(10):
        _host._seen.clear()
        for array in (_host.full((64, 64), 1.0, np.float32),
                      _host.put(np.ones((64, 64), np.float64), np.float32)):
            where = array.unsafe_buffer_pointer()
            assert step(array).unsafe_buffer_pointer() == where


def test_inside_a_jax_trace_the_fill_is_part_of_the_program():
    @jax.jit
    def f(x):
        return x + _host.full((3,), 2.0, np.float32)

    # built by the program (a broadcast), not captured as a constant made on the host
    assert "broadcast_in_dim" in str(jax.make_jaxpr(f.__wrapped__)(jnp.ones(3)))
    np.testing.assert_array_equal(np.asarray(f(jnp.ones(3))), [3.0, 3.0, 3.0])


def test_a_shape_met_again_takes_the_compiled_fill(monkeypatch):
    """device_put costs more per call than JAX's compiled fill once that exists: the first
    HOST_USES calls of a shape are built on the host; later calls take the compiled fill
    (compiled once), with the same values."""
    built = []
    unaligned = _host._unaligned
    monkeypatch.setattr(_host, "_unaligned", lambda *a: built.append(a) or unaligned(*a))
    values = [graphnet.full((1157, 3), 2.5) for _ in range(_host.HOST_USES + 3)]
    assert len(built) == _host.HOST_USES
    assert all(v.tolist()[0] == [2.5, 2.5, 2.5] and v.dtype == graphnet.float32 for v in values)
    assert _compiles(lambda: graphnet.full((1157, 3), -1.0)) == 0   # compiled by now
