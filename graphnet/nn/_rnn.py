"""Recurrent layers: RNN, GRU, LSTM with PyTorch's constructor, parameter names and layout.

Each layer and direction is one op (`rnn_layer`, `gru_layer`, `lstm_layer`) that scans over
time; this module stacks layers, runs the reverse direction, concatenates directions and
applies dropout between layers."""

from __future__ import annotations

import math
import numbers
import warnings

from .. import _autocast
from .. import _factories as fac
from .. import _math as M
from .._dispatch import dispatch
from .._errors import shape_error
from .._ops._promote import torch_name
from .._tensor import Parameter
from . import functional as F
from . import init
from ._module import Module
from ._rnn_api import RNNMethods
from ._rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from ._rnn_packed import run_packed
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "GRU", "LSTM", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}
_LSTM_ONLY = object()   # proj_size's default on RNN and GRU: any value passed is refused


def _refuse_proj_size(proj_size) -> None:
    # NOTE: PyTorch refuses proj_size on RNN and GRU, even proj_size=0; without the keyword
    # `nn.GRU(3, 4, proj_size=2)` raised Python's TypeError for an unknown argument instead.
    if proj_size is not _LSTM_ONLY:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNNBase(RNNMethods, Module):
    """Shared constructor, parameters and layer stacking of RNN, GRU and LSTM."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 \
                or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for name, size in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(size, int):
                raise TypeError(f"{name} should be of type int, got: {type(size).__name__}")
            if size <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if not isinstance(num_layers, int):
            raise TypeError(f"'{type(num_layers).__name__}' object cannot be interpreted as "
                            f"an integer")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size   # what each step outputs (and carries as h)
        # PyTorch's registration order: layer, direction, then w_ih, w_hh, b_ih, b_hh, w_hr.
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * self._directions
            for suffix in self._suffixes:
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, f"{name}_l{layer}{suffix}",
                            Parameter(fac.empty(*shape, dtype=dtype)))
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _suffixes(self) -> tuple:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _layer_params(self, layer: int, suffix: str) -> list:
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else []) \
            + (["weight_hr"] if self.proj_size else [])
        return [getattr(self, f"{name}_l{layer}{suffix}") for name in names]

    def _check_input(self, input) -> None:
        layout = "[N, L, {}]" if self.batch_first else "[L, N, {}]"
        expected = (layout.format(self.input_size) + f" or [L, {self.input_size}] unbatched "
                    f"(input_size={self.input_size})")
        if input.dim() not in (2, 3) or input.shape[-1] != self.input_size:
            raise shape_error(f"expected input {expected}, got {list(input.shape)}",
                              module=self)
        self._check_dtype(input)

    def _check_dtype(self, input) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        if _autocast.state.enabled["cpu"] and input.dtype == _autocast.state.dtype["cpu"]:
            return   # an autocast region's input: PyTorch runs it in that type (the policy)
        if input.dtype != weight_dtype:
            raise ValueError(f"{type(self).__name__} input dtype ({input.dtype}) does not match "
                             f"weight dtype ({weight_dtype}). Convert the input: "
                             f"input.to({weight_dtype}), or the model: model.to({input.dtype})")

    def _check_states(self, input, states: list) -> None:
        """PyTorch's checks after the shapes, in its order: a sequence has at least one step,
        and every state has the weights' dtype (JAX would silently promote float32 weights
        with a float64 h_0 to a float64 result)."""
        time_dim = 1 if self.batch_first and input.dim() == 3 else 0
        if input.shape[time_dim] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        self._check_state_dtypes(states)

    def _check_state_dtypes(self, states: list) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        cast = _autocast.state.dtype["cpu"] if _autocast.state.enabled["cpu"] else None
        for state in states:
            if state.dtype != weight_dtype and state.dtype != cast:
                # NOTE: PyTorch's words come from its first matmul, h_0 @ W_hh^T.
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                                   f"{torch_name(state.dtype)} and {torch_name(weight_dtype)}")

    def _initial_state(self, hx, batch: int, batched: bool, name: str, dtype, size=None):
        full = (self.num_layers * self._directions, batch, size or self.hidden_size)
        if hx is None:
            return fac.zeros(full, dtype=dtype)
        expected = full if batched else (full[0], full[2])
        if hx.dim() != len(expected):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            word = {"h_0": "hx", "c_0": "cx"}[name]   # PyTorch's names in this message
            raise shape_error(f"For {kind} input, {word} should also be {len(expected)}-D but "
                              f"got {hx.dim()}-D tensor", module=self)
        if tuple(hx.shape) != expected:
            raise shape_error(f"expected {name} of shape {list(expected)} (num_layers * "
                              f"num_directions, batch, hidden_size), got {list(hx.shape)}",
                              module=self)
        return hx if batched else hx.unsqueeze(1)

    def _run(self, input, states: list, batched: bool):
        """input: the user's tensor; states: initial [L*D, N, H] tensors (h, or h and c).
        Returns (output, [final states]) in the user's layout."""
        if not batched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input  # time-major for the ops
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes):
                index = layer * self._directions + direction
                initial = [s[index] for s in states]
                params = self._layer_params(layer, suffix)
                if direction == 0:
                    results = self._cell_op(x, initial, params)
                    outputs.append(results[0])
                else:  # the reverse direction: the same op on the time-flipped sequence
                    results = self._cell_op(M.flip(x, 0), initial, params)
                    outputs.append(M.flip(results[0], 0))
                for final, value in zip(finals, results[1:], strict=True):
                    final.append(value)
            x = outputs[0] if len(outputs) == 1 else M.cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        finals = [M.stack(f, dim=0) for f in finals]
        if not batched:
            return x.squeeze(1), [f.squeeze(1) for f in finals]
        return (x.transpose(0, 1) if self.batch_first else x), finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class _SingleState(RNNBase):
    def forward(self, input, hx=None):
        """input [L, N, H_in] ([N, L, H_in] if batch_first, [L, H_in] unbatched) or a
        PackedSequence, hx [num_layers * num_directions, N, hidden_size] -> (output, h_n);
        the output is a PackedSequence when the input is one."""
        if isinstance(input, PackedSequence):
            output, (h_n,) = run_packed(self, input, [hx], ["hidden"])
            return output, h_n
        self._check_input(input)
        batched = input.dim() == 3
        batch = (input.shape[0] if self.batch_first else input.shape[1]) if batched else 1
        h0 = self._initial_state(hx, batch, batched, "h_0", input.dtype)
        self._check_states(input, [h0])
        output, (h_n,) = self._run(input, [h0], batched)
        return output, h_n


