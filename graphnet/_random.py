"""The global random generator. Its state is a tensor of raw key data: every random op
splits it (one `rng_split` op) and stores the new state back in place, so a traced graph
sees RNG state as ordinary state: a graph input, updated as a graph output."""

from __future__ import annotations

import jax
import numpy as np

from ._dispatch import dispatch
from ._tensor import Tensor
from ._x64 import x64_scoped

DEFAULT_SEED = 67280421310721  # PyTorch's default_generator.initial_seed()


class Generator:
    """A seedable stream of JAX keys, like `torch.Generator`."""

    def __init__(self, device="cpu", seed: int = DEFAULT_SEED):
        # NOTE: PyTorch's first argument is the device; graphnet's one stream serves all.
        if isinstance(device, int) and not isinstance(device, bool):   # the old Generator(seed)
            device, seed = "cpu", device
        self.device = device
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
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    @staticmethod
    @x64_scoped   # a 64-bit seed: the same key, whatever the caller's JAX settings
    def _key_data(seed: int):
        return jax.random.key_data(jax.random.key(int(seed) % (2 ** 63)))

    def manual_seed(self, seed: int) -> "Generator":
        from ._mode import tracing

        # in place: a compiled program reads this tensor (made now when a trace seeds it)
        if self._state is not None or tracing():
            self.state._value   # noqa: B018
            self._set_key(self._key_data(seed))
        self._seed = int(seed)
        return self

    def _set_key(self, key) -> None:
        """Replace the state's key data. While a graph is traced, as an in-place copy the
        graph records: a `manual_seed` inside a compiled function then reseeds on every call,
        as it does eagerly (a plain assignment was invisible to the tracer, so the program
        drew from wherever the previous call had left the stream)."""
        from ._mode import tracing

        if tracing():
            self._state.copy_(Tensor._wrap(key))
        else:
            self._state._value = key

    def initial_seed(self) -> int:
        return self._seed

    def next_key(self) -> Tensor:
        new_state, key = dispatch("rng_split", self.state)
        self.state._value = new_state._value
        return key

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (PyTorch's ByteTensor; its size is
        graphnet's own): give it back to `set_state` to replay the same draws."""
        raw = np.asarray(self.state._value).astype(np.uint32).view(np.uint8).copy()
        return Tensor._wrap(_as_array(raw))

    def set_state(self, new_state: Tensor) -> None:
        raw = np.asarray(getattr(new_state, "_value", new_state))
        if raw.dtype != np.uint8 or raw.shape != (self.state._value.size * 4,):
            raise RuntimeError(f"set_state: expected the uint8 tensor of shape "
                               f"[{self.state._value.size * 4}] that get_state() returns, got "
                               f"{raw.dtype} {list(raw.shape)}")
        self._set_key(_as_array(raw.view(np.uint32).copy())) if self._state is not None \
            else setattr(self, "state", Tensor._wrap(_as_array(raw.view(np.uint32).copy())))


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed graphnet's global generator: init, dropout and random factories become repeatable.
    NumPy's and Python's generators are left alone, as `torch.manual_seed` leaves them."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state (`torch.get_rng_state`): a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the global generator's state from `get_rng_state()`."""
    default_generator.set_state(new_state)


@x64_scoped
def _as_array(raw: np.ndarray):
    return jax.numpy.asarray(raw)


def key(generator: Generator | None = None) -> Tensor:
    return (generator or default_generator).next_key()
