"""`graphnet.nn.utils.parametrizations`: weight_norm, spectral_norm and orthogonal as
parametrizations (see parametrize.py), with PyTorch's state_dict keys:

- weight_norm: `parametrizations.weight.original0` (g) and `original1` (v);
- spectral_norm: `parametrizations.weight.original` and the power-iteration buffers
  `parametrizations.weight.0._u`, `._v`, updated on every read in training mode only;
- orthogonal: `parametrizations.weight.original` and, with trivialization, `.0.base`.

>>> layer = spectral_norm(nn.Linear(20, 40))
>>> layer.weight     # W / sigma(W), recomputed on every read (and every compiled call)
"""

from __future__ import annotations

from enum import Enum, auto

from ... import _factories as fac
from ... import _math as M
from ..._autograd import no_grad
from ..._tensor import Tensor
from .._module import Module
from . import parametrize
from ._norms import norm_except_dim, normalize, power_iteration, sigma, weight_norm as _wn
from ._norms import weight_to_matrix
from ._orthogonal import make_orthogonal, orthogonal_forward

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _wn(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """w = g * v / ||v||, the norm over every axis but `dim` (dim=None: the whole tensor).
    g and v are `parametrizations.<name>.original0` and `original1`; a checkpoint of the old
    `nn.utils.weight_norm` (`<name>_g`, `<name>_v`) loads into them, as in PyTorch."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def old_keys_renamed(state, prefix, local_metadata, strict, missing, unexpected, errors):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state and v_key in state:
            state[f"{prefix}parametrizations.{name}.original0"] = state.pop(g_key)
            state[f"{prefix}parametrizations.{name}.original1"] = state.pop(v_key)

    module._register_load_state_dict_pre_hook(old_keys_renamed)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = weight_to_matrix(weight.detach(), self.dim)
            h, w = weight_mat.shape
            self.register_buffer("_u", normalize(fac.randn(h, dtype=weight.dtype), eps))
            self.register_buffer("_v", normalize(fac.randn(w, dtype=weight.dtype), eps))
            power_iteration(weight_mat, self._u, self._v, 15, eps, u_first=True)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return normalize(weight, self.eps)
        weight_mat = weight_to_matrix(weight, self.dim)
        if self.training:
            power_iteration(weight_mat, self._u, self._v, self.n_power_iterations, self.eps,
                            u_first=True)
        return weight / sigma(weight_mat, self._u, self._v)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """w = W / sigma(W), sigma estimated by power iteration whose vectors are buffers
    (`_u`, `_v`), advanced `n_power_iterations` times on every read in training mode and
    frozen in eval mode. `dim` defaults to 1 for transposed convolutions, else 0."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        base = self._buffers.get("base") if "base" in self._buffers else None
        return orthogonal_forward(X, self.orthogonal_map.name, base,
                                  "base" in self._buffers)

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape "
                                 f"{self.shape}. Got a tensor of shape {Q.shape}.")
            if "base" not in self._buffers:   # matrix_exp / cayley: householder is refused
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.transpose(-2, -1)
                n, k = k, n
            if n != k:
                extra = fac.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)
                Q = M.cat([Q, extra], dim=-1)
            self.base = make_orthogonal(Q)
            neg_identity = -fac.eye(n, k, dtype=Q.dtype).expand(*Q.shape[:-2], n, k)
            return neg_identity.transpose(-2, -1) if transpose else neg_identity.clone()


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain a matrix (or batch of matrices) to be orthogonal: `matrix_exp`, `cayley` or
    `householder` map of the stored original, as in PyTorch (default: matrix_exp for square
    matrices, householder otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] \
            else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    if not use_trivialization and orth_enum == _OrthMaps.householder:
        # NOTE: PyTorch stores geqrf's reflectors as the original here; graphnet has no
        # geqrf, and keeping the weight unchanged would silently give another matrix.
        raise NotImplementedError(
            "orthogonal(..., orthogonal_map='householder', use_trivialization=False) is not "
            "supported by graphnet (it needs geqrf). Use use_trivialization=True (the "
            "default), which trains the same family of matrices.")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