class RNN(_SingleState):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    >>> rnn = nn.RNN(10, 20, num_layers=2); out, h_n = rnn(graphnet.randn(5, 3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 *, proj_size=_LSTM_ONLY):
        _refuse_proj_size(proj_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)

    # NOTE: the activation follows `mode`, fixed at construction, as in PyTorch: setting
    # `rnn.nonlinearity = "relu"` afterwards changes nothing there (nor here)
    def _activation(self) -> str:
        return "tanh" if self.mode == "RNN_TANH" else "relu"

    def _cell_op(self, x, initial, params):
        return dispatch("rnn_layer", x, *initial, *params, nonlinearity=self._activation())

    def _packed_op(self, x, mask, initial, params):
        return dispatch("rnn_packed_layer", x, mask, *initial, *params,
                        nonlinearity=self._activation())


class GRU(_SingleState):
    """Gated recurrent unit; PyTorch's gate order (r, z, n) and parameter names.

    >>> gru = nn.GRU(10, 20, batch_first=True); out, h_n = gru(graphnet.randn(3, 5, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, *, proj_size=_LSTM_ONLY):
        _refuse_proj_size(proj_size)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)

    def _cell_op(self, x, initial, params):
        return dispatch("gru_layer", x, *initial, *params)

    def _packed_op(self, x, mask, initial, params):
        return dispatch("gru_packed_layer", x, mask, *initial, *params)


class LSTM(RNNBase):
    """Long short-term memory; PyTorch's gate order (i, f, g, o) and parameter names.

    >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
    >>> out, (h_n, c_n) = lstm(graphnet.randn(3, 5, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype=dtype)

    def _cell_op(self, x, initial, params):
        return dispatch("lstm_layer", x, *initial, *params, proj=bool(self.proj_size))

    def _packed_op(self, x, mask, initial, params):
        return dispatch("lstm_packed_layer", x, mask, *initial, *params,
                        proj=bool(self.proj_size))

    @property
    def _state_sizes(self) -> tuple:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def forward(self, input, hx=None):
        """-> (output, (h_n, c_n)); hx is None or the tuple (h_0, c_0); a PackedSequence
        input gives a PackedSequence output."""
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTM expects hx to be a tuple (h_0, c_0)")
        h0, c0 = hx if hx is not None else (None, None)
        if isinstance(input, PackedSequence):
            output, (h_n, c_n) = run_packed(self, input, [h0, c0], ["hidden[0]", "hidden[1]"])
            return output, (h_n, c_n)
        self._check_input(input)
        batched = input.dim() == 3
        batch = (input.shape[0] if self.batch_first else input.shape[1]) if batched else 1
        h0 = self._initial_state(h0, batch, batched, "h_0", input.dtype, self._state_sizes[0])
        c0 = self._initial_state(c0, batch, batched, "c_0", input.dtype)
        self._check_states(input, [h0, c0])
        output, (h_n, c_n) = self._run(input, [h0, c0], batched)
        return output, (h_n, c_n)
