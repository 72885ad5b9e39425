"""Products and contractions as PyTorch spells them: addmm, addbmm, baddbmm, addmv, addr
(with `beta` and `alpha`), mv, outer/ger, dot, vdot, inner, kron, cross, tensordot,
chain_matmul, matrix_power.

All are compositions of matmul, einsum and pointwise ops, so they run the same eagerly and
compiled. `beta=0` ignores `input`'s values, NaN included, as PyTorch documents: `input`
only lends its shape (and gets a zero gradient).

>>> import graphnet as torch
>>> torch.addmm(torch.zeros(2, 2), torch.eye(2), torch.ones(2, 2), alpha=3)
tensor([[3., 3.],
        [3., 3.]])
"""

from __future__ import annotations

from typing import Sequence

from . import _dtype as dt
from . import _factories as fac
from . import _grad_fn_names
from . import _layout as L
from . import _math as M
from ._arith_checks import integral_scalar
from ._math_alpha import beta_alpha_first
from ._autocast import autocast_as
from ._shape_more import broadcast_tensors, broadcast_to, type_name, wrap_dim
from ._tensor import Tensor


def _name(t: Tensor) -> str:
    return type_name(t.dtype)


def _need(name: str, t: Tensor, rank: int, what: str) -> None:
    if t.dim() != rank:
        raise RuntimeError(f"{name}: {what} must be a {rank}D tensor, but got "
                           f"{t.dim()}D tensor")


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")


def _input_dtype(message: str, input: Tensor, *operands: Tensor) -> None:
    """PyTorch's addmm/addmv/baddbmm/addbmm take `input` in the operands' dtype, never
    promoting (a float64 input with float32 matrices raises); `message` is PyTorch's, filled
    with the dtypes' names (Double, Float ...) and their lower-case forms."""
    if any(t.dtype != input.dtype for t in operands):
        names = [_name(t) for t in (input, *operands)]
        raise RuntimeError(message.format(*names, *(n.lower() for n in names)))


def _scaled_sum(input: Tensor, product: Tensor, beta, alpha) -> Tensor:
    """beta * input + alpha * product, input broadcast to product's shape; beta == 0 never
    reads input's values (NaN and inf in it do not propagate)."""
    base = broadcast_to(input, tuple(product.shape))
    if isinstance(alpha, Tensor) or alpha != 1:   # NOTE: a 0-d tensor is not compared
        product = product * alpha
    if isinstance(beta, Tensor):   # traced, its value is unknown: 0 still ignores input
        return M.where(beta == 0, product, base * beta + product)
    if beta == 0:
        return product + base.masked_fill(fac.tensor(True), 0)
    return (base if beta == 1 else base * beta) + product


def _named(out: Tensor, torch_name: str) -> Tensor:
    """`out` of addmm, addmv ...: PyTorch's one node, where graphnet's last op is an add (or
    the cast back of a half-precision result)."""
    return _grad_fn_names.renamed(out, torch_name, "add", "cast")


def _add_product(input: Tensor, mats: tuple, product, beta, alpha) -> Tensor:
    """beta * input + alpha * product(*mats), as PyTorch's one kernel computes it: beta and
    alpha read in the result dtype (an integer addmm with alpha=2.5 scales by 2, and 300 is
    refused for int8), and a float16/bfloat16 one accumulated in float32 and rounded once
    (graphnet rounded the product, then the sum: 1 ulp off for a third of the outputs)."""
    from ._dtype_methods import result_type   # NOTE: it builds on _math

    kind = result_type(input, mats[0])
    beta = integral_scalar(beta, kind, opmath=True)
    alpha = integral_scalar(alpha, kind, opmath=True)
    if kind.name not in ("float16", "bfloat16") or input.dtype != kind:
        return _scaled_sum(input, product(*mats), beta, alpha)
    wide = [t.to(dt.float32) for t in mats]   # half products are exact in float32
    return _scaled_sum(input.to(dt.float32), product(*wide), beta, alpha).to(kind)


@autocast_as("lower")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), for 2-D mat1, mat2."""
    _need("addmm", mat1, 2, "mat1")
    _need("addmm", mat2, 2, "mat2")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    _same_dtype("addmm", mat1, mat2)
    _input_dtype("self and mat2 must have the same dtype, but got {0} and {2}", input, mat1,
                 mat2)
    return _named(_add_product(input, (mat1, mat2), M.matmul, beta, alpha), "AddmmBackward0")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (2-D only, as PyTorch's `mm`; `matmul` broadcasts)."""
    _need_matrix("self", input)
    _need_matrix("mat2", mat2)
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x"
                           f"{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return M.matmul(input, mat2)


