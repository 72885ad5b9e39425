"""The global random generator. Its state is a tensor of raw key data: every random op
splits it (one `rng_split` op) and stores the new state back in place, so a traced graph
sees RNG state as ordinary state: a graph input, updated as a graph output.

Below the generator, the rules every draw shares with PyTorch: the checks of its dtype and
bounds (`check_draw`, `check_integer_bounds`), and the zero gradient a draw carries to its
tensor parameters (`zero_grad_to`)."""

from __future__ import annotations

import threading

import jax
import numpy as np

from ._dispatch import dispatch
from ._func_active import check_random_draw
from ._tensor import Tensor
from ._x64 import x64_scoped

_DRAWS = threading.RLock()

DEFAULT_SEED = 67280421310721  # PyTorch's default_generator.initial_seed()


class Generator:
    """A seedable stream of JAX keys, like `torch.Generator`."""

    def __init__(self, device="cpu", seed: int = DEFAULT_SEED):
        # NOTE: PyTorch's first argument is the device; graphnet's one stream serves all.
        if isinstance(device, int) and not isinstance(device, bool):   # the old Generator(seed)
            device, seed = "cpu", device
        from ._device import device as as_device

        self.device = as_device(device)
        self._seed = seed
        self._state: Tensor | None = None

    @property
    def state(self) -> Tensor:
        # NOTE: made on first use, not at construction: `default_generator` is built when
        # graphnet is imported, and an array then would start JAX's backend, after which
        # `jax.distributed.initialize` (graphnet.distributed.init) can no longer run.
        if self._state is None:
            self._state = Tensor._wrap(self._key_data(self._seed))
        return self._state

    @state.setter
    def state(self, value: Tensor) -> None:
        self._state = value

    def seed(self) -> int:
        """Seed from fresh entropy; returns the seed (torch.Generator.seed)."""
        _refuse_fresh_entropy("seed()")
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    @staticmethod
    @x64_scoped   # a 64-bit seed: the same key, whatever the caller's JAX settings
    def _key_data(seed: int):
        seed = int(seed) % 2 ** 64           # as an int64 bit pattern: -1 is 2**64 - 1
        return jax.random.key_data(jax.random.key(seed - 2 ** 64 if seed >= 2 ** 63 else seed))

    def manual_seed(self, seed: int) -> "Generator":
        from ._mode import tracing

        seed = _checked_seed(seed)
        # in place: a compiled program reads this tensor (made now when a trace seeds it)
        if self._state is not None or tracing():
            self.state._value   # noqa: B018
            self._set_key(Tensor._wrap(self._key_data(seed)))
        self._seed = seed
        return self

    def _set_key(self, key: Tensor) -> None:
        """Replace the state's key data. While a graph is traced, as an in-place copy the
        graph records: a `manual_seed` or `set_state` inside a compiled function then acts
        on every call, as it does eagerly (a plain assignment was invisible to the tracer, so
        the program drew from wherever the previous call had left the stream)."""
        from ._mode import tracing

        if tracing():
            self.state.copy_(key)
        elif self._state is None:
            self._state = Tensor._wrap(key._value)
        else:
            self._state._value = key._value

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with. Read while a graph is traced, the
        program holds only while the seed is the same (a `manual_seed` outside the compiled
        function between two calls traces again, as the eager code would read the new seed)."""
        from ._mode import current_mode

        mode = current_mode()
        if mode is not None:
            mode.depends_on(f"the generator's initial_seed() ({self._seed})",
                            lambda: self._seed)
        return self._seed

    def next_key(self) -> Tensor:
        with _DRAWS:   # one draw at a time: threads reading one state drew the same numbers
            new_state, key = dispatch("rng_split", self.state)
            self.state._value = new_state._value
        return key

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (PyTorch's ByteTensor; its size is
        graphnet's own): give it back to `set_state` to replay the same draws.

        NOTE: read with ops (a bitcast and a copy), not on the host: inside a compiled
        function it is then the state of each call, not the one the trace saw."""
        from . import _dtype as dt

        return self.state.view(dt.uint8).clone()

    def set_state(self, new_state: Tensor) -> None:
        from . import _dtype as dt

        if not isinstance(new_state, Tensor):
            kind = type(new_state)
            raise TypeError(f"expected a graphnet.ByteTensor, but got "
                            f"{kind.__module__}.{kind.__name__}")
        if new_state.dtype != dt.uint8:     # PyTorch's TypeError, before any size check
            raise TypeError("RNG state must be a graphnet.ByteTensor")
        size = int(np.prod(self.state.shape)) * 4
        if tuple(new_state.shape) != (size,):
            raise RuntimeError(f"set_state: expected the uint8 tensor of shape [{size}] that "
                               f"get_state() returns, got {new_state.dtype.name} "
                               f"{list(new_state.shape)}")
        self._set_key(new_state.view(dt.uint32))


