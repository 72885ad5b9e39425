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

    def __init__(self, seed: int = DEFAULT_SEED):
        self.state = Tensor._wrap(self._key_data(seed))
        self._seed = seed

    @staticmethod
    @x64_scoped   # a 64-bit seed: the same key, whatever the caller's JAX settings
    def _key_data(seed: int):
        return jax.random.key_data(jax.random.key(int(seed) % (2 ** 63)))

    def manual_seed(self, seed: int) -> "Generator":
        self.state._value = self._key_data(seed)
        self._seed = int(seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def next_key(self) -> Tensor:
        new_state, key = dispatch("rng_split", self.state)
        self.state._value = new_state._value
        return key

    def get_state(self) -> Tensor:
        return Tensor._wrap(self.state._value)

    def set_state(self, state: Tensor) -> None:
        self.state._value = state._value


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed graphnet's global generator: init, dropout and random factories become repeatable."""
    np.random.seed(int(seed) % (2 ** 32))
    return default_generator.manual_seed(seed)


def seed() -> int:
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def key(generator: Generator | None = None) -> Tensor:
    return (generator or default_generator).next_key()
