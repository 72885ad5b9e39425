"""One time step of a recurrent layer: RNNCell, LSTMCell, GRUCell, with PyTorch's parameter
names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), init and checks.

A cell is a few ordinary ops (two `linear`s and the gate math), so it runs eagerly and inside
`graphnet.compile` alike; a Python loop over time unrolls into the graph. For whole sequences
nn.RNN / nn.GRU / nn.LSTM scan over time in one op and compile much faster."""

from __future__ import annotations

import math

from .. import _factories as fac
from .. import _math as M
from .._tensor import Parameter, Tensor
from . import functional as F
from . import init
from ._module import Module

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Parameters and init shared by the cells: `weight_ih` [chunks * H, I], `weight_hh`
    [chunks * H, H] and, with `bias`, `bias_ih` and `bias_hh` [chunks * H], all drawn from
    U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(fac.empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(fac.empty(num_chunks * hidden_size, hidden_size,
                                             dtype=dtype))
        if bias:
            self.bias_ih = Parameter(fac.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(fac.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _batched(self, input, states: tuple, names: tuple):
        """PyTorch's checks; returns (2-D input, 2-D states, is_batched). `states` holds
        None when no hidden state was given."""
        kind = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{kind}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        for state, name in zip(states, names, strict=True):
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{kind}: Expected {name} to be 1D or 2D, got {state.dim()}D "
                                 f"instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        full = []
        for i, state in enumerate(states):
            if state is None:
                state = fac.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            elif not batched:
                state = state.unsqueeze(0)
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                                   f"batch size {state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
            full.append(state)
        return input, full, batched

    def _gates(self, input, hx):
        """(x W_ih^T + b_ih, h W_hh^T + b_hh)."""
        return (F.linear(input, self.weight_ih, self.bias_ih),
                F.linear(hx, self.weight_hh, self.bias_hh))


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    >>> cell = nn.RNNCell(10, 20); h = cell(graphnet.randn(3, 10), h)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """input [N, I] or [I], hx [N, H] or [H] (zeros if None) -> h' of hx's shape."""
        input, (hx,), batched = self._batched(input, (hx,), ("hidden",))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x_part, h_part = self._gates(input, hx)
        act = M.tanh if self.nonlinearity == "tanh" else F.relu
        h = act(x_part + h_part)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; gates stacked (i, f, g, o) like PyTorch. Returns (h', c').

    >>> cell = nn.LSTMCell(10, 20); h, c = cell(graphnet.randn(3, 10), (h, c))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input, hx=None):
        """input [N, I] or [I], hx None or (h [N, H], c [N, H]) -> (h', c')."""
        if isinstance(hx, Tensor) and input.dim() != 1:   # `cell(x, h)` for `cell(x, (h, c))`
            # (its rows were taken as h and c); PyTorch's kernel refuses it with these words
            raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of "
                            "Tensors, not Tensor")
        states = (None, None) if hx is None else tuple(hx)
        if len(states) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        input, (h, c), batched = self._batched(input, states, ("hx[0]", "hx[1]"))
        x_part, h_part = self._gates(input, h)
        i, f, g, o = M.chunk(x_part + h_part, 4, dim=1)
        c = M.sigmoid(f) * c + M.sigmoid(i) * M.tanh(g)
        h = M.sigmoid(o) * M.tanh(c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step; gates stacked (r, z, n) like PyTorch.

    >>> cell = nn.GRUCell(10, 20); h = cell(graphnet.randn(3, 10), h)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input, hx=None):
        """input [N, I] or [I], hx [N, H] or [H] (zeros if None) -> h' of hx's shape."""
        input, (hx,), batched = self._batched(input, (hx,), ("hidden",))
        x_part, h_part = self._gates(input, hx)
        x_r, x_z, x_n = M.chunk(x_part, 3, dim=1)
        h_r, h_z, h_n = M.chunk(h_part, 3, dim=1)
        r = M.sigmoid(x_r + h_r)
        z = M.sigmoid(x_z + h_z)
        n = M.tanh(x_n + r * h_n)
        h = (1 - z) * n + z * hx
        return h if batched else h.squeeze(0)
