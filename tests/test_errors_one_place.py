"""Shape errors are built in one place (graphnet._errors.shape_error) and every one the nn layer
raises deep inside a model names the module's path, the shapes it got and the shapes it wants:
eagerly and compiled."""

import ast
import pathlib

import pytest

import graphnet
from graphnet import nn
from graphnet._errors import shape_error

ROOT = pathlib.Path(graphnet.__file__).parent


class Net(nn.Module):
    """A Sequential of layers inside a module, and a loss."""

    def __init__(self, layer):
        super().__init__()
        self.body = nn.Sequential(nn.Identity(), layer)
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x, target=None):
        out = self.body(x)
        return out if target is None else self.criterion(out, target)


class Encoder(nn.Module):
    """A GRU given an initial state of the wrong shape ([2, N, 6] for one layer)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6)

    def forward(self, x):
        return self.gru(x, graphnet.zeros(2, x.shape[1], 6))[0]


CASES = {
    "linear": (nn.Linear(4, 3), [graphnet.zeros(2, 5)],
               "body.1 (Linear): expected input [..., 4], got [2, 5]"),
    "conv2d": (nn.Conv2d(3, 2, 3), [graphnet.zeros(2, 1, 8, 8)],
               "body.1 (Conv2d): expected input [N, 3, H, W] or [3, H, W], got [2, 1, 8, 8]"),
    "rnn": (nn.RNN(4, 6), [graphnet.zeros(5, 2, 7)],
            "body.1 (RNN): expected input [L, N, 4] or [L, 4] unbatched (input_size=4), "
            "got [5, 2, 7]"),
    "rnn_state": (Encoder(), [graphnet.zeros(5, 2, 4)],
                  "body.1.gru (GRU): expected h_0 of shape [1, 2, 6] (num_layers * "
                  "num_directions, batch, hidden_size), got [2, 2, 6]"),
    "loss_target": (nn.Linear(4, 3), [graphnet.zeros(2, 4), graphnet.zeros(2, 1).long()],
                    "criterion: cross_entropy: input of shape [2, 3] needs a target of shape "
                    "[2], got [2, 1]"),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("case", CASES)
def test_nested_shape_error_names_module_path_and_shapes(case, compiled):
    layer, inputs, expected = CASES[case]
    model = Net(layer)
    fn = graphnet.compile(model) if compiled else model
    with pytest.raises(graphnet.ShapeError) as err:
        fn(*inputs)
    assert str(err.value) == expected


def test_top_level_errors_have_no_path():
    with pytest.raises(graphnet.ShapeError) as err:
        nn.Linear(4, 3)(graphnet.zeros(2, 5))
    assert str(err.value) == "Linear: expected input [..., 4], got [2, 5]"
    with pytest.raises(graphnet.ShapeError) as err:
        nn.functional.mse_loss(graphnet.zeros(2, 1), graphnet.zeros(2))
    assert str(err.value) == ("mse_loss: input [2, 1] and target [2] must have the same shape; "
                              "reshape one, e.g. `target.view_as(input)`")


def test_shape_error_constructor():
    assert str(shape_error("bad", where="a.b")) == "a.b: bad"
    assert str(shape_error("bad", where="")) == "bad"
    assert str(shape_error("bad")) == "bad"                       # no module running
    assert str(shape_error("bad", module=nn.Linear(1, 1))) == "Linear: bad"
    assert isinstance(shape_error("bad"), ValueError)            # ShapeError is a ValueError


def _constructions(path: pathlib.Path) -> list:
    """Lines of `path` that call `ShapeError(...)` or its subclass `DimensionError(...)` (by
    name or as an attribute)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in ("ShapeError", "DimensionError")]


def test_exactly_one_place_constructs_shape_error():
    sources = [ROOT] + [pathlib.Path(m.__file__).parent
                        for m in (graphnet.compiler, graphnet.runtime)]
    found = {f"{path.relative_to(path.parents[len(path.relative_to(src).parts)])}:{line}"
             for src in sources for path in sorted(src.rglob("*.py"))
             for line in _constructions(path)}
    # shape_error, and dimension_error and no_dimensions_error for DimensionError
    assert len(found) == 3 and all(f.startswith("graphnet/_errors.py:") for f in found), found


class Blocks(nn.Module):
    """Layers held in a ModuleList and a ModuleDict that forward iterates itself."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(5, 2)])
        self.heads = nn.ModuleDict({"out": nn.Linear(3, 1)})

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["out"](x)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_modules_called_from_a_container_the_parent_iterates_have_their_full_path(compiled):
    model = Blocks()
    fn = graphnet.compile(model) if compiled else model
    with pytest.raises(graphnet.ShapeError) as err:
        fn(graphnet.zeros(2, 4))
    assert str(err.value) == "blocks.2 (Linear): expected input [..., 5], got [2, 4]"
    model.blocks[2] = nn.Linear(4, 4)
    with pytest.raises(graphnet.ShapeError) as err:
        (graphnet.compile(model) if compiled else model)(graphnet.zeros(2, 4))
    assert str(err.value) == "heads.out (Linear): expected input [..., 3], got [2, 4]"