def _need_matrix(what: str, t: Tensor) -> None:
    if t.dim() != 2:
        raise RuntimeError(f"{what} must be a matrix")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix products of two 3-D tensors with one batch size (no broadcasting)."""
    for what, t in (("batch1", input), ("batch2", mat2)):
        if t.dim() != 3:
            raise RuntimeError(f"{what} must be a 3D tensor")
    if (input.shape[0], input.shape[2]) != tuple(mat2.shape[:2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    return _grad_fn_names.renamed(M.matmul(input, mat2), "BmmBackward0", "matmul")


@autocast_as(None)
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A 2-D matrix times a 1-D vector."""
    # PyTorch checks it as addmv with a result of the matrix's rows as `input`
    _matrix_vector(input, vec, 1, input.shape[0] if input.dim() else 1)
    return M.matmul(input, vec)


def _matrix_vector(mat: Tensor, vec: Tensor, input_dim: int, input_len: int) -> None:
    if mat.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input_dim}, "
                           f"{mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input_len}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")


def _batches(name: str, b1: Tensor, b2: Tensor) -> None:
    _need(name, b1, 3, "batch1")
    _need(name, b2, 3, "batch2")
    if (b1.shape[0], b1.shape[2]) != tuple(b2.shape[:2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b1.shape[0]}, {b1.shape[2]}] but got: [{b2.shape[0]}, "
                           f"{b2.shape[1]}].")


@autocast_as("lower")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch (3-D batches)."""
    _batches("baddbmm", batch1, batch2)
    _input_dtype("Input dtypes must be the same, got: input {3}, batch1: {4}, batch2: {5}",
                 input, batch1, batch2)
    return _named(_add_product(input, (batch1, batch2), M.matmul, beta, alpha),
                  "BaddbmmBackward0")


@autocast_as("lower")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum over b of batch1[b] @ batch2[b]."""
    _batches("addbmm", batch1, batch2)
    _input_dtype("self and mat2 must have the same dtype, but got {0} and {2}", input, batch1,
                 batch2)
    half = batch1.dtype.name in ("float16", "bfloat16") and input.dtype == batch1.dtype
    if not half:
        return _named(_add_product(input, (batch1, batch2),
                                   lambda a, b: M.sum(M.matmul(a, b), 0), beta, alpha),
                      "AddbmmBackward0")
    # NOTE: PyTorch's kernel is a loop of addmm_ over the batches, each rounded to half; a
    # sum of the products rounded once was 1 ulp off for a sixth of the outputs
    out = _add_product(input, (batch1[:0], batch2[:0]),
                       lambda a, b: M.sum(M.matmul(a, b), 0), beta, 1)
    for b in range(batch1.shape[0]):
        out = _add_product(out, (batch1[b], batch2[b]), M.matmul, 1, alpha)
    return _named(out, "AddbmmBackward0")


@autocast_as(None)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec), for 2-D mat and 1-D vec."""
    _matrix_vector(mat, vec, input.dim(), input.shape[0] if input.dim() else 1)
    _input_dtype("addmv input tensors must have the same dtype, but got {0}, {1}, and {2}",
                 input, mat, vec)
    return _named(_add_product(input, (mat, vec), M.matmul, beta, alpha), "AddmvBackward0")


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[i] * vec2[j] for 1-D tensors: the [n, m] outer product (`ger` too)."""
    for what, t in (("self", input), ("vec2", vec2)):
        if t.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {what}, but got {t.dim()}-D")
    return L.reshape(input, -1, 1) * L.reshape(vec2, 1, -1)


ger = outer


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    for what, t in (("vec1", vec1), ("vec2", vec2)):
        if t.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-d argument {what}, but got {t.dim()}-d")
    product = outer(vec1, vec2)
    if product.dtype == dt.bool_ and input.dtype == dt.bool_:
        # PyTorch's bool addr: (beta and input) or (alpha and vec1 x vec2)
        base = broadcast_to(input, tuple(product.shape))
        return M.logical_or(M.logical_and(base, fac.tensor(bool(beta))),
                            M.logical_and(product, fac.tensor(bool(alpha))))
    if not product.dtype.is_floating_point and not input.dtype.is_floating_point:
        for what, scale in (("alpha", alpha), ("beta", beta)):
            if isinstance(scale, float):
                raise RuntimeError(f"For integral input tensors, argument {what} must not be "
                                   f"a floating point number.")
    return _named(_scaled_sum(input, product, beta, alpha), "AddrBackward0")