def _checked_seed(seed) -> int:
    """`seed` as PyTorch's Generator.manual_seed takes it: an integer in [-2**63, 2**64),
    kept modulo 2**64 (`manual_seed(-1).initial_seed()` is 2**64 - 1)."""
    if not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    if not -2 ** 63 <= int(seed) < 2 ** 64:
        raise ValueError("Overflow when unpacking long long")
    return int(seed) % 2 ** 64


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed graphnet's global generator: init, dropout and random factories become repeatable.
    NumPy's and Python's generators are left alone, as `torch.manual_seed` leaves them."""
    return default_generator.manual_seed(int(seed))   # int(): 1.5 seeds 1, as in PyTorch


def seed() -> int:
    """Seed the global generator from fresh entropy and return the seed (`torch.seed`)."""
    return default_generator.seed()


def _refuse_fresh_entropy(what: str) -> None:
    """Fresh entropy comes from the host, once: a compiled program would re-seed with the
    trace's number on every call, so a traced `seed()` is refused."""
    from ._errors import TraceError
    from ._mode import tracing

    if tracing():
        raise TraceError(f"{what} seeds the generator from fresh entropy inside a compiled "
                         f"function: the program would use the seed drawn while tracing on "
                         f"every call. Call it outside the compiled function, or pass a seed "
                         f"in and use manual_seed(seed).")


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state (`torch.get_rng_state`): a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the global generator's state from `get_rng_state()`."""
    default_generator.set_state(new_state)


def key(generator: Generator | None = None) -> Tensor:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator= must be a graphnet.Generator, not "
                        f"{type(generator).__name__}")
    check_random_draw()   # jacfwd(randomness='error') refuses draws, as PyTorch's vmap
    return (generator or default_generator).next_key()


def check_draw(op: str, dtype, params=()) -> None:
    """PyTorch's refusals of a uniform or normal draw: an integer or bool dtype, and uniform
    bounds outside the dtype's finite range (`uniform_(0, inf)`)."""
    from ._ops._promote import cpp_name, torch_name

    if not dtype.is_floating_point:
        kernel = "check_uniform_bounds" if op == "uniform" else "normal_kernel_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{torch_name(dtype)}\'')
    if op != "uniform" or not all(isinstance(p, (int, float)) for p in params):
        return   # tensor bounds (a distribution's) are checked by the distribution
    largest = float(np.finfo(dtype.np).max)
    for name, bound in zip(("from", "to"), params):
        if not -largest <= bound <= largest:
            raise RuntimeError(f"{name} is out of bounds for {cpp_name(dtype)}")
    if len(params) == 2 and params[1] - params[0] > largest:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                           f"{torch_name(dtype)}>::max(), but found to={params[1]:g} and "
                           f"from={params[0]:g} which result in to-from to exceed the limit")


def check_integer_bounds(dtype, low: int, high: int) -> None:
    """PyTorch's check that the integers [low, high) of `randint` / `random_` fit `dtype`
    (floating dtypes only warn there, beyond the mantissa, and are not checked)."""
    from ._ops._promote import cpp_name

    if dtype.is_floating_point:
        return
    lowest, largest = (0, 1) if dtype.name == "bool" else \
        (int(np.iinfo(dtype.np).min), int(np.iinfo(dtype.np).max))
    if not lowest <= low <= largest:
        raise RuntimeError(f"from is out of bounds for {cpp_name(dtype)}")
    if not lowest <= high - 1 <= largest:
        raise RuntimeError(f"to - 1 is out of bounds for {cpp_name(dtype)}")


def zero_grad_to(sample: Tensor, *params) -> Tensor:
    """`sample`, with a zero gradient to each tensor of `params` that requires grad.

    PyTorch's `normal(mean, std)`, `bernoulli(p)` and `poisson(rate)` results require grad
    and hand their parameters zeros (not None: weight decay and `grad is not None` checks then
    see the parameter as used). NOTE: a `where` on a constant False passes the sample's value
    through exactly, and gives the unchosen branch a zero gradient (`0 * param` would turn an
    inf parameter into nan)."""
    from ._autograd import is_grad_enabled
    from ._math import where

    if not is_grad_enabled():
        return sample
    never = None
    for param in params:
        if isinstance(param, Tensor) and param.requires_grad:
            never = never if never is not None else Tensor._wrap(_false())
            sample = where(never, param, sample)
    return sample


@x64_scoped
def _false():
    return jax.numpy.asarray(False)


# the largest n whose permutation a float dtype holds exactly (PyTorch checks these two;
# bfloat16 it leaves unchecked, float64 runs out of memory first)
_PERMUTATION_LIMITS = {"float16": (2049, "Half", "2049"),
                       "float32": (2 ** 24 + 1, "Float", "2^24+1")}


def check_permutation_size(n: int, dtype) -> None:
    """randperm's checks that `dtype` holds 0 .. n-1 exactly, with PyTorch's errors."""
    if not dtype.is_floating_point and n - 1 > np.iinfo(dtype.np).max:
        raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")
    if dtype.name in _PERMUTATION_LIMITS and n > _PERMUTATION_LIMITS[dtype.name][0]:
        _, kind, shown = _PERMUTATION_LIMITS[dtype.name]
        raise RuntimeError(f"n cannot be greater than {shown} for {kind} type.")
