"""`graphnet dump MODEL`: trace a built-in model and print its graph."""

from __future__ import annotations


def _mlp(batch: int):
    import graphnet
    from graphnet import nn

    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    return model, (graphnet.zeros(batch, 784),)


MODELS = {"mlp": _mlp}


def dump(target: str, fmt: str = "text", batch: int = 128) -> str:
    import graphnet

    if target not in MODELS:
        raise SystemExit(f"unknown model {target!r}; choose from {sorted(MODELS)}")
    model, inputs = MODELS[target](batch)
    graph = graphnet.trace(model, *inputs)
    return str(graph)