@autocast_as(None)
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The 0-d sum of input * tensor, for two 1-D tensors of one size and dtype."""
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D "
                           f"tensors")
    if input.dtype != tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_name(input)} and {_name(tensor)}")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and "
                           f"src [{tensor.shape[0]}] to have the same number of elements, but "
                           f"got {input.shape[0]} and {tensor.shape[0]} elements respectively")
    return M.matmul(input, tensor)


vdot = dot   # real tensors: conjugating the first is a no-op


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over `dims`: an int n contracts a's last n dims with b's first n; a
    pair of lists names the dims of a and b to contract, in matching order. (`out=`:
    graphnet/_out_argument.py.)"""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        dims_a, dims_b = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    dims_a = [wrap_dim(d, a.dim()) for d in dims_a]
    dims_b = [wrap_dim(d, b.dim()) for d in dims_b]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    sub_a = [next(letters) for _ in range(a.dim())]
    sub_b = [next(letters) for _ in range(b.dim())]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} "
                               f"in dim {db}")
        sub_b[db] = sub_a[da]
    kept = [s for i, s in enumerate(sub_a) if i not in dims_a] + \
        [s for i, s in enumerate(sub_b) if i not in dims_b]
    equation = f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(kept)}"
    return M.einsum(equation, a, b)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dim of both (a 0-d argument multiplies instead)."""
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other."""
    rank = max(input.dim(), other.dim())
    shape_a = (1,) * (rank - input.dim()) + tuple(input.shape)
    shape_b = (1,) * (rank - other.dim()) + tuple(other.shape)
    a = L.reshape(input, tuple(s for d in shape_a for s in (d, 1)))
    b = L.reshape(other, tuple(s for d in shape_b for s in (1, d)))
    return L.reshape(a * b, tuple(x * y for x, y in zip(shape_a, shape_b)))


def _cross(name: str, input: Tensor, other: Tensor, dim) -> Tensor:
    if input.dim() != other.dim():
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    input, other = broadcast_tensors(input, other)
    if dim is None:
        found = [d for d, s in enumerate(input.shape) if s == 3]
        if not found:
            raise RuntimeError("no dimension of size 3 in input")
        dim = found[0]
    dim = wrap_dim(dim, input.dim())
    if input.shape[dim] != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim]} and {other.shape[dim]}")
    if input.dtype != other.dtype:   # PyTorch's kernel takes one dtype; it promotes neither
        raise RuntimeError(f"expected scalar type {type_name(input.dtype)} but found "
                           f"{type_name(other.dtype)}")
    shifted = [(L.roll(t, -1, dim), L.roll(t, -2, dim)) for t in (input, other)]
    (a1, a2), (b1, b2) = shifted
    return a1 * b2 - a2 * b1


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The 3-vector cross product along `dim` (default: the first dim of size 3)."""
    return _cross("linalg.cross", input, other, dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """`torch.linalg.cross`: `cross` along `dim` (default the last), with broadcasting."""
    return _cross("linalg.cross", input, other, dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices (the first and last may be 1-D vectors)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        edge = i in (0, len(tensors) - 1)
        if t.dim() != 2 and not (edge and t.dim() == 1):
            where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            raise RuntimeError(
                f"multi_dot(): the {where} tensor must be 1D or 2D but got {t.dim()}D"
                if where else f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    result = tensors[0]
    for t in tensors[1:]:
        result = M.matmul(result, t)
    return result


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices (deprecated in PyTorch for linalg.multi_dot, which also
    takes 1-D ends; this one refuses them, as PyTorch's does)."""
    for t in matrices:
        if t.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {t.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(matrices)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """input @ input @ ... (n times) for square matrices (batches too); n = 0 is the
    identity, a negative n powers the inverse."""
    if input.dim() < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {input.shape[-2] if input.dim() > 1 else 1} by "
                           f"{input.shape[-1] if input.dim() else 1} matrices")
    if not hasattr(n, "__index__"):   # an int, a NumPy integer, a 0-d integer tensor
        raise TypeError(f"matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")   # a float exponent was rounded silently
    n = int(n)
    if n == 0:
        eye = broadcast_to(fac.eye(input.shape[-1], dtype=input.dtype), tuple(input.shape))
        if input.requires_grad:
            # PyTorch's identity still hangs off the input (zero gradient, a grad_fn);
            # `where` keeps it so without letting a NaN or inf in the input into the value.
            return M.where(fac.tensor(True), eye, input)
        return eye.clone()
    if n < 0:
        from .linalg import inv
        input, n = inv(input), -n
    result, base = None, input
    while n:   # binary powering, as PyTorch: log2(n) products
        if n & 1:
            result = base if result is None else M.matmul(result, base)
        n >>= 1
        if n:
            base = M.matmul(base, base)
    return result


addmm, addbmm, baddbmm, addmv, addr = map(beta_alpha_first, (addmm, addbmm, baddbmm, addmv,
                                                             addr))   # deprecated overloads

__all__ = ["mm", "bmm", "mv", "addmm", "addbmm", "baddbmm", "addmv", "addr", "outer", "ger",
           "dot", "vdot", "tensordot", "inner", "kron", "cross", "chain_matmul", "matrix_power"]
