"""The global generator's state around a vmap call's backward (graphnet/_func_vmap.py): the
rerun under `jax.vjp` must draw the random numbers (a dropout mask under randomness='same')
that the forward drew."""

from __future__ import annotations


def rng_state():
    from ._random import get_rng_state

    return get_rng_state()


class rng_restored:
    """The global generator at `state` (the forward's) for the backward's rerun, then back:
    a dropout mask drawn again must be the one the forward drew."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            from ._random import set_rng_state

            self.now = rng_state()
            set_rng_state(self.state)

    def __exit__(self, *exc):
        if self.state is not None:
            from ._random import set_rng_state

            set_rng_state(self.now)
