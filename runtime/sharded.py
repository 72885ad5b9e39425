"""`graphnet.compile(fn, mesh=mesh, sharding="replicated"|"fsdp")`: the compiled step run
SPMD over a device mesh by JAX's own engine.

Before each call every tensor argument is split along its batch dimension over the mesh's
"data" axis (a batch that does not divide raises, naming both numbers). The state the
program reads (parameters, buffers, optimizer state, which `Artifact.sources` lists) is
placed once: replicated (DDP: each device holds everything, XLA all-reduces the gradients)
or, with `sharding="fsdp"`, split along a dimension that divides by the data axis (ZeRO-3:
XLA all-gathers each parameter where it is used and reduce-scatters its gradient). The
written-back state keeps its placement, so later calls move nothing. The numbers are one
device's on the global batch; `explain()["mesh"]` shows the mesh, the placements and the
collectives XLA inserted, read from the compiled program."""

from __future__ import annotations

from graphnet._tensor import Tensor
from graphnet.compiler.tree import flatten
from graphnet.distributed import _sharding

from .artifact_tape import state_tensor
from .cache_key import keyword_order
from . import stance

POLICIES = ("replicated", "fsdp")


class ShardedFunction:
    def __init__(self, handle, mesh, sharding: str):
        if sharding not in POLICIES:
            raise ValueError(f"sharding must be one of {POLICIES}, got {sharding!r}")
        self.handle, self.mesh, self.policy = handle, mesh, sharding
        self.compiled = handle.compiled
        self._placed: set = set()
        self._last_args = None

    def _split(self, value, where: str, batch):
        if isinstance(value, Tensor):
            return _sharding.split_input(value, self.mesh, batch, where)
        if isinstance(value, (list, tuple)):
            items = [self._split(v, where, batch) for v in value]
            return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
        if isinstance(value, dict):
            return {k: self._split(v, where, batch) for k, v in value.items()}
        return value

    def _state(self):
        for artifact in self.compiled.artifacts:
            for source in artifact.sources:
                if source[0] in ("state", "slot"):
                    t = state_tensor(source)
                    if isinstance(t, Tensor):
                        yield t

    def place_state(self) -> None:
        """Place the state every traced program reads; cheap once placed (one comparison of
        shardings per tensor)."""
        for t in self._state():
            _sharding.put_state(t, _sharding.state_sharding(t, self.mesh, self.policy))

    def __call__(self, *args, **kwargs):
        name = self.compiled.name
        batch = _sharding.batch_size_of((args, kwargs))
        args = tuple(self._split(a, f"{name} argument {i}", batch) for i, a in enumerate(args))
        kwargs = {k: self._split(v, f"{name} argument {k!r}", batch) for k, v in kwargs.items()}
        if not self.compiled.artifacts and self.compiled.mode == "static" \
                and stance.would_compile(self.compiled):
            # traced first, so the state it reads is placed before the first run: placed
            # after, a compiled forward's backward saw its weights rewritten and refused
            self.compiled.artifact_for(*args, **kwargs)
        self.place_state()
        out = self.handle(*args, **kwargs)
        self.place_state()    # state the call created (optimizer buffers) joins the mesh
        names = keyword_order(self.compiled, kwargs)   # the flat arguments, as it sees them
        self._last_args = flatten(args + tuple(kwargs[k] for k in names))[0]
        return out

    def explain(self) -> dict:
        info = self.compiled.explain()
        info["mesh"] = self.mesh_info()
        return info

    def mesh_info(self) -> dict:
        """The mesh, how each input and state value is laid out, and the collectives in the
        last compiled program (kind, count, bytes per step)."""
        mesh = {"axes": dict(self.mesh.shape), "devices": int(self.mesh.devices.size),
                "sharding": self.policy, "inputs": {}, "state": {}, "collectives": None}
        artifacts = self.compiled.artifacts
        if not artifacts:
            return mesh
        artifact = artifacts[-1]
        for value, source in zip(artifact.graph.inputs, artifact.sources):
            if source[0] == "arg" and self._last_args is not None:
                t = self._last_args[source[1]]
            elif source[0] in ("state", "slot"):
                t = state_tensor(source)
            else:
                continue
            spec = getattr(getattr(getattr(t, "_value", None), "sharding", None), "spec", None)
            table = mesh["inputs"] if source[0] == "arg" else mesh["state"]
            table[value.name] = str(spec) if spec is not None else "unplaced"
        if self._last_args is not None:
            from graphnet._x64 import x64

            from .collectives import collectives, summarize

            with x64():   # lowered as the call ran it (graphnet's 64-bit scope)
                compiled = artifact.lowered(self._last_args).compile()
            mesh["collectives"] = summarize(collectives(compiled))
        return mesh

    @property
    def graph(self):
        return self.handle.graph

    def __getattr__(self, name):
        if name in ("handle",) or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.handle, name)
